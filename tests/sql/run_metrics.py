"""Runs docs/sql/metrics.sql with DuckDB over a lake written by `rapport export --parquet DIR`
and prints the rows as metrics.csv writes them (ratio with 4 decimals, empty for NULL).

    python run_metrics.py LAKE_DIR SQL_FILE
"""
import sys

import duckdb

lake, sql_file = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(
    "CREATE VIEW activities AS SELECT * FROM "
    f"read_parquet('{lake}/**/*.parquet', hive_partitioning = true)"
)
columns = None
for i, row in enumerate(con.execute(open(sql_file, encoding="utf-8").read()).fetchall()):
    if columns is None:
        columns = [d[0] for d in con.description]
        print(",".join(columns))
    cells = []
    for name, value in zip(columns, row):
        if value is None:
            cells.append("")
        elif name == "participation_ratio":
            cells.append(f"{value:.4f}")
        else:
            cells.append(str(value))
    print(",".join(cells))
