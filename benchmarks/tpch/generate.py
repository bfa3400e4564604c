"""TPC-H data for the spark_plugin tests and benchmark: DuckDB 1.2.2's bundled dbgen → Parquet.

DuckDB 1.2.2 is the last wheel with the tpch extension linked in (later ones download it), so
this works offline. Usage: ``python benchmarks/tpch/generate.py SF OUT_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path

TABLES = ("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier")
QUERIES = Path(__file__).resolve().parent / "queries"


def generate(scale_factor: float, out_dir: str | Path) -> Path:
    """Write one Parquet file per table into ``out_dir`` (skipped when already there)."""
    import duckdb

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    marker = out / f"_SUCCESS_sf{scale_factor}"
    if marker.exists():
        return out
    con = duckdb.connect()
    con.execute(f"CALL dbgen(sf={scale_factor})")
    for table in TABLES:
        con.execute(f"COPY {table} TO '{out / table}.parquet' (FORMAT parquet)")
    marker.touch()
    return out


def query(number: int) -> str:
    """DuckDB's text of TPC-H query ``number`` (runs unmodified in Spark SQL), no trailing ``;``."""
    return (QUERIES / f"q{number}.sql").read_text().strip().rstrip(";")


def write_queries() -> None:
    """Refresh the committed query texts from DuckDB's ``tpch_queries()``."""
    import duckdb

    con = duckdb.connect()
    con.execute("LOAD tpch")
    QUERIES.mkdir(exist_ok=True)
    for number, text in con.execute("SELECT query_nr, query FROM tpch_queries()").fetchall():
        (QUERIES / f"q{number}.sql").write_text(text.strip() + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["queries"]:
        write_queries()
    else:
        print(generate(float(sys.argv[1]), sys.argv[2]))
