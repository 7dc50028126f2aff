## Benchmark (issue 7): full refresh vs one incremental day, the no-op floor, runner vs plain dbt,
## dbt's MERGE vs the raw statement, peak memory; history growth chart. Writes docs/BENCHMARKS.md
## and docs/benchmark_incremental.png. Not part of `make test` (its smoke version is).
## Defaults: 365 days x scale 96 = 10.7M order items. Data is landed and loaded once and cached in
## data/bench (`rm -rf data/bench` to redo). On 2 cores a 10M run takes hours, because every build
## re-tests the whole history (see docs/BENCHMARKS.md); BENCH_SCALE=8 BENCH_REPEATS=1 is ~15 min.
BENCH_DAYS ?= 365
BENCH_SCALE ?= 96
BENCH_REPEATS ?= 3
BENCH_FULL_REPEATS ?= $(BENCH_REPEATS)

.PHONY: bench

bench: setup
	$(BIN)/python scripts/benchmark.py --days $(BENCH_DAYS) --scale $(BENCH_SCALE) \
		--repeats $(BENCH_REPEATS) --full-repeats $(BENCH_FULL_REPEATS)
