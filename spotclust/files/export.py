"""Export a run's assignments joined with the tracks' details, as Parquet or CSV.

One row per row the run clustered (per track, or per genre listing for a `--rows listings`
run), in file order. The warehouse is read through a read-only connection that cannot touch
files; pyarrow writes the file, batch by batch, so memory stays bounded at any size.

    from spotclust.files.export import export
    path, rows = export(out="run.parquet")          # the latest run
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from spotclust.errors import ConfigError
from spotclust.model.config import BATCH_ROWS
from spotclust.runs.resolve import check_run_data, resolve_run
from spotclust.warehouse import connection, read_sql
from spotclust.whole_file import write_whole

FORMATS = ("parquet", "csv")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def export(
    run_id: int | None = None,
    fmt: str | None = None,
    *,
    out: str | Path,
    db: str | Path | None = None,
) -> tuple[Path, int]:
    """Write a run (the latest when run_id is None) to out; returns (path, rows written).

    fmt: 'parquet' or 'csv'; None: from the suffix of out (.parquet, .pq, .csv), Parquet
    when it has none. In CSV the list of genres is one field, joined with '|'.
    """
    out = Path(out)
    fmt = _format(fmt, out)
    _check_writable(out)
    with connection(db, read_only=True, external_access=False) as con:
        run = resolve_run(con, run_id)
        check_run_data(con, run, then="export")
        reader = con.sql(export_query(con), params={"run_id": run["run_id"]}).to_arrow_reader(
            BATCH_ROWS
        )
        rows = _write(reader, out, fmt)
    return out, rows


def export_query(con) -> str:
    """The rows of a run ($run_id) with track details, features and cluster label (NULL in
    a warehouse from before cluster labels)."""
    [(has_labels,)] = con.execute(read_sql("queries/has_cluster_labels.sql")).fetchall()
    return read_sql("queries/export_run.sql").format(
        label_column="l.label" if has_labels else "CAST(NULL AS VARCHAR)",
        label_join="LEFT JOIN cluster_labels AS l ON l.run_id = a.run_id AND l.cluster = a.cluster"
        if has_labels
        else "",
    )


def _format(fmt: str | None, out: Path) -> str:
    if fmt is None:
        suffix = out.suffix.lower()
        if suffix and suffix not in SUFFIXES:
            raise ConfigError(
                f"cannot tell the format of {out.name} from its suffix: "
                f"pass --format {' or '.join(FORMATS)}"
            )
        return SUFFIXES.get(suffix, "parquet")
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: use one of {', '.join(FORMATS)}")
    return fmt


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise ConfigError(f"{out} is a directory: pass --out with a file name")
    if not out.parent.is_dir():
        raise ConfigError(f"cannot write {out}: there is no directory {out.parent}")


def _write(reader: pa.RecordBatchReader, out: Path, fmt: str) -> int:
    """Write the batches, whole or not at all (write_whole); returns the rows written."""

    def write(partial: Path) -> int:
        rows = 0
        if fmt == "parquet":
            with pq.ParquetWriter(partial, reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    rows += batch.num_rows
        else:
            schema = _csv_schema(reader.schema)
            with pacsv.CSVWriter(partial, schema) as writer:
                for batch in reader:
                    writer.write_batch(_csv_batch(batch, schema))
                    rows += batch.num_rows
        return rows

    return write_whole(out, write)


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    """CSV has no lists: genres becomes text."""
    return schema.set(schema.get_field_index("genres"), pa.field("genres", pa.string()))


def _csv_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    index = schema.get_field_index("genres")
    genres = pc.binary_join(batch.column(index), "|")
    return batch.set_column(index, schema.field(index), genres)
