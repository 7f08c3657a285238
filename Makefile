# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what they need.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-installed-stamp
# Four workers on two cores: a quarter of the suite's time is tests waiting on sockets, timeouts and child processes,
# so four keep both cores busy (measured on 2 cores: 512 s with -n 2, 308 s with -n 4, same tests).
PYTEST_ARGS ?= -n 4 --dist worksteal --durations=20

.PHONY: install lint typecheck test pytest bench-smoke demo bench clean

# --no-compile: pip would byte-compile every file of every package (half of a fresh install's 50 s); Python compiles
# and caches the modules a run imports instead (make's test targets keep bytecode caches on, see pytest below).
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# The demo needs only the package itself, not the test toolchain (a [test] install, if current, already has it).
$(DEMO_STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
		$(PY) -m pip install --quiet --upgrade pip && $(PY) -m pip install --quiet --no-compile -e . ; fi
	@touch $(DEMO_STAMP)

# ruff, then the import-layer contracts in pyproject.toml [tool.importlinter] (the order ARCHITECTURE.md states).
lint: install
	$(VENV)/bin/ruff check harness tests benchmarks examples conftest.py
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

# The whole suite: lint, then strict mypy, every benchmark's quick run and pytest side by side (mypy is one busy core
# for a while; the smoke run mostly waits on sockets and child processes; pytest's workers fill what is left). Each
# one's output is printed whole when it ends, any one failing fails the target; pytest runs with a throw-away
# PostgreSQL cluster started and stopped around it and prints the 20 slowest tests at the end.
test: lint
	$(MAKE) --no-print-directory -j3 --output-sync=target typecheck bench-smoke pytest

# Bytecode caches on, whatever the shell says (PYTHONDONTWRITEBYTECODE=1): without them every xdist worker and every
# pytest or webhook-harness child process compiles harness, hypothesis and the test modules again, and pytest's
# assertion rewriting (of the test modules and of every pytest plugin's package) is redone in each; that is 6-7 CPU-s
# per worker's collection alone. The caches go to __pycache__ folders, which git and the wheel ignore.
pytest: install
	env -u PYTHONDONTWRITEBYTECODE scripts/with-postgres $(PY) -m pytest $(PYTEST_ARGS)

# Every benchmark in its --quick mode: it must run to the end (exit 0); its targets are printed, not judged.
bench-smoke: install
	env -u PYTHONDONTWRITEBYTECODE $(PY) benchmarks/run_all.py --quick

# The main job: the reference SendGrid receiver, checked clean and then with one injected bug.
demo: $(DEMO_STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m harness.demo

bench: install
	env -u PYTHONDONTWRITEBYTECODE $(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
