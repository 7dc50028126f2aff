"""The page's Findings: which targets were missed and where the incremental day's time goes.

Besides the figures of this run, they quote what was measured outside the benchmark (profiles,
paired runs of variants) and in earlier reports: those parts are fixed text.
"""

from __future__ import annotations

import statistics

from .history import FCT_ITEMS
from .summary import node_count, node_medians


def _copy_finding(runs: dict, results: dict, copy: float, runner: float, full: float) -> list[str]:
    size = runs["runner"][0]["database_bytes"] / 2**30
    byte_copy = results.get("byte_copy_seconds")
    method = runs["runner"][0].get("copy_method") or "copy"
    place = results["machine"].get("warehouse filesystem", "?")
    if method == "reflink" and byte_copy is not None:
        with_bytes = runner - copy + byte_copy
        return [
            f"- **The audit copy: {copy:.2f} s, a reflink** on {place}: the filesystem shares",
            f"  the {size:.1f} GiB file's extents and copies only the blocks the run writes, so",
            "  write-audit-publish no longer grows with the history. A byte copy of the same",
            f"  file (what ext4 or tmpfs would do) took {byte_copy:.1f} s here: the run would be",
            f"  {with_bytes:.1f} s, {100 * with_bytes / full:.1f}% of the full refresh. Keep a",
            "  production DuckDB warehouse on XFS or Btrfs (README, the runner).",
            *(
                [
                    "  Here the XFS filesystem is an image on a loop device, on the same disk as",
                    "  the rest of the benchmark, so its figures compare with the byte copy's.",
                ]
                if "/dev/loop" in place
                else []
            ),
        ]
    return [
        f"- **The audit copy: {copy:.1f} s, {100 * copy / runner:.0f}% of the run**, a byte copy"
        f" of the whole {size:.1f} GiB file on {place}, which has no reflinks: it grows with",
        "  the history. On XFS or Btrfs the runner reflinks the file instead",
        "  (`durable/clone.py`) and the copy takes milliseconds; run the benchmark with",
        "  `--rundir` on such a filesystem to measure it.",
    ]


def _extra_over_floor(runs: dict, top: int = 6) -> str:
    """The nodes whose median time grows most from the no-op floor to the day's run."""
    floor = node_medians(runs["noop"])
    extra = {
        node: seconds - floor.get(node, 0.0)
        for node, seconds in node_medians(runs["runner"]).items()
    }
    largest = sorted(extra.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"`{node.rsplit('.', 1)[-1]}` +{seconds:.1f} s" for node, seconds in largest)


def _paired(runs: dict, orders: list[list[str]]) -> str:
    """Runner / plain within each repeat, with the step that went first in it."""
    return ", ".join(
        f"{runner['seconds'] / plain['seconds']:.2f}"
        + (f" ({orders[index][0]} first)" if index < len(orders) else "")
        for index, (runner, plain) in enumerate(zip(runs["runner"], runs["plain"], strict=False))
    )


def _full_refresh_caveat(full: float, runner: float, first: dict) -> list[str]:
    """2/1 against the full refreshes of earlier reports (fixed figures: the same history)."""
    earlier = {
        "the previous report (its 1x took 29.1 s)": 222.1,
        "the one before (a slower day: its 1x took 34.6 s)": 260.4,
        "the one before that (without the key hash)": 212.2,
    }
    fastest = min(full, *earlier.values())
    verdict = (
        "under the 5% target against any of them."
        if runner / fastest <= 0.05
        else "at the 5% target rather than clearly under it."
    )
    return [
        f"2/1 depends on the full refresh as much as on the day: it took {full:.0f} s in this",
        f"run (the 1x history's {first['full'][0]:.1f} s), "
        + ", ".join(f"{seconds:.0f} s in {which}" for which, seconds in earlier.items())
        + ".",
        f"Against the fastest of those the same day's run is at {runner / fastest:.3f}: {verdict}",
        "",
    ]


def _key_hash_fix() -> list[str]:
    """The key hash, measured outside this benchmark (cold runner runs on a reflink of the
    four-year history, the new code and the code before it in turn), so fixed text."""
    return [
        "- keys are looked up by a stored hash (`macros/key_lookup.sql`): staging and the",
        "  facts keep `key_hash(<key>)` (`_order_id_hash`, `_order_item_id_hash`), and on",
        "  DuckDB a lookup reads that one column to find the matching rowids, then whole rows",
        "  only in the row groups holding them (the scan skips the others by rowid), and",
        "  compares the keys themselves there. The ids are random UUID text, which no min/max",
        "  can prune: `order_id in (...)` decompressed and hashed every id of a 9-14M-row",
        "  table and read every other column of every row. Finding the window's items in",
        "  `stg_jaffle__items` took 0.78 s cold and 0.33 s warm that way, 0.16 and 0.06 s by",
        "  the hash (alone, on this history). The facts' lookups of their parents, staging's",
        "  kept versions and its delete (`hash_delete_insert`), the snapshot's current rows,",
        "  the quarantine's orders, the facts' MERGE and the window's relationships test of",
        "  the items to their orders go through it. In paired cold runs on",
        "  this history the runner took 11.1-11.5 s against 12.0-12.1 s with the facts' and",
        "  the quarantine's lookups alone, 9.3-9.8 s against 12.1-12.3 s with staging's and",
        "  the snapshot's too (staging 0.5 s a model instead of 1.8-2.4 s), and 9.3-9.5 s",
        "  against 12.2-12.4 s with the MERGE's as well (`fct_orders` 0.8-1.1 s instead of",
        "  2.2-2.9 s; the relationships test came after). Computing the hashes adds little",
        "  to a full refresh (217-229 s, one run each, against 212 s in the report before).",
    ]


def _rollup_and_lookup_fixes() -> list[str]:
    """dim_customers' monthly rollup, fct_order_items' lookup and the snapshot's merge,
    measured outside this benchmark (runner runs and single statements on a reflink of the
    four-year history, profiled from dbt's log and `EXPLAIN ANALYZE`), so fixed text."""
    return [
        "- `dim_customers` sums a monthly rollup instead of every order. A day's orders touch",
        "  most customers (14,880 of 24,720 on the history's last day, 18,800 over a window",
        "  with its lookback), so recomputing the changed customers would have read most of",
        "  the history again, while the months a day touches are the last one or two.",
        "  `int_orders_summed_to_customer_months` (654k rows at 8x, one per customer and",
        "  month with an order) recomputes the window's months whole (delete+insert on",
        "  `order_month`) and `dim_customers` sums it: about 0.3 s and 0.2 s in the day's",
        "  run, where `dim_customers` took 1.40 s in the report before the rollup;",
        "- `fct_order_items` looked its items' orders up by key hash, but DuckDB's join-order",
        "  optimizer folded that lookup into the join with the items and read every row group",
        "  of `stg_jaffle__orders`, its rowid filter gone (0.8 s, found with `EXPLAIN ANALYZE`",
        "  of the model's compiled SQL). The lookup is now a CTE of its own",
        "  (`materialized_cte()`): the model's select took 0.8 s cold instead of 1.4 s, the",
        "  node 1.0-1.2 s in the day's run instead of 2.0-2.3 s;",
        "- the snapshot closes replaced versions among the current versions of the staged",
        "  keys, found by the key hash in a CTE of their own. A first version put that lookup",
        "  into dbt-duckdb's update as a rowid filter, but DuckDB's optimizer still joined the",
        "  scd id of every version kept before applying it (77 of 77 row groups in",
        "  `EXPLAIN ANALYZE`): 0.44 s cold at 9.4M versions with the filter or without. In",
        "  its own CTE the lookup leaves one row group to read: 0.15 s cold, and in the day's",
        "  run the merge statement took 0.08 s instead of 0.57 s, the node 0.5 s instead of",
        "  1.2 s. The merge first fills in the hash of rows kept before the snapshot had the",
        "  column (an upgraded production), which a lookup by hash would otherwise miss.",
    ]


def _storage_finding() -> list[str]:
    """Why the previous report's chart rose more than this one's: measured outside this
    benchmark (cold runner runs on reflinks of the 1x and 8x histories), so fixed text."""
    return [
        "  The warehouse here lives on XFS in a file image (a loop device, for reflinks).",
        "  Until this report the device read its image through the page cache, so a step's",
        "  file, evicted before the step, was often still cached underneath: all of the 1x",
        "  history, part of the 8x one beside the benchmark's other files. The previous",
        "  report's 1.3x (6.92 s at 1x, 9.08 s at 8x) compared a warm run with a partly cold",
        "  one; the same 8x state took 8.4-8.5 s cached and 9.8 s after dropping every cache.",
        "  The device now reads the image directly (`losetup --direct-io=on`; the machine",
        "  table says which), so every size starts from the disk alike: outside the",
        "  benchmark, before this report's snapshot change, cold runs took 7.13-7.22 s at 1x",
        "  and 8.25-8.86 s at 8x (1.2x). A first full run of this benchmark with the device",
        "  reading directly, on these models (before the MERGE step's eviction, which no",
        "  runner figure depends on), measured 6.91 s at 1x and 8.42 s at 8x: 1.22x. The",
        "  flat verdict above rests on a few hundredths either way.",
    ]


def _key_scan_trials() -> list[str]:
    """What else was tried against the key scans: measured outside this benchmark (cold runner
    runs on a reflink of the four-year history, the variants in turn), so fixed text."""
    return [
        "  Tried against the key scans before the key hash, outside this benchmark, on this",
        "  history (runner runs cold on a reflink of it, the variant and the code of then in",
        "  turn), none adopted:",
        "  - where the scans were: run alone, `fct_orders` looked its window's orders up in",
        "    `stg_jaffle__orders` (1.4 CPU-s) and their items in `stg_jaffle__items` (1.2),",
        "    and its MERGE matched them in its own table (0.9); `fct_order_items` did the same",
        "    two lookups (1.7, 1.3) and its MERGE (1.4). That was 7.8 CPU-s, of about 23 the",
        "    whole runner process used (19.4 s user, 3.3 s system in 15.2 s: 149% of two",
        "    cores; otherwise a core waits for the audit copy's first reads, or for dbt's",
        "    Python, which runs on one core);",
        "  - keys stored uncompressed (`disabled_compression_methods`, on a copy of",
        "    `stg_jaffle__orders`): a warm lookup of the window's orders took 0.11 s against",
        "    0.32-0.40 s, a cold one 0.70 s either way. DuckDB has no per-column setting,",
        "    so every string went uncompressed: the full refresh ran out of memory at",
        "    3500MB, with the file at 15 GB (6.7 GB finished, compressed);",
        "  - the MERGEs bounded by order time (`incremental_predicates`:",
        "    `target_rows.ordered_at = source_rows.ordered_at` on both facts, so the match",
        "    scan skips row groups of the time-ordered targets by their min/max): the runner",
        "    took 12.9, 12.1 and 11.4 s against 14.5, 14.4 and 12.4 s, about 1.3 s less, or",
        "    2/1 near 0.057. Not safe as it stands: an order whose `ordered_at` is corrected",
        "    would get a second row, and the window's `unique` test does not see the old",
        "    one. It needs `ordered_at` to be immutable and enforced in staging first;",
        "  - dbt with 4 threads instead of 2: 12.3 and 12.7 s against 12.3, 12.6 and 13.0 s;",
        "    models first, then the tests (no test waits between models): dbt took 10.8 and",
        "    13.5 s against 9.9 and 11.4 s for one `dbt build`. The day waits on its chain",
        "    of models (base, staging, facts, snapshot) and on the cores, not on dbt's",
        "    scheduling.",
    ]


def _overhead_finding(runs: dict, plain: float, orders: list[list[str]]) -> list[str]:
    own = ("audit copy", "publish", "rows changed", "runner (lock, ledger, rest)")
    runner_own = statistics.median(
        sum(r["phases"].get(phase, 0.0) for phase in own) for r in runs["runner"]
    )
    runner_dbt = statistics.median(r["phases"]["dbt build"] for r in runs["runner"])
    plain_dbt = statistics.median(r["phases"]["dbt build"] for r in runs["plain"])
    head = (
        f"- **The runner's own work** (audit copy, ledger, publish) took {runner_own:.2f} s,"
        f" {100 * runner_own / plain:.1f}% of the plain run. Runner / plain within each"
        f" repeat: {_paired(runs, orders)}."
    )
    builds = f"{runner_dbt:.1f} s in the runner against {plain_dbt:.1f} s in plain (medians)"
    if runner_dbt <= plain_dbt:
        return [head, f"  dbt's build took {builds}: the same work, within the noise."]
    reflinked = runs.get("plain_reflink")
    if not reflinked or reflinked[0].get("copy_method") != "reflink":
        return [
            head + " The rest of the difference between",
            f"  the two is in dbt's build: {builds}. Identical builds vary by that much here;",
            "  the reflinked copy's first writes also cost the filesystem a copy of each block.",
            "  The two are not separated here.",
        ]
    reflinked_dbt = statistics.median(r["phases"]["dbt build"] for r in reflinked)
    copy_on_write = round(reflinked_dbt - plain_dbt, 1) + 0.0  # no "-0.0"
    node_sums = [sum(node_medians(runs[step]).values()) for step in ("runner", "plain")]
    return [
        head + " The rest of the difference between",
        f"  the two is in dbt's build: {builds}. The same plain build on a reflink of its",
        f"  file, as the runner builds in its audit copy, took {reflinked_dbt:.1f} s: the",
        f"  filesystem's copy-on-write of each block first written accounts for"
        f" {copy_on_write:+.1f} s,",
        f"  the runner's build over that build {runner_dbt - reflinked_dbt:+.1f} s (noise here is"
        " of that order).",
        f"  The nodes' own times sum to {node_sums[0]:.1f} s in the runner and {node_sums[1]:.1f}"
        " s in plain; the rest of the wall time is dbt's start-up, its scheduling and the end.",
    ]


def _merge_finding(summary: dict, runs: dict) -> list[str]:
    merge = summary["merge"]
    dbt_runs = ", ".join(f"{r['merge_seconds']:.2f}" for r in runs["merge_dbt"])
    raw_runs = ", ".join(f"{r['merge_seconds']:.2f}" for r in runs["raw"])
    return [
        f"- **dbt's MERGE statement against the raw one**: {merge['dbt']:.2f} s against"
        f" {merge['raw']:.2f} s (medians; dbt's runs {dbt_runs} s, raw {raw_runs} s). The",
        "  raw step replays dbt's temp relation and MERGE in one transaction, as dbt runs",
        "  them. With the MERGE under a second, a few tenths of a second from",
        "  run to run decide the ratio; what separates dbt's statement from the raw one at",
        "  that scale was not traced further.",
        *_merge_node_finding(runs),
    ]


def _merge_node_finding(runs: dict) -> list[str]:
    """Where dbt's node time goes beside the two statements the raw step replays."""
    dbt_runs = [r for r in runs["merge_dbt"] if r.get("create_seconds") is not None]
    if not dbt_runs or "create_seconds" not in runs["raw"][0]:
        return []
    creates = ", ".join(f"{r['create_seconds']:.2f}" for r in dbt_runs)
    raw_creates = ", ".join(f"{r['create_seconds']:.2f}" for r in runs["raw"])
    others = statistics.median(
        r["statements_seconds"] - r["create_seconds"] - r["merge_seconds"] for r in dbt_runs
    )
    outside = statistics.median(r["node_seconds"] - r["statements_seconds"] for r in dbt_runs)
    return [
        "- **dbt's node against the raw temp relation and MERGE**: the node's temp relation",
        f"  took {creates} s, the raw step's {raw_creates} s; dbt's"
        f" {dbt_runs[0]['statements'] - 2} other statements (metadata queries, begin, commit)",
        f"  {others:.2f} s and its own work around them {outside:.2f} s (medians). The slowest",
        "  of the node's temp relations lift the node ratio; the raw step runs the same",
        "  statement on the same state, out of the page cache as well.",
    ]


def _parse_overlap(runs: dict) -> str:
    parses = [r["parse_seconds"] for r in runs["runner"] if "parse_seconds" in r]
    if not parses:
        return ""
    waited = statistics.median(r["phases"].get("dbt parse", 0.0) for r in runs["runner"])
    return (
        f" ({statistics.median(parses):.2f} s of parse, {waited:.2f} s of it after the load;"
        " medians)"
    )


def _floor_finding(noop: float, runner: float, full: float, nodes: int) -> list[str]:
    if noop / full > 0.05:
        return [
            f"- **2/1 cannot reach 5% here** while the floor alone is {100 * noop / full:.1f}%"
            f" of the full refresh: dbt's start-up and {nodes} nodes cost seconds however small"
            " the window."
        ]
    return [
        f"- **The floor is {100 * noop / full:.1f}% of the full refresh** and the day's run"
        f" {100 * runner / full:.1f}%: dbt's start-up, {nodes} nodes and the window's recompute",
        "  are most of an incremental day.",
    ]


def findings(summary: dict, runs: dict, results: dict) -> list[str]:
    """Which targets were missed, and where the incremental run's time goes."""
    missed = [r for r in summary["ratios"] if not r["met"]]
    if not summary["peak_memory"]["met"]:
        missed.append({"name": "peak memory", "value": summary["peak_memory"]["value"] / 2**30})
    times, phases = summary["times"], summary["phases"]
    full = times["1. full refresh (dbt build --full-refresh)"]
    runner = times["2. incremental: runner, one day"]
    noop = times["3. floor: no-op dbt build, same window"]
    plain = times["4. plain: load + dbt build, one day"]
    load, build = phases.get("load", 0.0), phases.get("dbt build", 0.0)
    growth = results["growth"]
    first, last = growth[0], growth[-1]
    runner_first = statistics.median(first["runner"])
    runner_last = statistics.median(last["runner"])
    memory_limit = results["machine"].get("duckdb memory_limit", "?")
    snapshot = node_medians(runs["runner"]).get("snapshot.jaffle_shop.snap_order_status", 0.0)
    plain_load_and_parse = statistics.median(
        r["phases"]["load"] + r["phases"].get("dbt parse", 0.0) for r in runs["plain"]
    )
    rows = results["rows_history"]
    key_tables = f"{rows['analytics.fct_orders'] / 1e6:.0f}-{rows[FCT_ITEMS] / 1e6:.0f}M-row"
    nodes = node_count(runs["noop"])
    return [
        "## Findings",
        "",
        "Missed targets in this run: "
        + (", ".join(f"{r['name']} ({r['value']:.3f})" for r in missed) or "none")
        + ".",
        "",
        *_full_refresh_caveat(full, runner, first),
        "What was fixed to get here (the same script before, at 892k order items: one",
        "incremental day took 129 s against a full refresh of 131 s, 0.99x, because every",
        "daily build re-ranked and re-tested the whole history). The figures quoted in these",
        "bullets were measured on the history earlier reports used, one year of jafgen at",
        "scale 96 (10.4M order items, a new day of 0.4%):",
        "",
        "- staging is incremental: `base_` models append the newly loaded files, `stg_` models",
        "  re-rank only keys with a new version (`macros/incremental_staging.sql`);",
        "- `stg_` models rank a key's new versions against the version they keep, not against",
        "  every version of the key in the `base_` model: the daily run reads the model's own",
        "  table (7M orders) instead of every version ever delivered (15M), and only where a",
        "  key's kept version came from a re-delivered file are all its versions ranked again.",
        "  `stg_jaffle__orders` took 3.3 s in the day's run before (cold), 0.8 s after; its",
        "  select 1.2 s before, 0.6 s after (in isolation, same state);",
        "- the daily audit tests the window's rows (`macros/audit_window.sql`); a full refresh",
        "  still tests everything;",
        "- snapshots read only versions loaded since their last run; the quarantine and the",
        "  per-file accounting are maintained per window instead of rebuilt;",
        "- the incremental marts' import CTEs are `NOT MATERIALIZED` (DuckDB materialized them,",
        "  copying all of `stg_jaffle__items` and `stg_jaffle__orders` before any filter), and",
        "  `fct_order_items` joins only the changed items to their orders;",
        "- the audit copy is a reflink where the filesystem can share extents (XFS, Btrfs:",
        "  `durable/clone.py`). On ext4 it was a byte copy of the whole file, 12 s of a 42 s",
        "  run at this size in the previous report;",
        "- each step keeps its own dbt target folder, as a daily job does, so dbt's partial",
        "  parsing holds from one run to the next (the runner parses once without the window",
        "  vars, `durable/dbt.py`). Steps sharing one folder re-parsed the whole project",
        "  (about 3 s) whenever the profile's database path changed between them;",
        "- the loader reads the ledger of landed files once, not once per landed file;",
        f"- DuckDB's `memory_limit` is {memory_limit}: the full refresh then peaks below 4 GiB",
        "  (4GB let it reach 4.2 GiB resident; 3GB ran out of memory flushing `fct_orders`).",
        "  Without margin: one of nine 10M full refreshes at 3500MB on this machine ran out",
        "  of memory in `fct_orders` (dbt builds two large models at once on two threads);",
        "  4GB never did;",
        "- dbt's MERGE is timed with the model run alone: inside `dbt build` it shared the two",
        "  cores with other nodes, which made it look several times slower than the raw",
        "  statement;",
        "- `fct_orders` and `fct_order_items` are written in time order by a full refresh",
        "  (`macros/physical_order.sql`; daily runs append, so the order holds) and carry no",
        "  `primary_key` constraint (`not_null`, the contract's types and the `unique` test",
        "  stay). A day's changes are to recent orders. In key order (random ids) they touched",
        "  every row group, and DuckDB rewrites each touched row group at the next",
        "  checkpoint; with the key's index, every update also went through the index. One",
        "  without the other changed nothing: time order alone was tried and taken back in",
        "  the previous report, and dropping the index alone moved the cost from the MERGE",
        "  to the commit. Both together: the MERGE of one day into `fct_orders` with its",
        "  commit and checkpoint took 0.65 s instead of 3.3-3.6 s (in isolation, same",
        "  state), and the full refresh no longer builds a 10M-key index;",
        "- staging finds withdrawn versions (rows of re-delivered files) by a join from the",
        "  few replaced files; a correlated `EXISTS` per kept row made DuckDB copy all 10M",
        "  kept rows first, and the post-hook hashed every delivered row, about 1 s per",
        "  model with no file replaced;",
        "- `fct_order_items` finds the window's items that changed or arrived by a scan that",
        "  skips blocks by delivery date, and the items of changed orders by a semi-join that",
        "  DuckDB filters inside the scan. It used to take three passes over the items, then",
        "  one left join of every item to the changed orders; the select now takes 0.71 s",
        "  instead of 0.91 s (warm, in isolation, same state);",
        "- `row_hash`, which lets a MERGE skip unchanged rows, is DuckDB's `hash()` of the",
        "  typed values instead of `md5` of their text (`macros/row_hash.sql`). Computing it",
        "  took 0.37 s of `fct_order_items`' select and 0.25 s of `fct_orders`' (warm); it is",
        "  ten times cheaper now. The full refresh's duplicate checks in the `base_` models",
        "  use it too;",
        "- `stg_jaffle__orders` and `__items` are written in delivery order too, and the",
        "  window's filter (`changed_in_window`) carries a delivery-date bound a scan can",
        "  prune by (a valid row is delivered at most two days before it changes): looking",
        "  for the window's changes reads the last blocks, not every row's timestamps;",
        "- snapshots compare the new versions with the current rows of their keys only",
        "  (`macros/snapshot_staging.sql`): dbt's own query materialized and hashed every",
        "  current row, 1.5-2 s at 7M orders (0.2 s now, in isolation, same state). On a run",
        "  with no new version (the floor: a re-run, a day without deliveries) one query finds",
        "  there is none and no current row is read: 2.4 s before, 0.1 s after;",
        "- each step starts with nothing left to write back from the step before (`sync`):",
        "  the first step after a full refresh otherwise paid for gigabytes of its write-back;",
        "- a window builds what its deliveries feed, what the project changed since the",
        "  production manifest (`state:modified+`) and the sources' tests",
        "  (`durable/selection.py`); plain and the floor run the same selection. A day that",
        "  delivers orders and items ran 93 of 160 nodes: it leaves the stores, products and",
        "  supplies models, the customers' staging and snapshot and their tests alone, whose",
        "  tables the audit copy holds, tested. In three paired cold runs on the same state",
        "  (outside this benchmark) the runner took 9.8-10.5 s instead of 12.0-12.3 s",
        "  building everything;",
        "- unit tests run, all of them, on the first build of each version of the code (a",
        "  fingerprint of every file dbt parsed and the environment variables they read, the",
        "  project and profile files, the target and the versions of dbt and DuckDB), and are",
        "  left out on code they passed on in production (`durable/selection.py`): their",
        "  inputs are fixtures, so they could only repeat their result, and dbt Labs",
        "  recommends leaving them out of production builds.",
        "  The day's run drops its 5 unit tests (0.85 node-s in the previous report, 0.6 s on",
        "  the way to `stg_jaffle__orders`); in three paired cold runs on the same state",
        "  (outside this benchmark) the runner took 10.6-11.2 s instead of 10.7-13.2 s",
        "  (medians 10.7 and 11.5 s);",
        "- the runner's parse writes no `manifest.json` (the build writes it): a warm parse",
        "  took 0.49 s, 0.33 s of it writing that file;",
        "- the runner parses the project in a thread while it copies and loads the day's files",
        "  (the parse is Python, the load mostly DuckDB's work), and on the code production",
        "  last published it does not hand the build the production manifest: there",
        "  `state:modified+` is empty by construction. Sampled with py-spy, the parse held the",
        "  interpreter 0.97 s and reading the production manifest 0.42 s, one after the other",
        "  before the first node started; the parse now ends inside the load"
        + _parse_overlap(runs)
        + ". On the",
        "  earlier one-year history the load took 1.7 s with the parse inside it against 1.2 s",
        "  alone, and the 1x history's run 5.3 s against 6.8 s before the change. On this",
        f"  history the runner's load with the parse inside it took {load:.1f} s, plain's load"
        f" and parse one after the other {plain_load_and_parse:.1f} s: with both cores busy",
        "  the overlap gains nothing here;",
        "- the `base_` models find conflicting duplicates (the same key and updated_at twice in",
        "  one file, with different values) by grouping only the versions delivered more than",
        "  once, instead of a window over every delivered row (`macros/row_checks.sql`): DuckDB",
        "  sorted every row, all its columns, to partition them. On this history's 20M",
        "  delivered orders, alone, `base_jaffle__orders` took 107 s before and 34 s after",
        "  (29 s without the check); the full refresh took 389 s before (one run) and"
        f" {full:.0f} s",
        "  now. This speeds up the full refresh only, so it raises 2/1: against the 389 s",
        f"  full refresh the same runner would be at {runner / 389:.3f};",
        *_key_hash_fix(),
        *_rollup_and_lookup_fixes(),
        "",
        "Where the incremental run's time goes now (medians above):",
        "",
        *_copy_finding(runs, results, phases.get("audit copy", 0.0), runner, full),
        f"- **dbt's fixed cost and the window's own work**: the no-op floor ({noop:.1f} s) is",
        f"  start-up, {nodes} nodes (data tests, snapshots) and the same window's SQL,",
        "  since a re-run of a window recomputes it (idempotent, writes nothing). The window",
        "  is the new day plus the 3-day lookback and the items of every order whose status",
        "  changed in it: several times the day's own rows.",
        f"- **The day's own work over the floor**: dbt took {build:.1f} s in the runner against",
        f"  {noop:.1f} s for the floor, and loading the day's files {load:.1f} s. The nodes that",
        f"  grow most: {_extra_over_floor(runs)}. The new versions are re-ranked in staging,",
        "  the day's changed orders (status changes of orders placed days earlier) are merged",
        "  into `fct_orders`, and the snapshot closes and opens their versions"
        f" ({snapshot:.1f} s in the day's run).",
        "- **What still grows with the history**: the runner took"
        f" {runner_first:.1f} s at {first['factor']}x and {runner_last:.1f} s at"
        f" {last['factor']}x. A lookup by key now reads the hash column of a {key_tables}",
        "  table (8 bytes a row) and whole rows only in the row groups that hold the wanted",
        "  keys, but that column grows with the history: six of them (the two staging",
        "  models' keys, the items' order id, the two facts' and the snapshot's keys), about",
        "  560 MB at 8x, are read from the disk by every day's run. The `fct_orders` select",
        "  took 0.12 s warm and 0.47-0.50 s cold on this history (alone, outside this",
        "  benchmark): what grows is reading those columns, in staging's re-ranking, the",
        "  facts' lookups and MERGE matches and the snapshot's staging. Only an index would",
        "  avoid the reads; DuckDB did not use an",
        "  ART index on `stg_jaffle__items._order_id_hash` for the window's 46k keys (a",
        "  sequential scan still, with `index_scan_max_count` and `index_scan_percentage`",
        "  raised; tried outside this benchmark), and other engines prune by partition and",
        "  clustering instead. Smaller: the window's other relationships tests join to whole",
        "  dimensions, and `dim_customers` sums one row per customer and month of the history",
        "  (654k at 8x). Most of the growth is from 4x to 8x (the table above). Typing the ids",
        "  as DuckDB's `UUID` instead (tried before the key hash, outside this benchmark: the",
        "  base models cast them, the contracts declare `uuid`)",
        "  made the full refresh 150 s (one run) where it took about 220 s with text keys,",
        "  and the day's run 8.9-10.1 s against 11.8-15.2 s: a third faster on both sides, so",
        "  2/1 stayed near 0.06, and fixtures, tests and the other engines' key types would",
        "  have had to follow. The key hash speeds the lookups without touching the ids.",
        *_storage_finding(),
        *_key_scan_trials(),
        *_overhead_finding(runs, plain, results.get("day_step_orders", [])),
        *_merge_finding(summary, runs),
        *_floor_finding(noop, runner, full, nodes),
        "",
        "The machine (two cores, one disk) runs each step in turn; single figures carry noise",
        "of tens of percent, the ratios are what to read.",
        "",
    ]
