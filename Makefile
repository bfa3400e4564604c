# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each creates or refreshes .venv first (only when pyproject.toml changed).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= spark,vector,report,test,dev
# sentence-transformers (for the RAG example) pulls in torch; the CPU build keeps CI lean.
TORCH ?= torch==2.13.0

.PHONY: venv demo test lint format test-gpu test-rapids bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

demo: venv
	$(PY) -m accel demo

test: venv
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# On the lent GPU machine: a broken set-up fails instead of skipping.
test-gpu:
	$(PYTHON) -m pytest --require-gpu -m gpu -p no:cacheprovider

# cuDF installed, no GPU: cudf.pandas must fall back and our layer must still behave.
RAPIDS_VENV ?= .venv-rapids
test-rapids:
	@test -x $(RAPIDS_VENV)/bin/python || $(PYTHON) -m venv $(RAPIDS_VENV)
	$(RAPIDS_VENV)/bin/python -m pip install -q --upgrade pip
	$(RAPIDS_VENV)/bin/python -m pip install -q -e ".[cu12,vector,report]" pytest pytest-benchmark \
		ipython ipykernel nbclient nbformat scikit-learn
	$(RAPIDS_VENV)/bin/python -m pytest tests/accel -m "not gpu"

bench: venv
	$(PY) -m pytest benchmarks --benchmark-only -p no:cacheprovider

clean:
	rm -rf $(VENV) $(RAPIDS_VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
