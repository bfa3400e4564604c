# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each creates or refreshes .venv first (only when pyproject.toml changed).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= spark,vector,report,test,dev
# sentence-transformers (for the RAG example) pulls in torch; the CPU build keeps CI lean.
TORCH ?= torch==2.13.0

.PHONY: venv demo test lint format test-gpu test-rapids gpu-pack gpu-plan gpu-check bench clean

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

# The rapids tier: the real RAPIDS and CuPy wheels installed, no GPU. cudf.pandas falls back per
# call, cudf-polars translates (the test stops before execution), cuVS's and CuPy's signatures and
# refusals are the oracle for our stand-ins. CI runs it; the wheels come from pip's cache.
RAPIDS_VENV ?= .venv-rapids
RAPIDS_STAMP := $(RAPIDS_VENV)/.installed
$(RAPIDS_STAMP): pyproject.toml
	@test -x $(RAPIDS_VENV)/bin/python || $(PYTHON) -m venv $(RAPIDS_VENV)
	$(RAPIDS_VENV)/bin/python -m pip install -q --upgrade pip
	$(RAPIDS_VENV)/bin/python -m pip install -q -e ".[cu12,spark,vector,report]" pytest \
		pytest-benchmark hypothesis ipython ipykernel nbclient nbformat scikit-learn duckdb==1.2.2
	@touch $(RAPIDS_STAMP)

test-rapids: $(RAPIDS_STAMP)
	$(RAPIDS_VENV)/bin/python -m pytest tests/accel -m "not gpu"
	$(RAPIDS_VENV)/bin/python -m pytest tests/vector tests/spark_plugin -m rapids

# The prepared GPU check (see benchmarks/gpu_check and docs/gpu-check.md). Here: pack the device's
# wheels and the captured Spark stages into .gpu/, and print the lease call by call.
gpu-pack: venv
	$(PY) -m benchmarks.gpu_check pack
	$(PY) -m benchmarks.gpu_check stages capture
	$(PY) -m benchmarks.gpu_check plan

gpu-plan:
	$(PYTHON) -m benchmarks.gpu_check plan

# There, on the lent machine, in every call of the lease (its own python3, no venv): keep the
# part this call carried, install each wheel set that is complete, run each step now possible.
gpu-check:
	python3 -m benchmarks.gpu_check run --out "$${OUT:-gpu-check-out}" --budget "$${GPU_CHECK_BUDGET:-540}"

bench: venv
	$(PY) -m pytest benchmarks --benchmark-only -p no:cacheprovider

clean:
	rm -rf $(VENV) $(RAPIDS_VENV) .gpu .pytest_cache .mypy_cache .ruff_cache *.egg-info
