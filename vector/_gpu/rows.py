"""The GPU path's row store on the host: vectors, id labels, tombstones and buffered adds.

Every added vector gets an append-only row number; cuVS only ever sees rows. ``labels[row]`` is
the id faiss would return, ``alive[row]`` is False once removed (a tombstone, passed to cuVS as a
filter bitset: cuVS has no delete). The host copy also serves reconstruct, range search, the
move to the CPU after an out-of-memory error, and rebuilds after compaction.
"""

from __future__ import annotations

import numpy as np

from vector._params import IDSelector

__all__ = ["RowStore"]


class RowStore:
    """Host rows of one GPU-path index (the caller holds the index lock)."""

    def __init__(self, d: int) -> None:
        self.d = int(d)
        self.clear()

    def clear(self) -> None:
        self.host = np.empty((0, self.d), dtype=np.float32)
        self.labels = np.empty(0, dtype=np.int64)
        self.alive = np.empty(0, dtype=bool)
        self.n_alive = 0
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.n_pending = 0

    @property
    def n_rows(self) -> int:
        return int(self.alive.size)

    @property
    def ntotal(self) -> int:
        return self.n_alive + self.n_pending

    def buffer(self, x: np.ndarray, ids: np.ndarray) -> None:
        """Queue rows for the next flush (copies: the caller may reuse its arrays)."""
        self.pending.append((x.copy(), ids.copy()))
        self.n_pending += x.shape[0]

    def take_pending(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The buffered rows as one block (still buffered until :meth:`commit`), or None."""
        if not self.pending:
            return None
        return (
            np.concatenate([p[0] for p in self.pending]),
            np.concatenate([p[1] for p in self.pending]),
        )

    def commit(self, new_x: np.ndarray, new_ids: np.ndarray) -> int:
        """Append the buffered block to the rows; returns the first new row."""
        first_row = self.n_rows
        self.host = np.concatenate([self.host, new_x])
        self.labels = np.concatenate([self.labels, new_ids])
        self.alive = np.concatenate([self.alive, np.ones(new_x.shape[0], dtype=bool)])
        self.n_alive += new_x.shape[0]
        self.pending, self.n_pending = [], 0
        return first_row

    def keep_mask(self, sel: IDSelector | None) -> np.ndarray | None:
        """Rows a search may return, or None when every row may."""
        keep = self.alive
        if sel is not None:
            keep = keep & sel.mask(self.labels)
        elif self.n_alive == self.n_rows:
            return None
        return keep

    def live_mask(self, sel: IDSelector | None) -> np.ndarray:
        return self.alive if sel is None else self.alive & sel.mask(self.labels)

    def tombstone(self, sel: IDSelector) -> int:
        """Mark the selected live rows dead; returns how many."""
        hit = self.alive & sel.mask(self.labels)
        count = int(hit.sum())
        if count:
            self.alive[hit] = False
            self.n_alive -= count
        return count

    @property
    def dead_fraction(self) -> float:
        return (self.n_rows - self.n_alive) / self.n_rows if self.n_rows else 0.0

    def live(self) -> tuple[np.ndarray, np.ndarray]:
        """The live committed rows and their labels (for compaction)."""
        return self.host[self.alive], self.labels[self.alive]

    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """The live vectors and their ids, in row order, buffered adds included."""
        vectors = [self.host[self.alive], *(p[0] for p in self.pending)]
        labels = [self.labels[self.alive], *(p[1] for p in self.pending)]
        return np.concatenate(vectors), np.concatenate(labels)

    def row_of(self, key: int, by_position: bool) -> int:
        """The live row holding id ``key`` (``by_position``: id == row); RuntimeError if none."""
        if by_position:
            if 0 <= key < self.n_rows:
                return key
        else:
            rows = np.flatnonzero((self.labels == key) & self.alive)
            if rows.size:
                return int(rows[0])
        raise RuntimeError(f"reconstruct: id {key} is not in the index")
