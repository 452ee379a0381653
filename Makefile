# The two commands in the README: `make demo` and `make test`. Both do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format benchmark browser java newest

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

# Headless Chromium (Debian package) for the HTML rendering tests; poppler-utils (pdftotext,
# pdfinfo) for the commissioner report's print test.
browser:
	@{ command -v chromium && command -v pdftotext; } >/dev/null 2>&1 || { \
	  echo "installing Debian chromium and poppler-utils for the HTML and print tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    poppler-utils >/dev/null; }

# Java 17 (Debian package) for the Spark engine's tests on a local Spark (tests/spark).
java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing Debian openjdk-17-jre-headless for the Spark tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    openjdk-17-jre-headless >/dev/null; }

demo: $(STAMP)
	$(BIN)/riskstrat demo

test: $(STAMP) browser java
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2
	$(BIN)/python .ci/newest_versions.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Did the tests run with the newest DuckDB, pandas and MLflow pip resolves? (.ci/run does this.)
newest: $(STAMP)
	$(BIN)/python .ci/newest_versions.py
