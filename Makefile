# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what they need.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -n 2

.PHONY: install lint typecheck test demo bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check harness tests benchmarks examples conftest.py

typecheck: install
	$(VENV)/bin/mypy

# The whole suite: lint, strict mypy, then pytest with a throw-away PostgreSQL cluster started and stopped around it.
test: lint typecheck
	scripts/with-postgres $(PY) -m pytest $(PYTEST_ARGS)

# The main job: the reference SendGrid receiver, checked clean and then with one injected bug.
demo: install
	$(PY) -m harness.demo

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
