# The two commands a newcomer needs (both set themselves up):
#   make demo   run bidroom with a demo site, simulated readers, SQLite (http://127.0.0.1:8080)
#   make test   lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev$(EXTRAS)
# Extra optional dependencies to install, e.g. EXTRAS=,pcsc (CI sets it when pcscd is there).
EXTRAS ?=

.PHONY: demo test lint bench screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev$(EXTRAS)]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bidroom serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	for b in tests/bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

screenshot: $(STAMP)
	$(BIN)/python scripts/screenshot.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
