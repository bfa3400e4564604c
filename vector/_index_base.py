"""The facade every FAISS-named index shares: check input, call the engine, move when the device is full.

Each index holds one engine (:mod:`vector._engine`): a faiss-cpu index (:mod:`vector._cpu`) or
the GPU path (:mod:`vector._gpu`). Placement is decided once, at creation; an out-of-memory
error on the device moves the index to the CPU for good (:mod:`vector._convert`). The named
classes (:mod:`vector._index`) register here, so a faiss object is wrapped as its own class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from vector import _checks, _convert, _format, _placement
from vector._cpu import CpuEngine
from vector._engine import DeviceOutOfMemory, Engine
from vector._gpu import GpuEngine
from vector._placement import Device, Placement

__all__ = [
    "Index",
    "as_faiss",
    "faiss_object",
    "from_faiss_bytes",
    "moved_to_cpu",
    "moved_to_device",
    "placed",
    "wrap_faiss",
]

MakeGpu = Callable[[Any], GpuEngine]
#: faiss class name -> our class (filled by each class's definition, see Index.__init_subclass__)
_WRAPPERS: dict[str, type[Index]] = {}


def _faiss() -> Any:
    from vector._faiss import faiss

    return faiss


class Index:
    """Base class of every index. Not constructed directly (as in faiss)."""

    __slots__ = ("__weakref__", "_d", "_engine", "_placement", "_refs", "_trained_seen")

    _engine: Engine
    _placement: Placement
    _refs: list[Any]

    #: add_with_ids is the way to add (IVF, IDMap): moves and merges keep the ids
    _takes_ids: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("vector.Index is abstract; use IndexFlatL2, IndexIVFFlat, ... instead")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("vector."):
            _WRAPPERS[cls.__name__] = cls  # our classes carry faiss's names

    # --- hooks of the named classes --------------------------------------------------------
    def _native_refs(self, native: Any) -> list[Index]:
        """Wrappers of the faiss objects ``native`` points to (IDMap: its index; IVF: quantizer)."""
        return []

    def _share_engine(self, like: Index) -> None:
        """After :func:`moved_to_device`: wire sub-indexes to this index's new engine."""

    def _fill_from(self, vectors: np.ndarray, labels: np.ndarray, source: Index) -> None:
        """Put ``source``'s vectors into this (empty, just moved) index."""
        if vectors.shape[0]:
            if self._takes_ids:
                self.add_with_ids(vectors, labels)
            else:
                self.add(vectors)

    # --- construction helpers ------------------------------------------------------------
    def _setup(self, engine: Engine, placement: Placement) -> None:
        engine.label = type(self).__name__
        object.__setattr__(self, "_engine", engine)
        object.__setattr__(self, "_placement", placement)
        object.__setattr__(self, "_refs", [])
        # d never changes; reading it through SWIG on every search costs more than the check
        object.__setattr__(self, "_d", int(engine.d))
        # Once seen trained, an index stays trained (reset keeps training): skip re-checking.
        object.__setattr__(self, "_trained_seen", False)

    def _set_placement(self, placement: Placement) -> None:
        object.__setattr__(self, "_placement", placement)
        for ref in self._refs:
            if isinstance(ref, Index) and not ref._engine.on_device and not self._engine.on_device:
                ref._set_placement(placement)

    def _place(self, device: str | None, make_cpu: Callable[[], Any], make_gpu: MakeGpu) -> None:
        """Put a new index on the resolved device; a GPU path that cannot build it falls back."""
        placement = _placement.resolve(device)
        if placement.on_gpu_path:
            try:
                engine = make_gpu(_placement.binding_for(placement))
            except (ImportError, NotImplementedError) as exc:
                if placement.device.is_gpu() and _placement.requested_gpu(device):
                    raise
                placement = _placement.fallback(
                    type(self).__name__, str(exc), meant=placement.device
                )
            else:
                self._setup(engine, placement)
                return
        self._setup(CpuEngine(make_cpu()), placement)

    def _leave_device(self, why: DeviceOutOfMemory) -> None:
        """Out of device memory: continue as a faiss-cpu index from the host copy."""
        engine = self._engine
        assert isinstance(engine, GpuEngine)
        placement = _placement.fallback(
            type(self).__name__, why.reason, kind="out_of_memory", meant=Device(engine.b.device)
        )
        moved = wrap_faiss(_convert.to_faiss(engine), placement)
        object.__setattr__(self, "_engine", moved._engine)
        object.__setattr__(self, "_refs", moved._refs)
        self._engine.label = type(self).__name__
        self._set_placement(placement)

    # --- where it runs ---------------------------------------------------------------------
    @property
    def device(self) -> Device:
        """ "cpu", "gpu" or "simulated" (the GPU code path on a host stand-in)."""
        return self._placement.device

    @property
    def device_reason(self) -> str:
        """Why the index runs where it does (the resolver's answer, and the cuVS engine)."""
        engine = self._engine.describe()
        return (
            self._placement.reason
            if engine is None
            else f"{self._placement.reason}; engine: {engine}"
        )

    @property
    def fallback_reason(self) -> str | None:
        """Why this index left the GPU path for the CPU, or None if it did not."""
        return self._placement.fallback_reason

    # --- attributes faiss users read ---------------------------------------------------------
    @property
    def d(self) -> int:
        return self._d

    @property
    def ntotal(self) -> int:
        return self._engine.ntotal

    @property
    def is_trained(self) -> bool:
        return self._engine.is_trained

    @is_trained.setter
    def is_trained(self, value: bool) -> None:
        object.__setattr__(self, "_trained_seen", False)
        self._engine.is_trained = bool(value)

    @property
    def metric_type(self) -> int:
        return self._engine.metric_type

    @property
    def metric_arg(self) -> float:
        return self._engine.metric_arg

    @property
    def verbose(self) -> bool:
        return self._engine.verbose

    @verbose.setter
    def verbose(self, value: bool) -> None:
        self._engine.verbose = bool(value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: forward faiss-specific attributes on the CPU.
        if name.startswith("_"):
            raise AttributeError(name)
        native = object.__getattribute__(self, "_engine").native
        if native is not None:
            return getattr(native, name)
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{name}' on the GPU path"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        engine = getattr(self, "_engine", None)
        native = engine.native if engine is not None else None
        if native is not None and not name.startswith("_") and hasattr(native, name):
            setattr(native, name, value)
            return
        # faiss >= 1.13 also refuses unknown attributes (a typo must not pass silently).
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __repr__(self) -> str:
        return f"<vector.{type(self).__name__} d={self.d} ntotal={self.ntotal} on {self.device}>"

    # --- the faiss methods -------------------------------------------------------------------
    def _require_trained(self, what: str) -> None:
        if self._trained_seen:
            return
        if not self.is_trained:
            raise RuntimeError(f"{what}: {type(self).__name__} is not trained; call train(x) first")
        object.__setattr__(self, "_trained_seen", True)

    def train(self, x: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        try:
            self._engine.train(x)
        except DeviceOutOfMemory as exc:
            self._leave_device(exc)
            self._engine.train(x)

    def add(self, x: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        self._require_trained("add")
        try:
            self._engine.add(x)
        except DeviceOutOfMemory as exc:
            self._leave_device(exc)
            if not exc.applied:
                self._engine.add(x)

    def add_with_ids(self, x: Any, ids: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        ids = _checks.as_ids(ids, x.shape[0])
        self._require_trained("add_with_ids")
        try:
            self._engine.add_with_ids(x, ids)
        except DeviceOutOfMemory as exc:
            self._leave_device(exc)
            if not exc.applied:
                self._engine.add_with_ids(x, ids)

    def search(
        self,
        x: Any,
        k: Any,
        *,
        params: Any = None,
        D: Any = None,
        I: Any = None,  # noqa: E741
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest neighbours of each row of ``x``: ``(D, I)``, float32 and int64.

        Missing results are ``-1`` ids with ``FLT_MAX`` (L2) or ``-FLT_MAX`` (IP) distances; L2
        distances are squared, as in faiss.
        """
        x = _checks.as_matrix(x, self.d)
        k = _checks.as_k(k)
        self._require_trained("search")
        try:
            return self._engine.search(x, k, params, D, I)
        except DeviceOutOfMemory as exc:
            self._leave_device(exc)
            return self._engine.search(x, k, params, D, I)

    def assign(self, x: Any, k: Any, labels: Any = None) -> np.ndarray:
        _, ids = self.search(x, k, I=labels)
        return ids

    def range_search(
        self, x: Any, thresh: float, *, params: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All neighbours within ``thresh``: ``(lims, D, I)`` (L2: ``< thresh``, IP: ``> thresh``)."""
        x = _checks.as_matrix(x, self.d)
        self._require_trained("range_search")
        try:
            return self._engine.range_search(x, float(thresh), params)
        except DeviceOutOfMemory as exc:
            self._leave_device(exc)
            return self._engine.range_search(x, float(thresh), params)

    def remove_ids(self, x: Any) -> int:
        """Remove the selected ids (an IDSelector or an array of ids); returns how many went."""
        return self._engine.remove_ids(x)

    def reconstruct(self, key: Any, x: Any = None) -> np.ndarray:
        return _into(self._engine.reconstruct(int(key)), x)

    def reconstruct_n(self, n0: int = 0, ni: int = -1, x: Any = None) -> np.ndarray:
        return _into(self._engine.reconstruct_n(n0, ni), x)

    def reconstruct_batch(self, keys: Any, x: Any = None) -> np.ndarray:
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        return _into(self._engine.reconstruct_batch(keys), x)

    def reset(self) -> None:
        self._engine.reset()

    def merge_from(self, other: Index, add_id: int = 0) -> None:
        """Move every vector of ``other`` into this index (``other`` ends up empty, as in faiss)."""
        if not isinstance(other, Index):
            other = wrap_faiss(other)
        if other.d != self.d:
            raise RuntimeError(f"merge_from: dimensions differ ({other.d} vs {self.d})")
        mine, theirs = self._engine, other._engine
        if mine.native is not None and theirs.native is not None:
            mine.native.merge_from(theirs.native, add_id)
            return
        vectors, labels = theirs.export()
        mine.absorb(vectors, labels, add_id)
        other.reset()

    def __getstate__(self) -> dict[str, Any]:
        return {"this": _faiss().serialize_index(faiss_object(self)).tobytes()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        data = np.frombuffer(state["this"], dtype=np.uint8)
        loaded = placed(from_faiss_bytes(data, "serialized index"), None)
        self._setup(loaded._engine, loaded._placement)
        self._refs.extend(loaded._refs)


def _into(out: np.ndarray, x: Any) -> np.ndarray:
    """faiss's optional output argument: copy ``out`` into ``x`` when given."""
    if x is not None:
        x[...] = out
        return x
    return out


# --- wrapping faiss objects, moving between engines -------------------------------------------
def wrap_faiss(obj: Any, placement: Placement | None = None) -> Index:
    """Our wrapper around a faiss-cpu index object (most-derived class, like faiss's downcast)."""
    if isinstance(obj, Index):
        return obj
    faiss = _faiss()
    owner = obj
    if type(obj) is faiss.Index:
        # downcast gives a new proxy that does not own the C++ object: keep the owner alive
        obj = faiss.downcast_index(obj)
    cls = _WRAPPERS.get(type(obj).__name__)
    if cls is None:
        family = "IndexIVF" if isinstance(obj, faiss.IndexIVF) else ""
        family = "IndexHNSW" if isinstance(obj, faiss.IndexHNSW) else family
        cls = _WRAPPERS.get(family, Index)
    wrapper = object.__new__(cls)
    wrapper._setup(CpuEngine(obj), placement or Placement(Device.CPU, "a faiss-cpu index"))
    if owner is not obj:
        wrapper._refs.append(owner)
    wrapper._refs[:0] = wrapper._native_refs(obj)
    return wrapper


def as_faiss(index: Any) -> Any:
    """The faiss-cpu object behind ``index`` (a CPU wrapper or a faiss object)."""
    if isinstance(index, Index):
        if index._engine.on_device:
            raise RuntimeError(
                f"{type(index).__name__} is on the GPU path; use index_gpu_to_cpu() first"
            )
        return index._engine.native
    return index


def faiss_object(index: Any) -> Any:
    """A faiss-cpu object with ``index``'s content (a copy for GPU-path indexes)."""
    if isinstance(index, Index) and isinstance(index._engine, GpuEngine):
        return _convert.to_faiss(index._engine)
    return as_faiss(index)


def moved_to_cpu(index: Index) -> Index:
    """A faiss-cpu copy of ``index`` (``index`` itself when it is already on the CPU)."""
    if not isinstance(index._engine, GpuEngine):
        return index
    copied = Placement(Device.CPU, f"copied from the {index.device} path")
    return wrap_faiss(_convert.to_faiss(index._engine), copied)


def moved_to_device(index: Index, placement: Placement) -> Index:
    """A GPU-path copy of CPU ``index``; falls back to ``index`` itself (with a reason) if needed."""
    native = index._engine.native
    if native is None:
        return index
    label = type(index).__name__
    try:
        engine = _convert.empty_gpu_like(native, _placement.binding_for(placement), label)
    except NotImplementedError as exc:
        index._set_placement(_placement.fallback(label, str(exc), meant=placement.device))
        return index
    out = object.__new__(type(index))
    out._setup(engine, placement)
    out._share_engine(index)
    vectors, labels = index._engine.export()
    out._fill_from(vectors, labels, index)
    return out


def placed(index: Index, device: str | Device | None) -> Index:
    """Put a freshly loaded CPU index where the resolver says new indexes go."""
    placement = _placement.resolve(device)
    if not placement.on_gpu_path:
        index._set_placement(placement)
        return index
    return moved_to_device(index, placement)


def from_faiss_bytes(data: np.ndarray, name: str) -> Index:
    """A CPU wrapper around the index serialized in ``data`` (checked first, see _format)."""
    return wrap_faiss(_format.deserialize_faiss(data, name))
