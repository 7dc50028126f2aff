-- Every data line of every loaded delivery is either loaded (a valid row, possibly held) or
-- quarantined with a reason: none is lost. Rejected files are excluded: they load nothing and
-- fail the run themselves.
select *
from {{ ref('delivery_accounting') }}
where
    file_status <> 'rejected'
    and rows_delivered <> rows_loaded + rows_quarantined
