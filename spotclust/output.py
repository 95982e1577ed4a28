"""Render query results as an aligned table, CSV, JSON or Markdown: whole (render) or batch
by batch, in flat memory, however many rows there are (stream)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, repeat
from json.encoder import encode_basestring_ascii
from typing import Any

from rich.cells import cell_len
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


def terminal_width() -> int | None:
    """The width output must fit: COLUMNS when set, else the terminal's when stdout is one;
    None (any width: a pipe, a file) otherwise."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    except (AttributeError, ValueError, OSError):  # a replaced or closed stdout
        return None


MIN_COLUMN = 7  # a text column narrower than this is no longer read: the rows become records
WORD_COLUMN = 24  # a word up to this long is kept whole where the width allows


def _table(columns, rows) -> str:
    """An aligned table at its natural width; at terminal_width(), long text folded to fit,
    or, when even that cannot fit every column, one record of "column value" lines a row."""
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows) and rows
        for i in range(len(columns))
    ]
    # Text objects, never strings: rich would read "[/x]" in a track name as markup.
    headers = [Text(printable(str(name))) for name in columns]
    cells = [[Text(_cell(v)) for v in row] for row in rows]
    width = terminal_width()
    widths = _fitted(headers, cells, numeric, width) if width else [None] * len(columns)
    if widths is None:
        return _records(headers, cells, width)
    table = Table(show_lines=False, header_style="bold")
    for header, is_number, column_width in zip(headers, numeric, widths, strict=True):
        justify = "right" if is_number else "left"
        table.add_column(header, justify=justify, overflow="fold", width=column_width)
    for row in cells:
        table.add_row(*row)
    return _printed(table, width)


def _printed(renderable, width: int | None) -> str:
    # Without a width, the natural one: pipes and files never see a cell cut or folded.
    console = Console(width=width or 10_000, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def _fitted(headers, cells, numeric, width: int) -> list[int | None] | None:
    """Column widths that fit width (None each: they fit as they are), the widest columns
    narrowed first; numbers keep their width, and words theirs where there is room. None
    when the columns cannot fit."""
    columns = [[h, *(row[i] for row in cells)] for i, h in enumerate(headers)]
    natural = [max(t.cell_len for t in texts) for texts in columns]
    room = width - 3 * len(headers) - 1  # a border and a space either side of every cell
    if sum(natural) <= room:
        return [None] * len(headers)
    values = [max([0, *(t.cell_len for t in texts[1:])]) for texts in columns]
    least = [  # numbers whole; text (and a header over no number) at least MIN_COLUMN wide
        v if numeric[i] and v else min(n, MIN_COLUMN)
        for i, (n, v) in enumerate(zip(natural, values, strict=True))
    ]
    floor = next((f for f in (
        _whole_words(least, columns), _whole_words(least, [c[1:] for c in columns]), least
    ) if sum(f) <= room), None)  # fmt: skip
    if floor is None:
        return None
    low, high = 0, max(natural)  # the largest cap on any column's width that still fits
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(f, min(n, cap)) for f, n in zip(floor, natural, strict=True)) <= room:
            low = cap
        else:
            high = cap - 1
    return [max(f, min(n, low)) for f, n in zip(floor, natural, strict=True)]


def _whole_words(least: list[int], columns) -> list[int]:
    """least, widened so that every word of the columns' texts is whole (up to WORD_COLUMN)."""
    return [
        max(
            floor, min(WORD_COLUMN, max(cell_len(w) for t in texts for w in [*t.plain.split(), ""]))
        )
        for floor, texts in zip(least, columns, strict=True)
    ]


def _records(headers, cells, width: int) -> str:
    """Each row as a block of "column  value" lines, under a rule that numbers the row."""
    label = min(max(h.cell_len for h in headers), width // 3)
    blocks = []
    for n, row in enumerate(cells, 1):
        grid = Table.grid(padding=(0, 2))
        grid.add_column(width=label, overflow="fold")
        grid.add_column(width=max(1, width - label - 2), overflow="fold")
        for header, cell in zip(headers, row, strict=True):
            grid.add_row(header, cell)
        blocks += [f"-[ row {n} ]".ljust(width, "-"), _printed(grid, width)]
    return "\n".join(blocks) or "(no rows; columns: " + ", ".join(map(str, headers)) + ")"


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
