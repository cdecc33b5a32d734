# The two commands: `make book` (build the book at book scale) and `make test` (everything CI checks).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# Book builds never show progress bars (they would be frozen into the pages).
RUN_QUIET := OVERPARAM_PROGRESS=0 PYTHONHASHSEED=0

# Chapters run in parallel, one kernel per core (override: OVERPARAM_JOBS=n); each kernel
# gets cores / jobs threads (scripts/execute_chapters.py sets the same for the book build).
JOBS ?= $(or $(OVERPARAM_JOBS),$(shell nproc 2>/dev/null || echo 1))
THREADS := $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) / $(JOBS) > 0 ? $$(nproc 2>/dev/null || echo 1) / $(JOBS) : 1 )))
KERNEL_THREADS := OMP_NUM_THREADS=$(THREADS) MKL_NUM_THREADS=$(THREADS) OPENBLAS_NUM_THREADS=$(THREADS)

.PHONY: book test env chromium lint unit nbval html claims browser sync bench clean student data

## env: create .venv with the pinned environment (torch first, so pip never pulls a CUDA build)
env: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

## book: execute every chapter at book scale and build _build/html (fails on any error or failed claim)
book: env html claims

# Every chapter is executed first, in parallel, into _build/.jupyter_cache; Sphinx then
# renders those outputs (execute_notebooks: cache) without running anything again.
html: env data
	rm -rf _build/html _build/jupyter_execute _build/.doctrees _build/.jupyter_cache
	$(RUN_QUIET) OVERPARAM_SCALE=$${OVERPARAM_SCALE:-book} $(BIN)/python scripts/execute_chapters.py \
	  --jobs $(JOBS) --claims _build/claims/$${OVERPARAM_SCALE:-book}
	$(RUN_QUIET) $(KERNEL_THREADS) OVERPARAM_SCALE=$${OVERPARAM_SCALE:-book} $(BIN)/jupyter-book build . -W --keep-going

## student: the student edition (solutions hidden, exercises kept) into _build/student/html,
## rendered from the chapters `make html` executed (run `make book` first; without its cache
## Sphinx executes every chapter again, one at a time)
student: env
	rm -rf _build/student
	$(RUN_QUIET) OVERPARAM_EDITION=student OVERPARAM_SCALE=$${OVERPARAM_SCALE:-book} \
	  $(BIN)/jupyter-book build . --path-output _build/student -W --keep-going
	mv _build/student/_build/html _build/student/html && rm -rf _build/student/_build

claims: env
	$(BIN)/python scripts/check_claims.py --scale $${OVERPARAM_SCALE:-book}

## test: lint, unit tests, pairing, nbval at test scale, the book build, the browser checks
test: chromium env lint unit nbval book student browser

## chromium: the browser checks need Debian's Chromium; installed here when missing (as root)
chromium:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Chromium (Debian package chromium) for the browser checks"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "make test needs Chromium at /usr/bin/chromium for its browser checks. Install it with:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2; \
	  exit 1; \
	fi

lint: env
	$(BIN)/ruff check lib tests scripts notebooks

unit: env
	$(BIN)/pytest -q -p no:cacheprovider -n $(JOBS) -m "not browser" tests

## data: the two largest MNIST-1D sets of the test scale into the on-disk cache, once, before
## chapters run two at a time: 22,000 examples shared by chapters 12 and 15 (about 15 s to
## generate) and chapter 09's 8,000 (about 6 s); budgets count a chapter with the cache filled
data: env
	$(BIN)/python -c 'import overparam as op; op.data.mnist1d(n_train=2000, n_test=20000); \
	  op.data.mnist1d(n_train=2000, n_test=6000)'

# One notebook per pytest-xdist worker (--dist loadfile keeps a notebook's cells together).
nbval: env data
	rm -rf _build/claims/test
	$(RUN_QUIET) $(KERNEL_THREADS) OVERPARAM_SCALE=test $(BIN)/pytest -q -p no:cacheprovider --nbval-lax \
	  --nbval-cell-timeout=600 -n $(JOBS) --dist loadfile $(NOTEBOOKS)
	$(BIN)/python scripts/check_claims.py --scale test

## browser: one Chromium at a time (two at once on 2 cores left pages measured mid-layout)
browser: env
	$(BIN)/pytest -q -p no:cacheprovider -m browser tests/test_browser.py tests/test_editions.py

## sync: regenerate every notebooks/*.ipynb from its .md source (outputs stripped)
sync: env
	$(BIN)/jupytext --sync notebooks/[0-9][0-9]_*.md

clean:
	rm -rf _build

## bench: the vmapped ensemble against a loop of separate models (chapter 05); top-5 Hessian eigenvalues vs PyHessian (benchmark-only dep)
bench: env
	$(BIN)/python scripts/bench_ensemble.py --width 32 --members 5
	$(BIN)/python scripts/bench_ensemble.py --width 32 --members 10
	$(BIN)/python scripts/bench_ntk.py --width 4096 --n 200
	$(BIN)/python -c 'import pyhessian' 2>/dev/null || $(BIN)/pip install -q --no-deps pyhessian  # benchmark-only
	$(BIN)/python scripts/bench_hessian.py --width 256 --n 2000 --k 5
