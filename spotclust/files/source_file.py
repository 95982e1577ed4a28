"""The file given to ingest, before DuckDB reads it: is it a regular file with content, what
format is it, its hash, and whether it ends in blank lines DuckDB's CSV reader refuses."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import re
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from spotclust.errors import InputFileError


def check_file(path: Path) -> None:
    """Refuse what cannot be a tracks file before opening it (a FIFO would block forever,
    /dev/zero never ends)."""
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a symbolic link loop: exists() raises ELOOP
        raise InputFileError(f"cannot follow {path}: {exc.strerror}: check the path") from exc
    if not exists and path.is_symlink():
        raise InputFileError(
            f"{path} is a symbolic link that leads nowhere (a loop, or a missing target): "
            "check where it points"
        )
    if not exists:
        raise InputFileError(f"no such file: {path}: check the path")
    if path.is_dir():
        raise InputFileError(f"{path} is a directory: give a CSV, .csv.gz or Parquet file")
    if not path.is_file():
        raise InputFileError(
            f"{path} is not a regular file (a pipe, device or socket): save the data to a "
            "file and ingest that"
        )
    try:
        with path.open("rb") as f:
            first = f.read(1)
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}: check its permissions") from exc
    if not first:
        raise InputFileError(f"{path} is empty: give a file with a header row and data rows")
    if blank := _blank_content(path):
        raise InputFileError(
            f"{path} is empty ({blank}): give a file with a header row and data rows"
        )


def _blank_content(path: Path) -> str | None:
    """Why a file that has bytes holds nothing to read ('a gzip file with nothing inside',
    'blank lines only'); None when it holds anything else, or is a damaged gzip (reported
    when it is read). Reads until the first character that is not whitespace."""
    with path.open("rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    seen = 0
    try:
        with gzip.open(path) if compressed else path.open("rb") as stream:
            while block := stream.read(1 << 16):
                if block.strip():
                    return None
                seen += len(block)
    except (OSError, EOFError, zlib.error):
        return None
    if compressed and not seen:
        return "a gzip file with nothing inside"
    return "blank lines only"


# Whitespace after the last line that holds anything, kept to decide about a blank tail.
_TAIL_LIMIT = 1 << 20
_LINE_BREAK = re.compile(rb"[ \t\v\f]*(\r\n|\n|\r)")


def blank_tail(path: Path) -> int | None:
    """Where a CSV's content (decompressed, for a gzip) should end for DuckDB's reader, when
    it ends in blank lines that reader refuses (LF lines after CRLF rows, lines of spaces,
    a lone CR): just after the line break of its last line that holds anything. None when it
    ends as DuckDB reads it: without blank lines, or with empty lines of its own line break.
    """
    with path.open("rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    try:
        last, tail = _last_content(path, compressed)
    except (OSError, EOFError, zlib.error):
        return None  # a damaged gzip: reported as such
    end = _LINE_BREAK.match(tail)
    if last is None or end is None:
        return None
    rest, line_break = tail[end.end() :], end.group(1)
    if len(tail) <= _TAIL_LIMIT and rest == line_break * (len(rest) // len(line_break)):
        return None
    return last + end.end()


def _last_content(path: Path, compressed: bool) -> tuple[int | None, bytes]:
    """The offset just after the content's last byte that is not whitespace (None: none),
    and the whitespace after it (cut at _TAIL_LIMIT + 1 bytes)."""
    if compressed:  # a gzip cannot be read from its end: decompress it all
        last, tail, offset = None, b"", 0
        with gzip.open(path) as stream:
            while block := stream.read(1 << 20):
                kept = block.rstrip()
                if kept:
                    last, tail = offset + len(kept), block[len(kept) :]
                elif len(tail) <= _TAIL_LIMIT:
                    tail += block
                offset += len(block)
        return last, tail[: _TAIL_LIMIT + 1]
    with path.open("rb") as f:
        end, tail = f.seek(0, 2), b""
        while end > 0:
            start = max(0, end - (1 << 16))
            f.seek(start)
            block = f.read(end - start)
            kept = block.rstrip()
            if kept:
                return start + len(kept), (block[len(kept) :] + tail)[: _TAIL_LIMIT + 1]
            if len(tail) <= _TAIL_LIMIT:
                tail = block + tail
            end = start
    return None, tail


@contextlib.contextmanager
def without_blank_tail(path: Path, keep: int) -> Iterator[Path]:
    """A plain CSV copy of path's first keep bytes (decompressed), in a temporary folder."""
    with path.open("rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    with tempfile.TemporaryDirectory(prefix="spotclust-") as folder:
        copy = Path(folder) / path.name
        try:
            with (
                gzip.open(path) if compressed else path.open("rb") as source,
                copy.open("wb") as out,
            ):
                left = keep
                while left > 0 and (block := source.read(min(1 << 20, left))):
                    out.write(block)
                    left -= len(block)
        except OSError as exc:
            raise InputFileError(
                f"{path} ends in blank lines DuckDB cannot read, and no copy without them "
                f"could be made in {folder} ({exc.strerror}): remove the blank lines at its "
                "end and retry"
            ) from exc
        yield copy


def detect_format(path: Path) -> str:
    """'parquet', 'csv.gz' or 'csv', from the file's first bytes."""
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        return "parquet"
    name = path.name.lower()
    if name.endswith(".parquet"):
        raise InputFileError(f"{path} is not a valid Parquet file: export it again")
    return "csv.gz" if magic[:2] == b"\x1f\x8b" else "csv"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
