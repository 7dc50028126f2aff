-- Every record of every delivery is either loaded (a valid row, possibly held) or quarantined
-- with a reason: none is lost. A file quarantined whole counts all its records as quarantined.
-- Held and reported files are not deliveries (yet) and carry no counts.
select
    source_file,
    entity,
    delivery_date,
    file_status,
    rows_delivered,
    rows_loaded,
    rows_quarantined
from {{ ref('delivery_accounting') }}
where
    file_status in ('loaded', 'replaced', 'quarantined')
    and rows_delivered <> rows_loaded + rows_quarantined
