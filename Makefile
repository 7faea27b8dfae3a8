# The README's two commands, `make demo` and `make test`, work on a fresh
# machine with Python 3.11 and make: both create .venv and install into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n auto -m "not browser and not docs"

# Other interpreters, found through pyenv (installed on every dev and CI machine).
PY312 := $(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$$' | tail -n 1)
PY313 := $(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$$' | tail -n 1)

.PHONY: setup test demo lint pytest test-all test-3.12 test-3.13 test-browser test-docs conformance bench bench-bugs corpus corpus-all clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python examples/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

# The plugin's acceptance numbers (speed, xdist scale, memory); minutes, not CI.

test-3.12:
	@test -n "$(PY312)" || { echo "pyenv has no Python 3.12"; exit 1; }
	$(MAKE) pytest VENV=.venv-3.12 PYTHON="env PYENV_VERSION=$(PY312) python3"

test-3.13:
	@test -n "$(PY313)" || { echo "pyenv has no Python 3.13"; exit 1; }
	$(MAKE) pytest VENV=.venv-3.13 PYTHON="env PYENV_VERSION=$(PY313) python3"

test-all: test test-3.12 test-3.13

# The HTML timeline rendered by headless Chromium (Debian's package,
# installed here when missing; needs root, as on CI).
test-browser: setup
	command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	$(BIN)/python -m pytest -m browser

# The documentation: the tutorial's commands run as written, and the site builds.
test-docs: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[docs]'
	$(BIN)/python -m pytest -m docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

# Heavy runs that do not belong in the suite: timings and thousands of seeds.
bench: setup
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/network.py
	$(BIN)/python bench/echo_seeds.py
	$(BIN)/python bench/plugin.py
	$(BIN)/python bench/linearizability.py

# The correctness corpus (tests/corpus: correct code written as users write
# it) at 1000 seeds: any failure is a false alarm, a bug of simloop's.
CORPUS_SEEDS ?= 1000
corpus: setup
	SIMLOOP_CORPUS_SEEDS=$(CORPUS_SEEDS) $(BIN)/python -m pytest tests/corpus -n auto -p no:cacheprovider --simloop-seeds=$(CORPUS_SEEDS)

corpus-all: corpus
	$(MAKE) corpus VENV=.venv-3.12 PYTHON="env PYENV_VERSION=$(PY312) python3"
	$(MAKE) corpus VENV=.venv-3.13 PYTHON="env PYENV_VERSION=$(PY313) python3"

# Seeds each strategy needs to find each gallery bug (minutes; BENCH_ARGS=--quick for seconds).
bench-bugs: setup
	$(BIN)/python bench/bugfinding.py $(BENCH_ARGS)

clean:
	rm -rf .venv .venv-3.12 .venv-3.13 build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# CPython's own asyncio tests with every loop a SimLoop: fifo must pass them
# all; under random, tests that assume one order of concurrent tasks may fail.
conformance: setup
	$(BIN)/python tools/conformance.py --strategy fifo
	-$(BIN)/python tools/conformance.py --strategy random
