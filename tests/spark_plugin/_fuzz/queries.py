"""Random SQL over the fuzz tables: typed expressions, filters, aggregates, joins, subqueries."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .data import DATES, STRINGS, Table

#: Type families the expressions are built in (Spark coerces inside a family itself).
_FAMILY = {"byte": "I", "short": "I", "integer": "I", "long": "I", "float": "F", "double": "F"}
_FAMILY |= {"string": "S", "boolean": "B", "date": "T"}
_JOINS = ("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "LEFT SEMI JOIN", "LEFT ANTI JOIN")


@dataclass(frozen=True, slots=True)
class Query:
    sql: str
    #: A total ORDER BY: rows compare in order.
    ordered: bool
    #: Aggregates, sorts or joins: which zero (-0.0 or 0.0) comes back may differ.
    zero_sign_free: bool


def family(dtype: str) -> str:
    return "D" if dtype.startswith("decimal(") else _FAMILY[dtype]


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Generator:
    """One query per :meth:`query` call, from ``rng``, over ``tables`` (``fz_a``, ``fz_b``, ``fz_c``)."""

    def __init__(self, rng: random.Random, tables: list[Table]) -> None:
        self.rng = rng
        self.tables = {t.name: t for t in tables}
        self.scope: list[tuple[str, Table]] = []

    # -- expressions ------------------------------------------------------------------------

    def _columns(self, fam: str) -> list[str]:
        return [f"{a}.{c}" for a, t in self.scope for c, d in t.columns if family(d) == fam]

    def literal(self, fam: str) -> str:
        r = self.rng
        if fam == "I":
            return str(
                r.choice(
                    [
                        0,
                        1,
                        -1,
                        2,
                        3,
                        7,
                        100,
                        -128,
                        127,
                        2147483647,
                        -2147483648,
                        9223372036854775807,
                    ]
                )
            )
        if fam == "F":
            return r.choice(
                [
                    "1.5D",
                    "0.0D",
                    "-0.0D",
                    "-2.25D",
                    "CAST('NaN' AS DOUBLE)",
                    "CAST('Infinity' AS DOUBLE)",
                    "CAST(0.5 AS FLOAT)",
                    "1e10D",
                ]
            )
        if fam == "D":
            return r.choice(
                [
                    "1.25",
                    "0.005",
                    "-3.5",
                    "0",
                    "99999999.99",
                    "12345678901234567890.12",
                    "0.1",
                    "1000000",
                ]
            )
        if fam == "S":
            return quote(r.choice(STRINGS))
        if fam == "B":
            return r.choice(["true", "false", "CAST(NULL AS BOOLEAN)"])
        return f"DATE '{r.choice(DATES).isoformat()}'"

    def expr(self, fam: str, depth: int = 0) -> str:
        r = self.rng
        columns = self._columns(fam)
        if depth >= 3 or r.random() < 0.35:
            if columns and r.random() < 0.8:
                return r.choice(columns)
            return self.literal(fam) if fam != "B" else self.predicate(depth + 1)
        if fam == "B":
            return self.predicate(depth)
        d = depth + 1
        if depth == 0 and r.random() < 0.05:  # outside the rest of the generator's surface
            # (sqrt, trim, last_day are not offloaded; abs is, with its MIN_VALUE overflow)
            unsupported = {"I": "abs", "F": "sqrt", "D": "abs", "S": "trim", "T": "last_day"}
            return f"{unsupported[fam]}({self.expr(fam, d)})"
        common = [
            lambda: (
                f"CASE WHEN {self.predicate(d)} THEN {self.expr(fam, d)} ELSE {self.expr(fam, d)} END"
            ),
            lambda: f"coalesce({self.expr(fam, d)}, {self.expr(fam, d)})",
            lambda: f"CASE WHEN {self.predicate(d)} THEN {self.expr(fam, d)} END",
        ]
        if fam in "IFD":
            op = r.choice(["+", "-", "*"] + (["/"] if fam != "I" else ["%", "DIV"]))
            options = [
                lambda: f"({self.expr(fam, d)} {op} {self.expr(fam, d)})",
                lambda: f"(-{self.expr(fam, d)})",
                lambda: f"({self.expr(fam, d)} {op} {self.literal(fam)})",
            ]
            if fam == "I":
                options += [
                    lambda: (
                        f"CAST({self.expr(r.choice('IF'), d)} AS {r.choice(['TINYINT', 'SMALLINT', 'INT', 'BIGINT'])})"
                    ),
                    lambda: f"length({self.expr('S', d)})",
                    lambda: (
                        f"{r.choice(['year', 'month', 'dayofmonth', 'quarter'])}({self.expr('T', d)})"
                    ),
                ]
            elif fam == "F":
                options += [
                    lambda: (
                        f"CAST({self.expr(r.choice('IDF'), d)} AS {r.choice(['DOUBLE', 'FLOAT'])})"
                    ),
                ]
            else:
                p = r.choice([5, 10, 18, 20, 38])
                s = r.randint(0, min(p, 6))
                options += [
                    lambda: f"CAST({self.expr(r.choice('ID'), d)} AS DECIMAL({p},{s}))",
                ]
            return r.choice(options + common)()
        if fam == "S":
            options = [
                lambda: f"upper({self.expr('S', d)})",
                lambda: f"lower({self.expr('S', d)})",
                lambda: f"substring({self.expr('S', d)}, {r.randint(-3, 4)}, {r.randint(0, 4)})",
                lambda: f"concat({self.expr('S', d)}, {self.expr('S', d)})",
            ]
            return r.choice(options + common)()
        return r.choice(common)()

    def predicate(self, depth: int = 0) -> str:
        r = self.rng
        d = depth + 1
        fam = r.choice("IIFDSTB")
        if depth >= 3:
            return f"{self.expr(fam, d)} IS NOT NULL"
        roll = r.random()
        if roll < 0.35:
            cmp = r.choice(["=", "<", "<=", ">", ">=", "<>", "<=>"])
            return f"({self.expr(fam, d)} {cmp} {self.expr(fam, d)})"
        if roll < 0.5:
            joiner = r.choice(["AND", "OR"])
            return f"({self.predicate(d)} {joiner} {self.predicate(d)})"
        if roll < 0.57:
            return f"(NOT {self.predicate(d)})"
        if roll < 0.65:
            return f"({self.expr(fam, d)} IS {r.choice(['', 'NOT '])}NULL)"
        if roll < 0.75:
            values = ", ".join(self.literal(fam) for _ in range(r.randint(1, 4)))
            if r.random() < 0.2:
                values += ", NULL"
            return f"({self.expr(fam, d)} {r.choice(['', 'NOT '])}IN ({values}))"
        if roll < 0.88:
            pattern = "".join(
                r.choice(["a", "b", "%", "_", "\\\\%", "\\\\_", "!%", "x"])
                for _ in range(r.randint(1, 4))
            )
            escape = " ESCAPE '!'" if "!" in pattern and r.random() < 0.7 else ""
            return f"({self.expr('S', d)} {r.choice(['', 'NOT '])}LIKE '{pattern}'{escape})"
        low, high = self.expr(fam, d), self.expr(fam, d)
        return f"({self.expr(fam, d)} BETWEEN {low} AND {high})"

    def aggregate(self) -> str:
        r = self.rng
        fam = r.choice("IIFDDS T")
        fam = "S" if fam == " " else fam
        e = self.expr(fam, 1) if fam != "T" else self.expr("T", 2)
        choices = [f"count({e})", f"min({e})", f"max({e})", "count(*)", f"count(DISTINCT {e})"]
        if fam in "IFD":
            choices += [f"sum({e})", f"avg({e})", f"sum({e})", f"avg({e})"]
            if fam != "F":
                choices.append(f"sum(DISTINCT {e})")
        choices += ["count(DISTINCT 1)", f"sum(DISTINCT {self.literal('I')})", "stddev(1.0D)"]
        return r.choice(choices)

    # -- queries ----------------------------------------------------------------------------

    def _from(self, name: str, alias: str) -> str:
        self.scope.append((alias, self.tables[name]))
        return f"{name} {alias}"

    def _order(self, width: int, sql: str) -> tuple[str, bool]:
        r = self.rng
        if r.random() < 0.6:
            return sql, False
        keys = ", ".join(
            f"{i + 1} {r.choice(['ASC', 'DESC'])} {r.choice(['NULLS FIRST', 'NULLS LAST'])}"
            for i in range(width)
        )
        limit = f" LIMIT {r.choice([1, 3, 10, 100])}" if r.random() < 0.5 else ""
        return f"{sql} ORDER BY {keys}{limit}", True

    def _where(self) -> str:
        return f" WHERE {self.predicate()}" if self.rng.random() < 0.6 else ""

    def query(self) -> Query:
        self.scope = []
        r = self.rng
        shape = r.choice(
            [
                "project",
                "project",
                "group",
                "group",
                "global",
                "join",
                "join",
                "subquery",
                "literal",
                "distinct",
                "other",
            ]
        )
        table = r.choice(["fz_a", "fz_a", "fz_b", "fz_c"])
        if shape == "literal":
            source = self._from(table, "t")
            sql = (
                f"SELECT 1 AS c0, 'x' AS c1, {self.literal('D')} AS c2 FROM {source}{self._where()}"
            )
            return Query(sql, False, False)
        if shape in ("project", "distinct"):
            source = self._from(table, "t")
            width = r.randint(1, 4)
            items = ", ".join(f"{self.expr(r.choice('IFDSBT'))} AS c{i}" for i in range(width))
            distinct = "DISTINCT " if shape == "distinct" else ""
            sql, ordered = self._order(
                width, f"SELECT {distinct}{items} FROM {source}{self._where()}"
            )
            return Query(sql, ordered, ordered or bool(distinct))
        if shape in ("group", "global"):
            source = self._from(table, "t")
            keys = (
                [self.expr(r.choice("IISDBT"), 2) for _ in range(r.randint(1, 2))]
                if shape == "group"
                else []
            )
            aggs = [self.aggregate() for _ in range(r.randint(1, 3))]
            items = ", ".join(f"{e} AS c{i}" for i, e in enumerate([*keys, *aggs]))
            sql = f"SELECT {items} FROM {source}{self._where()}"
            if keys:
                sql += " GROUP BY " + ", ".join(keys)
                if r.random() < 0.3:
                    sql += f" HAVING {r.choice(['count(*) > 1', f'{self.aggregate()} IS NOT NULL', 'sum(t.k) > 2'])}"
                sql, ordered = self._order(len(keys) + len(aggs), sql)
                return Query(sql, ordered, True)
            return Query(sql, False, True)
        if shape == "join":
            how = r.choice((*_JOINS, "CROSS JOIN"))
            left = self._from(table, "l")
            right_name = r.choice(["fz_a", "fz_b", "fz_c"]) if how != "CROSS JOIN" else "fz_c"
            right = self._from(right_name, "r")
            on = ""
            if how != "CROSS JOIN":
                on = " ON l.k = r.k"
                if r.random() < 0.3:
                    on += f" AND {self.predicate(1)}"
            if "SEMI" in how or "ANTI" in how:
                self.scope = self.scope[:1]
            width = r.randint(1, 3)
            items = ", ".join(f"{self.expr(r.choice('IFDSBT'), 1)} AS c{i}" for i in range(width))
            self.scope = [("l", self.tables[table]), ("r", self.tables[right_name])][
                : 1 if "SEMI" in how or "ANTI" in how else 2
            ]
            sql, ordered = self._order(
                width, f"SELECT {items} FROM {left} {how} {right}{on}{self._where()}"
            )
            return Query(sql, ordered, True)
        if shape == "subquery":
            source = self._from(table, "t")
            inner = r.choice(["fz_a", "fz_b", "fz_c"])
            kind = r.choice(
                ["in", "not_in", "exists", "not_exists", "uncorrelated_exists", "scalar"]
            )
            if kind in ("in", "not_in"):
                cond = f"t.k {'NOT ' if kind == 'not_in' else ''}IN (SELECT s.k FROM {inner} s)"
            elif kind in ("exists", "not_exists"):
                cond = f"{'NOT ' if kind == 'not_exists' else ''}EXISTS (SELECT 1 FROM {inner} s WHERE s.k = t.k)"
            elif kind == "uncorrelated_exists":
                cond = f"EXISTS (SELECT 1 FROM {inner} s WHERE s.k > {r.randint(-1, 8)})"
            else:
                cond = f"t.k > (SELECT {r.choice(['max', 'min', 'avg'])}(s.k) FROM {inner} s)"
            width = r.randint(1, 3)
            items = ", ".join(f"{self.expr(r.choice('IFDSBT'), 1)} AS c{i}" for i in range(width))
            sql, ordered = self._order(width, f"SELECT {items} FROM {source} WHERE {cond}")
            return Query(sql, ordered, True)
        # Outside the supported surface: the plugin must leave these to Spark.
        source = self._from(table, "t")
        column = self.expr("I")
        sql = r.choice(
            [
                f"SELECT t.k, count(*) OVER (PARTITION BY t.k) AS c1 FROM {source}",
                f"SELECT {column} AS c0 FROM {source} UNION ALL SELECT {column} FROM {source}",
                f"SELECT t.k, {self.aggregate()} AS c1 FROM {source} GROUP BY ROLLUP(t.k)",
            ]
        )
        return Query(sql, False, True)
