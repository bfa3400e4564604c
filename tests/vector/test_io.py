"""Files, bytes and pickles: round trips, faiss interop, atomic writes, corrupt input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import vector

from .conftest import make_data

D = 16


def _filled(kind: str, device: str):
    xb = make_data(300, D, 1, clusters=8)
    if kind == "flat":
        index = vector.IndexFlatL2(D, device=device)
        index.add(xb)
    elif kind == "ip":
        index = vector.IndexFlatIP(D, device=device)
        index.add(xb)
    elif kind == "idmap2":
        index = vector.IndexIDMap2(vector.IndexFlatL2(D, device=device))
        index.add_with_ids(xb, np.arange(300) * 3)
    elif kind == "ivf":
        index = vector.IndexIVFFlat(vector.IndexFlatL2(D), D, 8, device=device)
        index.train(xb)
        index.add(xb)
        index.nprobe = 8
    else:
        index = vector.IndexHNSWFlat(D, 8, device=device)
        index.add(xb)
    return index, xb


KINDS = ["flat", "ip", "idmap2", "ivf", "hnsw"]


@pytest.mark.parametrize("kind", KINDS)
def test_write_read_round_trip_and_faiss_reads_it(tmp_path, device, oracle, kind):
    index, xb = _filled(kind, device)
    path = tmp_path / "index.json"  # LlamaIndex uses a .json name: the extension must not matter
    vector.write_index(index, str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]  # no temporary left behind
    loaded = vector.read_index(str(path), device="cpu")
    assert type(loaded) is type(index)
    assert loaded.ntotal == index.ntotal == 300
    plain = oracle.read_index(str(path))  # GPU-path indexes load in plain faiss-cpu too
    assert plain.ntotal == 300
    _d1, i1 = loaded.search(xb[:10], 5)
    _d2, i2 = plain.search(xb[:10], 5)
    np.testing.assert_array_equal(i1, i2)
    if kind != "hnsw":
        _d3, i3 = index.search(xb[:10], 5)
        np.testing.assert_array_equal(i3[:, 0], i1[:, 0])


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_and_serialize_round_trip(device, kind):
    index, xb = _filled(kind, device)
    data = vector.serialize_index(index)
    assert data.dtype == np.uint8
    again = vector.deserialize_index(data, device="cpu")
    assert again.ntotal == 300
    restored = pickle.loads(pickle.dumps(index))
    assert type(restored) is type(index)
    assert restored.ntotal == 300
    np.testing.assert_array_equal(restored.search(xb[:3], 1)[1], again.search(xb[:3], 1)[1])


def test_faiss_written_file_reads_into_our_classes(tmp_path, oracle):
    plain = oracle.IndexIDMap2(oracle.IndexFlatIP(D))
    plain.add_with_ids(make_data(10, D), np.arange(10) + 100)
    oracle.write_index(plain, str(tmp_path / "f.index"))
    ours = vector.read_index(str(tmp_path / "f.index"))
    assert isinstance(ours, vector.IndexIDMap2)
    assert isinstance(ours.index, vector.IndexFlatIP)
    assert ours.search(make_data(10, D)[:1], 1)[1][0, 0] >= 100


def test_read_places_on_the_resolved_device(tmp_path, monkeypatch):
    index, _ = _filled("flat", "cpu")
    vector.write_index(index, str(tmp_path / "i"))
    monkeypatch.setenv("ACCEL_DEVICE", "simulated")
    assert vector.read_index(str(tmp_path / "i")).device == "simulated"
    assert vector.read_index(str(tmp_path / "i"), device="cpu").device == "cpu"


def test_file_objects_work(tmp_path):
    index, _xb = _filled("flat", "cpu")
    with open(tmp_path / "i", "wb") as handle:
        vector.write_index(index, handle)
    with open(tmp_path / "i", "rb") as handle:
        assert vector.read_index(handle).ntotal == 300


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    index, _ = _filled("flat", "cpu")
    path = tmp_path / "index.faiss"
    path.write_bytes(b"old contents")
    from vector import _cpu

    def broken(obj, name):
        with open(name, "wb") as handle:
            handle.write(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(_cpu.faiss, "write_index", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        vector.write_index(index, str(path))
    assert path.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.faiss"]


def test_missing_and_empty_files_give_clear_errors(tmp_path):
    with pytest.raises(vector.IndexReadError, match="cannot open"):
        vector.read_index(str(tmp_path / "nope"))
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(vector.IndexReadError, match="too short"):
        vector.read_index(str(tmp_path / "empty"))
    with pytest.raises(RuntimeError):  # IndexReadError is a RuntimeError, as faiss raises
        vector.deserialize_index(np.frombuffer(b"garbage!garbage!", dtype=np.uint8))


def test_truncated_flat_file_is_refused_before_faiss_reads_it(tmp_path):
    index, _ = _filled("flat", "cpu")
    data = vector.serialize_index(index).tobytes()
    for cut in (5, 30, 45, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{cut}"
        path.write_bytes(data[:cut])
        with pytest.raises(vector.IndexReadError):
            vector.read_index(str(path))


FUZZ = r"""
import sys, numpy as np, vector
kind, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
x = rng.standard_normal((200, 8)).astype('float32')
if kind == 'flat':
    index = vector.IndexFlatL2(8); index.add(x)
elif kind == 'idmap':
    index = vector.IndexIDMap2(vector.IndexFlatIP(8)); index.add_with_ids(x, np.arange(200))
elif kind == 'ivf':
    index = vector.IndexIVFFlat(vector.IndexFlatL2(8), 8, 4); index.train(x); index.add(x)
else:
    index = vector.IndexHNSWFlat(8, 4); index.add(x)
good = vector.serialize_index(index).tobytes()
outcomes = {'error': 0, 'loaded': 0}
for trial in range(60):
    data = bytearray(good)
    if trial % 3 == 0:
        data = data[: int(rng.integers(0, len(data)))]
    else:
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, min(len(data), 96 if trial % 3 == 1 else len(data))))
            data[pos] = int(rng.integers(0, 256))
    try:
        loaded = vector.deserialize_index(np.frombuffer(bytes(data), dtype=np.uint8))
        outcomes['loaded'] += 1
    except vector.IndexReadError as exc:
        assert str(exc), 'empty message'
        outcomes['error'] += 1
print(outcomes)
"""


@pytest.mark.parametrize("kind", ["flat", "idmap", "ivf", "hnsw"])
def test_fuzzed_bytes_never_crash(run_python, kind):
    # In a subprocess: a crash (segfault, abort) would show as a bad exit code, not kill pytest.
    result = run_python(FUZZ, kind, "7", timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "'error'" in result.stdout
