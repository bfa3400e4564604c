# `make` alone lists the targets. Each target sets up only what it needs: `make demo` the demo's
# extras, `make test` the test extras in .venv plus a separate .venv-rag (the one place torch is
# installed) for the RAG example's test. A set-up is redone only when pyproject.toml changed.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# extras per stamp: .venv/.installed-demo, .venv/.installed-test
EXTRAS_demo := spark,vector,report,sklearn
EXTRAS_test := spark,vector,report,sklearn,test,dev
# The RAG example's sentence model needs torch, and only it: the CPU build keeps CI lean. Where the
# default index serves the CUDA build (PyPI does), add its CPU index:
#   make test-rag TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
RAG_VENV ?= .venv-rag

.PHONY: help venv demo test test-rag fuzz lint format test-gpu test-rapids gpu-pack gpu-plan gpu-check \
	bench clean

help: ## this list
	@echo "usage: make TARGET   (Python 3.11+; Spark's targets need Java 17+)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/' | \
		awk -F'\t' '{ printf "  %-12s %s\n", $$1, $$2 }'

$(VENV)/.installed-%: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS_$*)]"
	@touch $@

venv: $(VENV)/.installed-test ## .venv with everything the tests and lint need (no torch)

demo: $(VENV)/.installed-demo ## the built-in workload, plain and accelerated ([spark,vector,sklearn])
	$(PY) -m accel demo

test: $(VENV)/.installed-test ## the CPU suite in .venv, then the RAG example's test (test-rag)
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-rag

$(RAG_VENV)/.installed: pyproject.toml
	@test -x $(RAG_VENV)/bin/python || $(PYTHON) -m venv $(RAG_VENV)
	$(RAG_VENV)/bin/python -m pip install -q --upgrade pip
	$(RAG_VENV)/bin/python -m pip install -q "$(TORCH)" $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(RAG_VENV)/bin/python -m pip install -q -e ".[vector,rag]" pytest
	@touch $@

test-rag: $(RAG_VENV)/.installed ## the RAG example's test, in .venv-rag (torch, CPU build)
	$(RAG_VENV)/bin/python -m pytest tests/vector/test_rag_example.py

# Differential fuzzing of spark_plugin against plain Spark (both ANSI settings): FUZZ_QUERIES
# random queries (FUZZ_SECONDS, if set, stops it early); prints the counts and every mismatch.
FUZZ_QUERIES ?= 2000
fuzz: venv ## spark_plugin vs plain Spark on FUZZ_QUERIES random queries (default 2000)
	FUZZ_QUERIES=$(FUZZ_QUERIES) FUZZ_SECONDS=$(FUZZ_SECONDS) $(PY) -m pytest \
		tests/spark_plugin/test_fuzz.py -k test_fuzz_long -s -q

lint: venv ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv ## ruff --fix and ruff format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# On the lent GPU machine: a broken set-up fails instead of skipping.
test-gpu: ## the GPU tier (on a GPU machine; a broken set-up fails)
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

test-rapids: $(RAPIDS_STAMP) ## the rapids tier: real RAPIDS wheels in .venv-rapids, no GPU
	$(RAPIDS_VENV)/bin/python -m pytest tests/accel -m "not gpu"
	$(RAPIDS_VENV)/bin/python -m pytest tests/vector tests/spark_plugin -m rapids

# The prepared GPU check (see benchmarks/gpu_check and docs/gpu-check.md). Here: pack the device's
# wheels and the captured Spark stages into .gpu/, and print the lease call by call.
gpu-pack: venv ## pack the lent GPU machine's wheels and stages into .gpu/
	$(PY) -m benchmarks.gpu_check pack
	$(PY) -m benchmarks.gpu_check stages capture
	$(PY) -m benchmarks.gpu_check plan

gpu-plan: ## print the GPU lease, call by call
	$(PYTHON) -m benchmarks.gpu_check plan

# There, on the lent machine, in every call of the lease (its own python3, no venv): keep the
# part this call carried, install each wheel set that is complete, run each step now possible.
gpu-check: ## on the lent GPU machine: run the prepared check
	python3 -m benchmarks.gpu_check run --out "$${OUT:-gpu-check-out}" --budget "$${GPU_CHECK_BUDGET:-540}"

bench: venv ## the benchmarks (pytest-benchmark)
	$(PY) -m pytest benchmarks --benchmark-only -p no:cacheprovider

clean: ## remove the environments and caches
	rm -rf $(VENV) $(RAPIDS_VENV) $(RAG_VENV) .gpu .pytest_cache .mypy_cache .ruff_cache *.egg-info
