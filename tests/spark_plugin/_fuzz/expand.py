"""Random queries that Spark plans with an Expand: ROLLUP, CUBE, GROUPING SETS (with grouping()
and grouping_id()), and several DISTINCT aggregates next to plain ones."""

from __future__ import annotations

import random

from . import data, queries


def _keys(gen: queries.Generator, rng: random.Random) -> list[str]:
    keys = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.7:
            columns = gen._columns(rng.choice("IISDTBF"))
            if columns:
                keys.append(rng.choice(columns))
                continue
        keys.append(gen.expr(rng.choice("IISDT"), 2))
    return list(dict.fromkeys(keys))


def _grouping(rng: random.Random, keys: list[str]) -> list[str]:
    if rng.random() < 0.5:
        return []
    parts = []
    if rng.random() < 0.6:
        parts.append(f"grouping({rng.choice(keys)})")
    if rng.random() < 0.6:
        parts.append("grouping_id()")
    return parts


def _sets(rng: random.Random, keys: list[str]) -> str:
    listed = ", ".join(keys)
    kind = rng.choice(["ROLLUP", "CUBE", "SETS"])
    if kind != "SETS":
        return f"{kind}({listed})"
    sets = []
    for _ in range(rng.randint(1, 4)):
        chosen = [k for k in keys if rng.random() < 0.5]
        sets.append("(" + ", ".join(chosen) + ")")
    return f"GROUPING SETS ({', '.join(sets)})"


def query(rng: random.Random, tables: list[data.Table]) -> queries.Query:
    gen = queries.Generator(rng, tables)
    gen.scope = []
    source = gen._from(rng.choice(["fz_a", "fz_a", "fz_b", "fz_c"]), "t")
    where = gen._where()
    if rng.random() < 0.55:
        keys = _keys(gen, rng)
        aggs = [gen.aggregate() for _ in range(rng.randint(1, 3))]
        columns = [*keys, *aggs, *_grouping(rng, keys)]
        items = ", ".join(f"{e} AS c{i}" for i, e in enumerate(columns))
        sql = f"SELECT {items} FROM {source}{where} GROUP BY {_sets(rng, keys)}"
        if rng.random() < 0.3:
            sql += f" HAVING {rng.choice(['count(*) > 1', f'grouping({keys[0]}) = 0'])}"
        width = len(columns)
    else:
        distinct = []
        for _ in range(rng.randint(2, 3)):
            fam = rng.choice("IISDT")
            e = gen.expr(fam, 2)
            func = "sum" if fam in "ID" and rng.random() < 0.4 else "count"
            distinct.append(f"{func}(DISTINCT {e})")
        aggs = distinct + [gen.aggregate() for _ in range(rng.randint(0, 2))]
        rng.shuffle(aggs)
        keys = [gen.expr(rng.choice("IS"), 2)] if rng.random() < 0.6 else []
        items = ", ".join(f"{e} AS c{i}" for i, e in enumerate([*keys, *aggs]))
        sql = f"SELECT {items} FROM {source}{where}"
        if keys:
            sql += f" GROUP BY {keys[0]}"
        width = len(keys) + len(aggs)
    sql, ordered = gen._order(width, sql)
    return queries.Query(sql, ordered, True)
