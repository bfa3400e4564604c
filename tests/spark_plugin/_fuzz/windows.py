"""Random window queries over the fuzz tables: ranks, lag/lead, aggregates over random frames.

Spark leaves the order of rows that tie on the ORDER BY keys open. Functions whose answers depend
on it (row_number, lag/lead, ROWS frames) order by the drawn keys and then by every column of
the table: rows that still tie are equal in every column, so either order gives the same rows
(up to the sign of a zero, which the comparison then ignores). Ranks and RANGE frames take ties
as they come.
"""

from __future__ import annotations

import random

from .data import Table
from .queries import Generator, Query, family


def _bound(rng: random.Random, side: str) -> str:
    roll = rng.random()
    if roll < 0.25:
        return f"UNBOUNDED {side}"
    if roll < 0.45:
        return "CURRENT ROW"
    return f"{rng.choice([1, 1, 2, 3, 5, 40])} {rng.choice(['PRECEDING', 'FOLLOWING'])}"


def _rows_frame(rng: random.Random) -> str:
    while True:
        lower, upper = _bound(rng, "PRECEDING"), _bound(rng, "FOLLOWING")

        def offset(bound: str, unbounded: int) -> int:
            if bound.startswith("UNBOUNDED"):
                return unbounded
            if bound == "CURRENT ROW":
                return 0
            n, direction = bound.split()
            return int(n) * (-1 if direction == "PRECEDING" else 1)

        if offset(lower, -1000) <= offset(upper, 1000):
            return f" ROWS BETWEEN {lower} AND {upper}"


class _Windows:
    def __init__(self, rng: random.Random, tables: list[Table]) -> None:
        self.rng = rng
        self.table = rng.choice([t for t in tables if t.name != "fz_c"] + tables)
        self.exprs = Generator(rng, tables)
        self.exprs.scope = [("t", self.table)]

    def _column(self, families: str) -> str | None:
        names = [c for c, d in self.table.columns if family(d) in families]
        return f"t.{self.rng.choice(names)}" if names else None

    def _key(self) -> str:
        r = self.rng
        if r.random() < 0.7:
            return self._column("IFDSTB") or "t.k"
        return self.exprs.expr(r.choice("IFDST"), 2)

    def _spec(self, ordered: bool, total: bool) -> str:
        r = self.rng
        parts = [self._key() for _ in range(r.choice([0, 1, 1, 2]))]
        spec = f"PARTITION BY {', '.join(parts)}" if parts else ""
        if not ordered:
            return spec
        keys = [
            f"{self._key()} {r.choice(['', 'ASC', 'DESC'])} {r.choice(['', 'NULLS FIRST', 'NULLS LAST'])}"
            for _ in range(r.randint(1, 2))
        ]
        if total:
            keys += [f"t.{c} {r.choice(['ASC', 'DESC'])}" for c, _ in self.table.columns]
        return f"{spec} ORDER BY {', '.join(keys)}"

    def _aggregate(self, plain: bool) -> str:
        """``plain``: a column argument (over a ROWS frame, rows that tie but for the sign of a
        zero may swap places; an expression such as 1/x would tell them apart)."""
        r = self.rng
        fam = r.choice("IIFDDSTB")
        arg = self._column(fam) if plain or r.random() < 0.7 else None
        if arg is None and plain:
            return "count(*)"
        arg = arg or self.exprs.expr(fam if fam != "B" else "I", 2)
        choices = [f"count({arg})", "count(*)"]
        if fam != "B":
            choices += [f"min({arg})", f"max({arg})"]
        if fam in "IFD":
            choices += [f"sum({arg})", f"avg({arg})", f"sum({arg})"]
        return r.choice(choices)

    def function(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.2:
            name = r.choice(["rank", "dense_rank", "rank", "row_number"])
            return f"{name}() OVER ({self._spec(True, name == 'row_number')})"
        if roll < 0.35:
            arg = self._column("IFDSTB") or "t.k"
            offset = r.choice([1, 1, 2, 3, -1, 0])
            default = f", {arg}" if r.random() < 0.2 else ""
            name = r.choice(["lag", "lead"])
            return f"{name}({arg}, {offset}{default}) OVER ({self._spec(True, True)})"
        shape = r.random()
        agg = self._aggregate(plain=shape >= 0.6)
        if shape < 0.25:
            return f"{agg} OVER ({self._spec(False, False)})"
        if shape < 0.5:
            return f"{agg} OVER ({self._spec(True, False)})"
        if shape < 0.6:
            bounds = r.choice(
                [
                    "CURRENT ROW AND UNBOUNDED FOLLOWING",
                    "CURRENT ROW AND CURRENT ROW",
                    "UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
                ]
            )
            return f"{agg} OVER ({self._spec(True, False)} RANGE BETWEEN {bounds})"
        return f"{agg} OVER ({self._spec(True, True)}{_rows_frame(r)})"


def query(rng: random.Random, tables: list[Table]) -> Query:
    """One window query over one of ``tables``, its rows compared in any order."""
    w = _Windows(rng, tables)
    columns = ", ".join(f"t.{c}" for c, _ in w.table.columns)
    functions = ", ".join(f"{w.function()} AS w{i}" for i in range(rng.randint(1, 3)))
    where = f" WHERE {w.exprs.predicate()}" if rng.random() < 0.3 else ""
    sql = f"SELECT {columns}, {functions} FROM {w.table.name} t{where}"
    if rng.random() < 0.15:
        sql = f"SELECT * FROM ({sql}) WHERE w0 IS NOT NULL"
    return Query(sql, ordered=False, zero_sign_free=True)
