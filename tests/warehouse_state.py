"""A warehouse's whole state, to check that a command which failed (or only read) changed
nothing: every table's rows, the view definitions and the sequences."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb


def _plain(value):
    """NaN is not equal to itself: compare it as text."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def warehouse_state(db: Path) -> dict[str, list]:
    """Every table's rows (in a stable order), the view definitions and the sequences."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE schema_name = 'main' AND NOT internal ORDER BY 1"
            ).fetchall()
        ]
        state = {
            f"table {name}": [
                tuple(_plain(v) for v in row)
                for row in con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
            ]
            for name in tables
        }
        state["views"] = con.execute(
            "SELECT view_name, sql FROM duckdb_views() "
            "WHERE schema_name = 'main' AND NOT internal ORDER BY 1"
        ).fetchall()
        state["sequences"] = con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1"
        ).fetchall()
        return state
    finally:
        con.close()
