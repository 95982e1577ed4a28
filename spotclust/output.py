"""Render query results as an aligned table, CSV, JSON or Markdown."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "csv", "json", "markdown")


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table") -> str:
    """The rows as text in the given format (table, csv, json or markdown)."""
    if fmt == "csv":
        return _csv(columns, rows)
    if fmt == "json":
        return json.dumps(
            [dict(zip(columns, row, strict=True)) for row in rows], default=_jsonable, indent=2
        )
    if fmt == "markdown":
        return _markdown(columns, rows)
    if fmt == "table":
        return _table(columns, rows)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def render_json(value: Any) -> str:
    """Any nested structure of plain values as indented JSON."""
    return json.dumps(value, default=_jsonable, indent=2)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)


# Control characters (ESC, BEL, ...) in data would drive the terminal: show them escaped.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)} | {
    c: f"\\u{c:04x}" for c in range(0x80, 0xA0)
}


def printable(text: str) -> str:
    """Text from the data as it may reach a terminal: control characters escaped."""
    return text.translate(_CONTROL)


_CONTROL_BUT_LINES = {c: e for c, e in _CONTROL.items() if chr(c) not in "\n\t"}


def terminal_text(text: str) -> str:
    """A block of output (lines of a table, a message) with every control character escaped
    except newlines and tabs: a path or value holding ESC cannot drive the terminal."""
    return text.translate(_CONTROL_BUT_LINES)


def _cell(value: Any) -> str:
    """Short, human-readable text for one value (control characters escaped)."""
    return printable(_text(value))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _csv(columns, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])
    return buffer.getvalue().rstrip("\n")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return json.dumps(value, default=_jsonable)
    return value


def _markdown(columns, rows) -> str:
    def escape(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(escape(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(escape(_cell(v)) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _table(columns, rows) -> str:
    table = Table(show_lines=False, header_style="bold")
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows) and rows
        for i in range(len(columns))
    ]
    # Text objects, never strings: rich would read "[/x]" in a track name as markup.
    for name, is_number in zip(columns, numeric, strict=True):
        table.add_column(
            Text(printable(str(name))), justify="right" if is_number else "left", overflow="fold"
        )
    for row in rows:
        table.add_row(*(Text(_cell(v)) for v in row))
    # Render at the table's natural width, so pipes and narrow terminals don't truncate cells.
    console = Console(width=10_000, record=True, file=io.StringIO(), color_system=None)
    console.print(table)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())
