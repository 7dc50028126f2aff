# Pull-request checks and the analysts' commands; included by the Makefile (`include ci.mk`),
# which defines BIN, DBT_PROFILES_DIR and `setup`. docs/CI.md explains each step.
ifndef CI_MK_INCLUDED
CI_MK_INCLUDED := 1

# sqlfluff's dbt templater compiles the project; it needs a DuckDB file but no data (models
# compile against sources without reading them), so it gets a throwaway one, never the warehouse.
LINT_DIR := target/lint
LINT_ENV := DURABLE_DUCKDB_PATH=$(CURDIR)/$(LINT_DIR)/lint.duckdb
SQL_PATHS := $(wildcard models tests/*.sql snapshots analyses macros)
# Example projects beside the reference one (docs/ADOPTING.md): linted and governed like it, each
# with its own profile, from its own folder.
EXAMPLES := examples/bikeshare
# The production manifest slim CI compares with (docs/CI.md: where it comes from).
PROD_STATE_DIR ?= $(or $(DURABLE_PROD_STATE_DIR),data/prod-state)
PROD_MANIFEST ?= target/manifest.json

.PHONY: lint lint-sql lint-python governance fix ci parse docs docs-serve slim-ci prod-state

## Everything CI checks before any build: SQL style, Python style, governance.
lint: lint-sql lint-python governance

lint-sql: setup $(EXAMPLES:%=%/dbt_packages/.installed)
	@mkdir -p $(LINT_DIR)
	$(LINT_ENV) $(BIN)/sqlfluff lint $(SQL_PATHS) --processes 2 --disable-progress-bar
	@for example in $(EXAMPLES); do \
		echo "sqlfluff lint $$example"; \
		(cd $$example && DBT_PROFILES_DIR=. DURABLE_DUCKDB_PATH=$(CURDIR)/$(LINT_DIR)/example.duckdb \
			$(CURDIR)/$(BIN)/sqlfluff lint $$(ls -d models tests macros 2>/dev/null) --processes 2 \
			--disable-progress-bar) || exit 1; \
	done

lint-python: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Descriptions, primary keys, layer names, marts never reading sources (from the manifest).
governance: parse $(EXAMPLES:%=%/dbt_packages/.installed)
	$(BIN)/python scripts/check_governance.py --manifest target/manifest.json
	@for example in $(EXAMPLES); do \
		echo "governance $$example"; \
		(cd $$example && DBT_PROFILES_DIR=. $(CURDIR)/$(BIN)/dbt $(PARSE_FLAGS) parse \
			--no-partial-parse && $(CURDIR)/$(BIN)/python $(CURDIR)/scripts/check_governance.py \
			--manifest target/manifest.json) || exit 1; \
	done

# An example installs the durable package from this repository like the root project does.
$(EXAMPLES:%=%/dbt_packages/.installed): %/dbt_packages/.installed: %/packages.yml %/package-lock.yml $(STAMP)
	cd $* && DBT_PROFILES_DIR=. $(CURDIR)/$(BIN)/dbt deps --quiet
	touch $@

# What dbt only warns about at parse but loses what a YAML file says fails the parse: a key
# given twice in one file (a second `unit_tests:` silently drops the first one's tests) and a
# _macros.yml entry for a macro that no longer exists. The whole project is parsed again each
# time: a partial parse re-reads changed files only, and would not warn about a file an earlier
# parse (make run, a plain dbt parse) already read.
PARSE_ERRORS := DuplicateYAMLKeysDeprecation, MacroNotFoundForPatch
PARSE_FLAGS := --quiet --warn-error-options '{"error": [$(PARSE_ERRORS)]}'

## target/manifest.json of the checked-out code; parsing opens no database.
parse: setup
	$(BIN)/dbt $(PARSE_FLAGS) parse --no-partial-parse

## Rewrite what the linters can fix themselves; review the diff before committing.
fix: setup
	@mkdir -p $(LINT_DIR)
	$(LINT_ENV) $(BIN)/sqlfluff fix $(SQL_PATHS) --processes 2 --disable-progress-bar
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Build and test only what changed (state:modified+), deferring the rest; see docs/CI.md.
slim-ci: setup
	DURABLE_PROD_STATE_DIR=$(PROD_STATE_DIR) $(BIN)/python scripts/slim_ci.py $(SLIM_CI_ARGS)

## Keep the manifest of what is deployed (a production run's target/manifest.json) for slim CI.
prod-state:
	@test -f $(PROD_MANIFEST) || { echo "no $(PROD_MANIFEST): run the main job (make run) on main first"; exit 1; }
	mkdir -p $(PROD_STATE_DIR)
	cp $(PROD_MANIFEST) $(PROD_STATE_DIR)/manifest.json
	@echo "production manifest kept in $(PROD_STATE_DIR)/manifest.json"

## What the pull-request workflow runs, in the same order (`make test` is the same).
ci: test

## Documentation site from the warehouse (make run first for column types and row counts).
docs: setup
	@mkdir -p $(dir $(or $(DURABLE_DUCKDB_PATH),data/warehouse/warehouse.duckdb))
	$(BIN)/dbt docs generate

docs-serve: docs
	$(BIN)/dbt docs serve --port 8080

endif
