"""Ingest a data frame: a polars or pandas DataFrame, or a pyarrow Table.

The frame is written to a temporary Parquet file and that file goes through ingest's normal
path, so every check a file meets applies to it. The ingests row names the frame's kind
('<polars.DataFrame>') instead of the temporary file, and so do the error messages.

    from spotclust.files.frames import ingest_frame
    result = ingest_frame(pl.read_csv("tracks.csv"), db="w.duckdb")
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from spotclust.errors import InputFileError
from spotclust.files.ingest import IngestResult, ingest

KINDS = ("polars.DataFrame", "pandas.DataFrame", "pyarrow.Table")


def frame_kind(frame: Any) -> str | None:
    """'polars.DataFrame', 'pandas.DataFrame' or 'pyarrow.Table'; None for anything else.

    Found by the class's module, so that asking never imports pandas."""
    cls = type(frame)
    kind = f"{cls.__module__.split('.')[0]}.{cls.__name__}"
    return kind if kind in KINDS else None


def ingest_frame(
    frame: Any,
    db: str | Path | None = None,
    column_map: dict[str, str] | None = None,
    label_column: str | None = None,
) -> IngestResult:
    """ingest() of a data frame's rows (its pandas index left out) -> IngestResult, whose
    source is the frame's name, e.g. Path('<polars.DataFrame>')."""
    kind = frame_kind(frame)
    if kind is None:
        raise InputFileError(
            f"cannot ingest a {type(frame).__module__}.{type(frame).__qualname__}: give a path, "
            f"or one of {', '.join(KINDS)}"
        )
    name = f"<{kind}>"
    with tempfile.TemporaryDirectory(prefix="spotclust-") as folder:
        path = Path(folder) / "frame.parquet"
        _write_parquet(frame, kind, path, name)
        try:
            result = ingest(path, db, column_map, label_column, source_name=name)
        except InputFileError as exc:  # name the frame, not the temporary file
            message = str(exc).replace(str(path.resolve()), name).replace(str(path), name)
            raise InputFileError(message) from exc
    return replace(result, source=Path(name))


def _write_parquet(frame: Any, kind: str, path: Path, name: str) -> None:
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if kind == "polars.DataFrame":
            frame.write_parquet(path)
        elif kind == "pandas.DataFrame":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            pq.write_table(frame, path)
    except OSError as exc:
        raise InputFileError(
            f"{name}: cannot write it as Parquet in {path.parent} for ingest ({exc}): free "
            "some space in the temporary folder (TMPDIR) and retry"
        ) from exc
    except (pa.ArrowException, pl.exceptions.PolarsError, TypeError, ValueError) as exc:
        # a column with no Parquet type (Python objects, mixed types)
        raise InputFileError(
            f"{name} cannot be written as Parquet ({type(exc).__name__}: {exc}): give its "
            "columns plain types (numbers, text, booleans)"
        ) from exc
