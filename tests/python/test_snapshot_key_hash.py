"""A snapshot that stores its key's hash finds the current rows it closes by that hash
(macros/snapshot_staging.sql). Upgrading a production snapshot adds the column: dbt fills it only
in the rows it inserts from then on, so the rows kept before must get their hash too, or their
key's next version would leave them current beside it.

A throwaway project snapshots a three-phase model: first without the hash column, then with it
and a new version of one key, then a new version of the other key, whose current row is from
the first phase.
"""

from __future__ import annotations

import duckdb
import pytest

from durable import dbt
from throwaway import macro_project

pytestmark = pytest.mark.slow

VERSIONS = """
select id, status, cast(updated_at as timestamp) as updated_at
    {%- if var('phase') > 1 %}, {{ durable.key_hash('id') }} as _id_hash{% endif %}
from (values
    ('a', 'placed', '2018-09-01 08:00:00'),
    ('b', 'placed', '2018-09-01 08:00:00')
    {%- if var('phase') > 1 %}, ('b', 'shipped', '2018-09-02 08:00:00'){% endif %}
    {%- if var('phase') > 2 %}, ('a', 'shipped', '2018-09-03 08:00:00'){% endif %}
) as versions(id, status, updated_at)
qualify row_number() over (partition by id order by updated_at desc) = 1
"""

SNAPSHOT = """
{% snapshot snap %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select * from {{ ref('versions') }}
{% endsnapshot %}
"""


def test_a_snapshot_that_gains_the_key_hash_keeps_one_current_row_per_key(tmp_path) -> None:
    settings = macro_project(tmp_path, {"versions": VERSIONS})
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "snap.sql").write_text(SNAPSHOT)
    for phase in (1, 2, 3):
        outcome = dbt.invoke(settings, ["build"], {"phase": phase}, quiet=True)
        assert outcome.success, [(n.unique_id, n.message) for n in outcome.with_status("error")]

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        current = con.execute(
            "select id, status from analytics.snap where dbt_valid_to is null order by id"
        ).fetchall()
        versions = con.execute("select count(*) from analytics.snap").fetchone()[0]
        unhashed = con.execute(
            "select count(*) from analytics.snap where _id_hash is null"
        ).fetchone()[0]
    assert current == [("a", "shipped"), ("b", "shipped")], "one current row per key, the latest"
    assert versions == 4
    assert unhashed == 0, "the rows kept before the column existed get their hash"
