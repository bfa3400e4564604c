"""``import vector`` is cheap and lazy; ``import vector as faiss`` has the names RAG code uses."""

from __future__ import annotations

import json

import pytest

import vector


def test_import_is_lazy_and_fast(run_python):
    code = (
        "import sys, time, json\n"
        "t = time.perf_counter(); import vector; dt = time.perf_counter() - t\n"
        "print(json.dumps({'dt': dt, 'mods': sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('faiss', 'cuvs', 'cupy', 'numpy', 'torch'))}))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mods"] == []
    assert report["dt"] < 0.2


def test_cpu_use_loads_faiss_but_not_gpu_libraries(run_python):
    code = (
        "import sys, vector\n"
        "vector.IndexFlatL2(4)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'faiss', 'cuvs', 'cupy'}))\n"
    )
    result = run_python(code, env={"ACCEL_DEVICE": "cpu"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['faiss']"


@pytest.mark.parametrize(
    "name",
    [
        "IndexFlat",
        "IndexFlatL2",
        "IndexFlatIP",
        "IndexIVFFlat",
        "IndexIVFPQ",
        "IndexHNSWFlat",
        "IndexIDMap",
        "IndexIDMap2",
        "index_factory",
        "METRIC_L2",
        "METRIC_INNER_PRODUCT",
        "normalize_L2",
        "write_index",
        "read_index",
        "serialize_index",
        "deserialize_index",
        "SearchParameters",
        "SearchParametersIVF",
        "SearchParametersHNSW",
        "IDSelectorRange",
        "IDSelectorArray",
        "IDSelectorBatch",
        "IDSelectorBitmap",
        "IDSelectorNot",
        "IDSelectorAnd",
        "IDSelectorOr",
        "StandardGpuResources",
        "index_cpu_to_gpu",
        "index_gpu_to_cpu",
        "omp_set_num_threads",
        "IO_FLAG_MMAP",
        "swigfaiss",
    ],
)
def test_faiss_names_exist(name, oracle):
    assert hasattr(vector, name)
    if name.startswith(("METRIC", "IO_FLAG")):
        assert getattr(vector, name) == getattr(oracle, name)


def test_class_hierarchy_matches_faiss():
    assert issubclass(vector.IndexFlatL2, vector.IndexFlat)
    assert issubclass(vector.IndexFlat, vector.Index)
    assert issubclass(vector.IndexIDMap2, vector.IndexIDMap)
    assert isinstance(vector.IndexIDMap2(vector.IndexFlatL2(4)), vector.IndexIDMap)


def test_other_faiss_names_pass_through_to_faiss_cpu(oracle):
    assert vector.IndexScalarQuantizer is oracle.IndexScalarQuantizer
    with pytest.raises(AttributeError, match="no attribute"):
        _ = vector.NoSuchThing


def test_faiss_alias_in_sys_modules_still_finds_the_real_wheel(run_python):
    # What accel.auto does: `import faiss` gives vector. Our CPU path must still load faiss-cpu.
    code = (
        "import sys, vector\n"
        "sys.modules['faiss'] = vector\n"
        "import faiss, numpy as np\n"
        "assert faiss is vector\n"
        "i = faiss.IndexFlatL2(3); i.add(np.eye(3, dtype='float32'))\n"
        "print(i.search(np.eye(3, dtype='float32'), 1)[1].ravel().tolist(), sys.modules['faiss'] is vector)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[0, 1, 2] True"


def test_langchain_no_avx2_import_path(run_python):
    # LangChain with FAISS_NO_AVX2 set does `from faiss import swigfaiss as faiss`.
    code = (
        "import sys, vector\n"
        "sys.modules['faiss'] = vector\n"
        "from faiss import swigfaiss as faiss\n"
        "print(faiss is vector, type(faiss.IndexFlatL2(2)).__name__)\n"
    )
    result = run_python(code, env={"ACCEL_DEVICE": "cpu"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True IndexFlatL2"
