# Two commands on a fresh machine: `make dataset` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv dataset test lint bench serve lock clean
help:
	@echo "make dataset  - set up .venv and build a release from the bundled sample (offline)"
	@echo "make test     - set up .venv and run the tests"
	@echo "make lint     - ruff and mypy"
	@echo "make bench    - benchmarks (figures and their baselines)"
	@echo "make serve    - serve the scheduled rescrape deployment on a local Prefect server"
	@echo "make clean    - remove data/processed outputs"

venv: $(STAMP)

# Re-installs when the lock file or pyproject.toml changes (or .venv is missing).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

dataset: $(STAMP)
	$(BIN)/valact build

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check pipeline flows schemas tests scripts bench
	$(BIN)/ruff format --check pipeline flows schemas tests scripts bench
	$(BIN)/mypy pipeline flows schemas

bench: $(STAMP)
	$(BIN)/python -m bench

serve: $(STAMP)
	$(BIN)/valact serve

lock:
	rm -rf /tmp/valact-lock && $(PYTHON) -m venv /tmp/valact-lock
	/tmp/valact-lock/bin/pip install --quiet -e '.[dev]'
	(echo "# Exact versions installed by make (regenerate: make lock). torch is the CPU build."; \
	 /tmp/valact-lock/bin/pip freeze --exclude-editable) > requirements.lock

clean:
	rm -rf data/processed/*
	touch data/processed/.gitkeep
