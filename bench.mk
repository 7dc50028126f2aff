## Benchmark (issue 7): full refresh vs one incremental day, the no-op floor, runner vs plain dbt,
## dbt's MERGE vs the raw statement, peak memory; history growth chart. Writes docs/BENCHMARKS.md
## and docs/benchmark_incremental.png. Not part of `make test` (its smoke version is).
## Defaults: 1461 days x scale 8 = 14M order items. jafgen's shop grows, so four years of it make a
## new day of about 0.1% of the history, as issue 7 asks (one year at scale 96, the earlier default,
## made a 10.4M history with a day of 0.4%). Data is landed and loaded once and cached in data/bench
## (`rm -rf data/bench` to redo; landing and loading the first time takes ~15 min; with the smaller
## histories, their built files and the measured copies, ~45 GB of disk). On 2 cores the
## measurements then take ~30 min: a discarded warm-up run of each dbt step, 6 repeats of each
## measurement, 2 of the full refresh (about 3.5 min each), 3 runner runs at each smaller history.
## BENCH_DAYS=365 BENCH_REPEATS=1 (one year at scale 8, 0.9M order items) is ~10 min.
## The catch-up (30 missing days healed by one run, against one day's) has a history of its own:
## BENCH_CATCHUP_DAYS days at BENCH_CATCHUP_SCALE; `make bench-catchup` measures it alone (~10 min).
BENCH_DAYS ?= 1461
BENCH_SCALE ?= 8
BENCH_REPEATS ?= 6
BENCH_FULL_REPEATS ?= 2
BENCH_CATCHUP_DAYS ?= 365
BENCH_CATCHUP_SCALE ?= 8
## Where the measured warehouse files live (empty: under data/bench). Point it at an XFS or Btrfs
## folder to measure the runner's audit copy as a reflink, as production should run.
BENCH_RUNDIR ?=

.PHONY: bench bench-catchup

CATCHUP_ARGS = --catchup-days $(BENCH_CATCHUP_DAYS) --catchup-scale $(BENCH_CATCHUP_SCALE)

bench: setup
	$(BIN)/python scripts/benchmark.py --days $(BENCH_DAYS) --scale $(BENCH_SCALE) \
		--repeats $(BENCH_REPEATS) --full-repeats $(BENCH_FULL_REPEATS) $(CATCHUP_ARGS) \
		$(if $(BENCH_RUNDIR),--rundir $(BENCH_RUNDIR))

bench-catchup: setup
	$(BIN)/python scripts/benchmark.py --only-catchup --repeats $(BENCH_REPEATS) $(CATCHUP_ARGS)
