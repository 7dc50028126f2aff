# Every target sets itself up: a fresh clone needs only Python 3.11 and the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
DAYS ?= 90
SEED ?= 42

export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: setup setup-browser run test fuzz fuzz-histories clean

# data/warehouse: where profiles.yml puts the DuckDB file, so a plain `dbt build` works too.
setup: $(STAMP) dbt_packages/.installed
	@mkdir -p data/warehouse

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

# The durable dbt package, from this repository (packages.yml: a local path, so offline).
dbt_packages/.installed: packages.yml package-lock.yml $(STAMP)
	$(BIN)/dbt deps --quiet
	touch $@

## The main job: ~90 days of Jaffle Shop deliveries, processed day by day on embedded DuckDB.
run: setup
	$(BIN)/python scripts/main_job.py --days $(DAYS) --seed $(SEED)

## Everything a pull request must pass (what CI runs): lint, governance, slim CI, the test suite
## on every engine (DuckDB; PostgreSQL and Spark, which the suite starts itself).
test: setup setup-spark setup-browser lint slim-ci
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

## The landing-zone fuzz test with more examples than CI's 3 (FUZZ_EXAMPLES), from a random seed
## printed first: `make fuzz FUZZ_SEED=<seed>` replays a failure. About 10-15 s an example.
FUZZ_EXAMPLES ?= 60
# Drawn once (:=), so the seed printed is the seed run; a seed given on the command line wins.
FUZZ_SEED := $(or $(FUZZ_SEED),$(shell od -An -N4 -tu4 /dev/urandom | tr -d ' '))

fuzz: setup
	@echo "fuzz: $(FUZZ_EXAMPLES) examples, seed $(FUZZ_SEED) (replay: make fuzz FUZZ_SEED=$(FUZZ_SEED))"
	DURABLE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/python/test_landing_fuzz.py \
		--hypothesis-seed=$(FUZZ_SEED) --hypothesis-show-statistics

## The delivery-history property test with more examples than CI's 2 (HISTORY_EXAMPLES), from a
## random seed printed first: `make fuzz-histories HISTORY_SEED=<seed>` replays a failure. About
## 40-60 s an example (a runner run a day, a full refresh and a re-run).
HISTORY_EXAMPLES ?= 500
HISTORY_SEED := $(or $(HISTORY_SEED),$(shell od -An -N4 -tu4 /dev/urandom | tr -d ' '))

fuzz-histories: setup
	@echo "fuzz-histories: $(HISTORY_EXAMPLES) examples, seed $(HISTORY_SEED) (replay: make fuzz-histories HISTORY_SEED=$(HISTORY_SEED))"
	DURABLE_HISTORY_EXAMPLES=$(HISTORY_EXAMPLES) $(BIN)/pytest tests/python/test_delivery_histories.py \
		--hypothesis-seed=$(HISTORY_SEED) --hypothesis-show-statistics

clean:
	rm -rf data target logs

## Debian's Chromium, which the report's test opens the page in (tests/python/test_report.py).
setup-browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "chromium not found: installing Debian's package"; \
		$(SUDO) apt-get install -y --no-install-recommends chromium \
		|| { $(SUDO) apt-get update && \
		     $(SUDO) apt-get install -y --no-install-recommends chromium; }; }

include ci.mk
include spark.mk
include bench.mk
