# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: install run test test-fast clean-data clean bench bench-load docs

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_QUIET) -r requirements.lock
	$(BIN)/python -m pip install $(PIP_QUIET) --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## the virtual environment only (.venv/, the pinned versions)

run: $(STAMP)  ## the embedded platform with demo data at http://127.0.0.1:8000
	$(BIN)/challenge dev

test: $(STAMP)  ## the whole suite (RabbitMQ/PostgreSQL tests skip when unreachable, except under CI=true)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## unit and service tests only
	$(BIN)/python -m pytest tests/unit tests/service

bench: $(STAMP)  ## benchmarks (figures with baselines measured in the same run)
	for b in bench/[a-z]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

bench-load: $(STAMP)  ## the load, baseline and month-end run in the distributed mode (docs/performance.md)
	$(BIN)/python bench/load.py $(ARGS)

docs: $(STAMP)  ## regenerate docs/events.md and docs/asyncapi.yaml from kernel/events.py
	$(BIN)/python -m kernel.asyncapi

clean-data:  ## forget the embedded platform's data (var/)
	rm -rf var

clean: clean-data
	rm -rf $(VENV)
