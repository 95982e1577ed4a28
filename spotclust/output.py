"""Render query results as an aligned table, CSV, JSON or Markdown: whole (render) or batch
by batch, in flat memory, however many rows there are (stream)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, repeat
from json.encoder import encode_basestring_ascii
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "csv", "json", "markdown")
# A table is for reading: past this many rows, stream shows the first ones and counts the rest
# (rendering a million took minutes; csv, json and markdown print every row).
TABLE_ROWS = 1000


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


def stream(
    columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]], fmt: str = "table"
) -> Iterator[str]:
    """The rows, arriving in batches, as chunks of text: csv, json and markdown exactly as
    render gives them (with the final newline), a chunk a batch, so that the memory taken is
    one batch's whatever the number of rows; a table of its first TABLE_ROWS rows, then a line
    that counts the rest (read and dropped)."""
    chunks = {"csv": _csv_chunks, "json": _json_chunks, "markdown": _markdown_chunks}
    if fmt == "table":
        return _table_chunks(columns, batches)
    if fmt not in chunks:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return chunks[fmt](columns, batches)


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
    lines = [
        "| " + " | ".join(_md_escape(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += [_markdown_row(row) for row in rows]
    return "\n".join(lines)


def _markdown_row(row) -> str:
    return "| " + " | ".join(_md_escape(_cell(v)) for v in row) + " |"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


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


# ---------------------------------------------------------------------------------- stream


def _csv_chunks(columns, batches) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    yield _taken(buffer)
    for batch in batches:
        if set(map(type, chain.from_iterable(batch))) <= _AS_THEY_ARE:
            writer.writerows(batch)  # as _plain would pass them on, with no call per value
        else:
            writer.writerows(["" if v is None else _plain(v) for v in row] for row in batch)
        yield _taken(buffer)


# Values that _plain passes on as they are, and csv writes the same (None as "")
_AS_THEY_ARE = frozenset({int, float, str, bool, Decimal, type(None)})


def _taken(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _json_chunks(columns, batches) -> Iterator[str]:
    """One array, as json.dumps(indent=2) of a list of dicts lays it out, a batch at a time."""
    # dict(zip(...)) semantics: a name given twice keeps its first place and its last value
    last = {name: i for i, name in enumerate(columns)}
    # An object is "  {\n    KEY: value,\n    KEY: value\n  }"; objects are joined by ",\n".
    keys = [encode_basestring_ascii(name) for name in last]
    layout = [f"  {{\n    {keys[0]}: ", *(f",\n    {key}: " for key in keys[1:]), "\n  }"]
    opened = False
    for batch in batches:
        if batch:
            objects = _json_objects(batch, list(last.values()), layout)
            if objects is None:  # some other kind of value: json's own encoder
                whole = [dict(zip(columns, row, strict=True)) for row in batch]
                objects = json.dumps(whole, default=_jsonable, indent=2)[2:-2]  # without [ ]
            yield (",\n" if opened else "[\n") + objects
            opened = True
    yield "\n]\n" if opened else "[]\n"


def _json_objects(batch, picks: list[int], layout: list[str]) -> str | None:
    """The batch's objects laid out as json.dumps(indent=2) does inside the array, encoded a
    column at a time and joined in one go (3x faster); None if a column holds anything but
    numbers, text, booleans and NULLs."""
    columns = list(zip(*batch, strict=True))
    encoded = []
    for i in picks:
        values = columns[i]
        kinds = set(map(type, values))
        if kinds == {int}:
            encoded.append(map(int.__repr__, values))
        elif kinds == {str}:
            encoded.append(map(encode_basestring_ascii, values))
        elif kinds == {float} and all(map(math.isfinite, values)):
            encoded.append(map(float.__repr__, values))
        elif kinds <= _JSON_SCALARS:
            encoded.append(map(_json_scalar, values))
        else:
            return None
    # Each value, then what follows it (the next key, or the end of the object and the start
    # of the next one), all joined in one go; the last start cut off.
    after = [*layout[1:-1], layout[-1] + ",\n" + layout[0]]
    interleaved: list = []
    for values, following in zip(encoded, after, strict=True):
        interleaved += [values, repeat(following)]
    joined = "".join(chain.from_iterable(zip(*interleaved, strict=False)))  # to the last row
    return layout[0] + joined.removesuffix(after[-1]) + layout[-1]


_JSON_SCALARS = frozenset({int, float, str, bool, type(None)})


def _json_scalar(value: int | float | str | bool | None) -> str:
    """The value as json.dumps writes it (ensure_ascii, NaN and Infinity allowed)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    return int.__repr__(value)


def _markdown_chunks(columns, batches) -> Iterator[str]:
    yield _markdown(columns, []) + "\n"
    for batch in batches:
        if batch:
            yield "".join(_markdown_row(row) + "\n" for row in batch)


def _table_chunks(columns, batches) -> Iterator[str]:
    batches = iter(batches)
    rows: list = []
    for batch in batches:
        rows.extend(batch)
        if len(rows) > TABLE_ROWS:
            break
    yield _table(columns, rows[:TABLE_ROWS]) + "\n"
    more = len(rows) - TABLE_ROWS
    if more > 0:
        more += sum(len(batch) for batch in batches)  # counted as they come, never kept
        yield (
            f"... {more:,} more row{'s' if more > 1 else ''} not shown ({TABLE_ROWS + more:,} "
            "in all): use --format csv, json or markdown for every row, or add LIMIT\n"
        )
