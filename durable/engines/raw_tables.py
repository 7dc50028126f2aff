"""The raw tables and the loader's ledger tables, in SQL that DuckDB and PostgreSQL both take.

Spark writes the same columns as parquet, partitioned by landing file (its loader has them). The
ledger's formats are read by the dbt package's accounting models and by `published_files`:
change them only together.
"""

from __future__ import annotations

from durable.landing.quoting import quote_identifier as quote
from durable.sources import SourceTable

LINEAGE_COLUMNS_DDL = (
    "_source_file varchar not null, _delivery_date date not null, "
    "_row_number bigint not null, _loaded_at timestamp not null"
)
LEDGER_COLUMNS_DDL = (
    "source_file varchar primary key, entity varchar not null, delivery_date date not null, "
    "size_bytes bigint not null, mtime_ns bigint not null, sha256 varchar not null, "
    "status varchar not null, rows_delivered bigint not null, rows_loaded bigint not null, "
    "rows_rejected bigint not null, message varchar, loaded_at timestamp not null"
)
FINDINGS_COLUMNS_DDL = (
    "path varchar not null, entity varchar, delivery_date date, status varchar not null, "
    "reason varchar not null, seen_at timestamp not null"
)
REJECTED_COLUMNS_DDL = (
    "entity varchar not null, _source_file varchar not null, _delivery_date date not null, "
    "_row_number bigint not null, raw_line varchar, error_type varchar, "
    "error_message varchar, _loaded_at timestamp not null"
)
LEDGER_TABLES = {
    "_landed_files": LEDGER_COLUMNS_DDL,
    "_rejected_rows": REJECTED_COLUMNS_DDL,
    "_landing_findings": FINDINGS_COLUMNS_DDL,
}
# Files rejected before the file-level quarantine existed were quarantined in all but name.
RENAME_REJECTED = "update {ledger} set status = 'quarantined' where status = 'rejected'"


def raw_table_columns(table: SourceTable) -> str:
    """Every declared column as text (staging types them), then the lineage."""
    columns = ", ".join(f"{quote(c)} varchar" for c in table.columns)
    return f"{columns}, {LINEAGE_COLUMNS_DDL}"
