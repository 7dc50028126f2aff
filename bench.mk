## Benchmark (issue 7): full refresh vs one incremental day, the no-op floor, runner vs plain dbt,
## dbt's MERGE vs the raw statement, peak memory; history growth chart. Writes docs/BENCHMARKS.md
## and docs/benchmark_incremental.png. Not part of `make test` (its smoke version is).
## Defaults: 365 days x scale 96 = 10.4M order items. Data is landed and loaded once and cached in
## data/bench (`rm -rf data/bench` to redo; landing and loading the first time takes ~25 min, and
## ~20 GB of disk). On 2 cores the measurements then take ~20 min: a discarded warm-up run of
## each dbt step, 5 repeats of each measurement, 2 of the full refresh (3 min each).
## BENCH_SCALE=8 BENCH_REPEATS=1 is ~10 min.
BENCH_DAYS ?= 365
BENCH_SCALE ?= 96
BENCH_REPEATS ?= 5
BENCH_FULL_REPEATS ?= 2
## Where the measured warehouse files live (empty: under data/bench). Point it at an XFS or Btrfs
## folder to measure the runner's audit copy as a reflink, as production should run.
BENCH_RUNDIR ?=

.PHONY: bench

bench: setup
	$(BIN)/python scripts/benchmark.py --days $(BENCH_DAYS) --scale $(BENCH_SCALE) \
		--repeats $(BENCH_REPEATS) --full-repeats $(BENCH_FULL_REPEATS) \
		$(if $(BENCH_RUNDIR),--rundir $(BENCH_RUNDIR))
