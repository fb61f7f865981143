# The two commands of the README: `make lab` (open the course) and `make test` (every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
ARGS   ?=
# JupyterLab refuses to run as root unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(ROOT_FLAG) $(ARGS)

lint: install
	$(BIN)/ruff check gcnn_edu tests benchmarks notebooks

test: lint
	env -u MPLBACKEND GCNN_EDU_QUICK=1 $(BIN)/pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg tests notebooks

# Speed of the G-convolutions against plain conv2d (writes benchmarks/results/*.json); not a test.
BENCH_ENV := MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=268435456
bench: install
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_gconv.py
