# The two commands of the README:
#   make reports   set up what is missing, then regenerate every report of the quick profile
#   make test      set up what is missing, then run the linter and the test suite
# `make reports PROFILE=paper` regenerates the committed paper-profile reports (needs the real data;
# set MEDGRAPH_DATA to a folder that holds them, see data/README.md).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= quick
ONLY ?=
# The CPU build of torch; pip finds it on disk on the project's machines. Override for a GPU build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup reports test lint bench lab exercises clean-quick

setup: $(VENV)/.medgraph-installed

$(VENV)/.medgraph-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[notebooks,dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	-git config filter.nbstripout.clean "$(abspath $(VENV))/bin/nbstripout" 2>/dev/null
	touch $@

# JupyterLab on the notebooks folder, with the workbook's kernel (python3 of .venv)
lab: setup
	$(PY) -m jupyter lab notebooks/

# the notebooks without their solutions (cells tagged `solution`), for a class: exercises/
exercises: setup
	$(PY) -m medgraph.course exercises

reports: setup
	$(PY) -m medgraph.runs --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

# the folders the linter checks (notebooks/: the py:percent twins; the .ipynb are excluded)
LINTED := lib tests benchmarks tools notebooks templates

# the linter first (fail fast), then every test; `$(PY) -m pytest -m "not slow"` leaves out the
# notebook smoke runs for a fast inner loop
test: lint
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)

bench: setup
	$(PY) benchmarks/bench_superpixels.py
