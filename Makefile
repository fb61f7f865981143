# The two commands of the README: `make lab` (open the course) and `make test` (every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
ARGS   ?=
# JupyterLab refuses to run as root unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test lint bench train table1 browser student grade book demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(ROOT_FLAG) $(ARGS)

# The course as a static website in build/book/html (offline: MathJax and the theme are bundled).
book: install
	$(BIN)/python scripts/book.py

# The rotate-and-watch widget alone, as a page (Voila), for a lecture: `make demo PORT=8866`.
demo: install
	env -u MPLBACKEND JUPYTER_PATH=demo $(BIN)/voila demo/rotate_and_watch.ipynb --template=offline \
	  --port=$(PORT) $(ARGS)

# The browser test drives Debian's chromium; install it when missing (needs root, as in CI).
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "$(CHROMIUM) is missing and this is not root: the browser test will be skipped"; fi; \
	fi

lint: install
	$(BIN)/ruff check gcnn_edu tests benchmarks scripts notebooks

test: lint browser
	env -u MPLBACKEND GCNN_EDU_QUICK=1 $(BIN)/pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg tests notebooks

# Speed of the G-convolutions against plain conv2d (writes benchmarks/results/*.json); not a test.
BENCH_ENV := MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=268435456
bench: install
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_gconv.py
	$(BIN)/python -m gcnn_edu.data prepare
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_epoch.py
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_widget.py
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_table2.py

# P4CNN and Z2CNN for a few epochs on the bundled sample, test errors side by side (about a minute).
SAMPLE_RUNS := runs/sample
train: install
	$(BIN)/python -m gcnn_edu.train --model p4cnn --data sample --epochs 10 --out $(SAMPLE_RUNS)/p4cnn --overwrite
	$(BIN)/python -m gcnn_edu.train --model z2cnn --data sample --epochs 10 --out $(SAMPLE_RUNS)/z2cnn --overwrite
	$(BIN)/python -c "from gcnn_edu.runs import print_table; \
	print_table(['$(SAMPLE_RUNS)/p4cnn', '$(SAMPLE_RUNS)/z2cnn'])"

# Table 1 on the full rotated MNIST: both protocols, three networks, SEEDS; then table, README and
# figure. Hours on a CPU (see the README); a stopped run continues where it stopped.
SEEDS ?= 0 1 2
table1: install
	$(BIN)/python -m gcnn_edu.data prepare
	for protocol in paper ours; do for model in p4cnn p4cnn_rotpool z2cnn; do for seed in $(SEEDS); do \
	  $(BENCH_ENV) $(BIN)/python -m gcnn_edu.table1 run --protocol $$protocol --model $$model \
	    --seed $$seed || exit 1; done; done; done
	$(BIN)/python -m gcnn_edu.table1 table
	$(BIN)/python -m gcnn_edu.table1 figure

# The student edition (nbgrader): solutions replaced by stubs, answers and outputs removed, into
# build/student/. `make grade SUBMISSIONS=folder` grades folder/<student>/<notebook>.ipynb.
student: install
	$(BIN)/python scripts/course.py student

SUBMISSIONS ?= submissions
grade: install
	env -u MPLBACKEND $(BIN)/python scripts/course.py grade $(SUBMISSIONS)
