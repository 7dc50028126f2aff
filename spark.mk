# Apache Spark: the optional engine (README "Apache Spark"). Include from the Makefile with
# `include spark.mk`; it uses BIN and `setup` from there. `make setup-spark` installs the `spark`
# extra from requirements-spark.lock and, when `java` is missing, Java 17 from Debian.
ifndef SPARK_MK_INCLUDED
SPARK_MK_INCLUDED := 1

SPARK_STAMP := $(VENV)/.spark-installed-$(shell cat requirements-spark.lock | cksum | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup-spark setup-java test-spark

setup-spark: setup setup-java $(SPARK_STAMP)

$(SPARK_STAMP): requirements-spark.lock
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-spark.lock
	rm -f $(VENV)/.spark-installed-* && touch $@

setup-java:
	@command -v java >/dev/null 2>&1 || { \
		echo "java not found: installing openjdk-17-jre-headless from Debian"; \
		$(SUDO) apt-get install -y --no-install-recommends openjdk-17-jre-headless \
		|| { $(SUDO) apt-get update && \
		     $(SUDO) apt-get install -y --no-install-recommends openjdk-17-jre-headless; }; }
	@java -version 2>&1 | head -1

## The Spark tests alone (tests/python/test_spark.py).
test-spark: setup-spark
	$(BIN)/pytest -m spark

endif
