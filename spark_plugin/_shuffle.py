"""Bytes between Python stages: partition ids from one fixed hash, Arrow IPC payloads, and the
routing tags that make Spark's own shuffle send each payload to the partition Python chose.

A producer task hashes its rows' key values (:func:`partition_ids`), cuts them by target
partition, and writes each piece as Arrow IPC streams of about :data:`PAYLOAD_BYTES`
(:func:`to_payloads`), one ``(tag, payload)`` row per stream. ``tag`` is the small int whose
Spark hash lands in that partition (:func:`routing_tags`, computed once per P on the driver), so
``repartition("tag")`` moves every payload where Python chose; the consumer decodes its
partition's payloads (:func:`from_payloads`). Equal keys (NULLs included, -0.0 and 0.0, every
NaN) hash alike, so they meet in one partition; a task retried by Spark routes exactly as
before (no ``PYTHONHASHSEED``, no per-process state).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

#: The target size of one IPC payload (the benchmark's sweet spot, see the design doc §4).
PAYLOAD_BYTES = 4 << 20
#: The columns of a stage that emits bytes.
TAG, PAYLOAD = "tag", "payload"
PAYLOAD_SCHEMA = pa.schema([pa.field(TAG, pa.int32(), False), pa.field(PAYLOAD, pa.binary())])

_MASK = 0xFFFFFFFF
_NULL_SALT = np.uint64(0x9E3779B97F4A7C15)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a stage sends its rows: hash of ``keys`` into ``partitions``; ``tags[p]`` routes
    partition p through Spark's hash partitioning (no keys: everything to partition 0)."""

    keys: tuple[str, ...]
    partitions: int
    tags: tuple[int, ...]


def route(keys: tuple[str, ...], partitions: int) -> Route:
    partitions = max(1, partitions) if keys else 1
    return Route(keys, partitions, routing_tags(partitions))


# -- Spark's hash of an int (Murmur3_x86_32.hashInt, seed 42), for the routing tags -------------


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def spark_hash_int(value: int, seed: int = 42) -> int:
    """Spark's ``hash(cast(value as int))``: Murmur3 x86_32 of one int, as a signed int."""
    k1 = (value & _MASK) * 0xCC9E2D51 & _MASK
    k1 = _rotl(k1, 15) * 0x1B873593 & _MASK
    h1 = seed & _MASK ^ k1
    h1 = (_rotl(h1, 13) * 5 + 0xE6546B64) & _MASK
    h1 ^= 4
    h1 ^= h1 >> 16
    h1 = h1 * 0x85EBCA6B & _MASK
    h1 ^= h1 >> 13
    h1 = h1 * 0xC2B2AE35 & _MASK
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 >= 1 << 31 else h1


def routing_tags(partitions: int) -> tuple[int, ...]:
    """For each partition p, the smallest int ``t >= 0`` with Spark's
    ``pmod(hash(t), partitions) == p`` (what ``HashPartitioning`` computes for an int column)."""
    found: dict[int, int] = {}
    value = 0
    while len(found) < partitions:
        found.setdefault(spark_hash_int(value) % partitions, value)  # Python's % is pmod
        value += 1
    return tuple(found[p] for p in range(partitions))


# -- the fixed hash over normalised key values ------------------------------------------------


def hashable(arrow_type: pa.DataType) -> bool:
    """Whether :func:`partition_ids` hashes columns of this type."""
    t = arrow_type
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_date(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_decimal128(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_null(t)
    )


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (wrapping uint64 arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _bytes_hash(array: pa.Array) -> np.ndarray:
    """FNV-1a over each value's bytes (vectorised per byte position, longest values first)."""
    array = array.cast(pa.large_binary())
    n = len(array)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + n + 1]
    data_buffer = array.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0)
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    longest = int(lengths[0]) if n else 0
    active = n
    for j in range(longest):
        while active and lengths[active - 1] <= j:
            active -= 1
        h[:active] = (h[:active] ^ data[starts[:active] + j].astype(np.uint64)) * _FNV_PRIME
    h = h ^ lengths.astype(np.uint64)  # "ab" + "" and "a" + "b" over two columns differ
    out = np.empty(n, dtype=np.uint64)
    out[order] = h
    return out


def _value_bits(array: pa.Array) -> np.ndarray:
    """One uint64 per value, equal for equal (normalised) values; nulls are masked later."""
    t = array.type
    if pa.types.is_null(t):
        return np.zeros(len(array), dtype=np.uint64)
    if pa.types.is_floating(t):
        values = array.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        values = np.where(values == 0.0, 0.0, values)  # -0.0 groups with 0.0
        values = np.where(np.isnan(values), np.nan, values)  # one NaN
        return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    if pa.types.is_decimal128(t):
        n = len(array)
        words = np.frombuffer(array.buffers()[1], dtype=np.uint64)
        words = words[2 * array.offset : 2 * (array.offset + n)].reshape(n, 2)
        return _mix(words[:, 0]) ^ words[:, 1]
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        return _bytes_hash(array)
    if pa.types.is_boolean(t):
        array = array.cast(pa.int8())
    elif pa.types.is_date32(t):
        array = array.cast(pa.int32())
    elif pa.types.is_date(t) or pa.types.is_timestamp(t):
        array = array.cast(pa.int64())
    values = array.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(values, dtype=np.int64).view(np.uint64)


def partition_ids(
    table: pa.Table | pa.RecordBatch, keys: Iterable[str], partitions: int
) -> np.ndarray:
    """The partition (0..partitions-1) of each row, from a fixed hash of its key values."""
    n = table.num_rows
    h = np.zeros(n, dtype=np.uint64)
    for key in keys:
        column = table.column(key)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if not hashable(column.type):
            raise NotImplementedError(f"keys of type {column.type} are not hash-partitioned")
        bits = _mix(_value_bits(column))
        if column.null_count:
            valid = column.is_valid().to_numpy(zero_copy_only=False)
            bits = np.where(valid, bits, _NULL_SALT)
        h = _mix(h * _FNV_PRIME + bits)
    if partitions <= 1:
        return np.zeros(n, dtype=np.int64)
    return (h % np.uint64(partitions)).astype(np.int64)


# -- IPC payloads -------------------------------------------------------------------------------


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def to_payloads(table: pa.Table, target: Route) -> Iterator[pa.RecordBatch]:
    """``(tag, payload)`` batches: ``table``'s rows cut by target partition, as IPC streams of
    about :data:`PAYLOAD_BYTES` each. An empty table emits one empty payload (its schema)."""
    if table.num_rows == 0:
        yield _batch([target.tags[0]], [_ipc(table)])
        return
    pids = partition_ids(table, target.keys, target.partitions)
    order = np.argsort(pids, kind="stable")
    counts = np.bincount(pids, minlength=target.partitions)
    ordered = table.take(pa.array(order))
    row_bytes = max(1, ordered.nbytes // max(1, ordered.num_rows))
    per_payload = max(1, PAYLOAD_BYTES // row_bytes)
    tags, payloads = [], []
    start = 0
    for p, count in enumerate(counts.tolist()):
        for first in range(start, start + count, per_payload):
            piece = ordered.slice(first, min(per_payload, start + count - first))
            tags.append(target.tags[p])
            payloads.append(_ipc(piece))
            if len(payloads) == 16:  # ~64 MiB per batch handed to Spark
                yield _batch(tags, payloads)
                tags, payloads = [], []
        start += count
    if payloads:
        yield _batch(tags, payloads)


def _batch(tags: list[int], payloads: list[bytes]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array(tags, pa.int32()), pa.array(payloads, pa.binary())], schema=PAYLOAD_SCHEMA
    )


def from_payloads(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    """All the rows of the payloads in ``batches``, as one table of ``schema``."""
    tables = []
    for batch in batches:
        for payload in batch.column(PAYLOAD):
            tables.append(pa.ipc.open_stream(payload.as_buffer()).read_all())
    if not tables:
        return schema.empty_table()
    return pa.concat_tables([t.cast(schema) if t.schema != schema else t for t in tables])
