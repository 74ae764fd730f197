# poetry-wheelmirror developer entry points. Everything installs into ./.venv.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast test-slow lint bench soak mutate clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,server,verify]'
	touch $(STAMP)

## demo: build a local mirror from real PyPI sdists and install from it with Poetry, pip and uv
demo: $(STAMP)
	$(BIN)/python -m demo.run

## test: lint, type-check and run the default test suite (unit + end-to-end, no slow tests);
## --durations=25 lists the slowest tests, so a CI log shows where the time goes
test: $(STAMP) lint
	$(BIN)/python -m pytest -m "not slow" --durations=25

## test-fast: unit tests only
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not e2e"

## test-slow: the long tests (grpcio build, load soak)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check poetry_wheelmirror devtools tests bench demo .ci
	$(BIN)/mypy

## bench: every benchmark side by side; rewrites the generated part of docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,server,verify,bench]'
	$(BIN)/python -m bench.report

## soak: the routing index under wrk for 10 minutes on loopback (needs wrk: apt-get install wrk)
soak: $(STAMP)
	$(BIN)/python -m bench.soak_router

## mutate: break each critical behaviour in turn and check its tests catch it (minutes; not in CI)
mutate: $(STAMP)
	$(BIN)/python -m devtools.mutate $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
