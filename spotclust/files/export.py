"""Export a run's assignments joined with the tracks' details, as Parquet or CSV.

One row per row the run clustered (per track, or per genre listing for a `--rows listings`
run), in file order. The warehouse is read through a read-only connection that cannot touch
files; pyarrow writes the file, batch by batch, so memory stays bounded at any size.

    from spotclust.export import export
    path, rows = export(out="run.parquet")          # the latest run
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from spotclust import warehouse
from spotclust.errors import ConfigError, WarehouseError
from spotclust.features import BATCH_ROWS

FORMATS = ("parquet", "csv")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}

# {label}: the cluster_labels join when that table exists (warehouses from before it have
# none). Only fixed SQL goes into it; the run id is bound.
_QUERY = """
WITH genres AS (
    SELECT track_id, list(genre ORDER BY genre) AS genres FROM track_genres GROUP BY track_id
)
SELECT
    a.run_id, a.track_id, a.row_number, a.cluster, {label_column} AS cluster_label,
    a.pc1, a.pc2, a.distance,
    v.artists, v.album_name, v.track_name, v.genre, g.genres,
    v.popularity, v.duration_ms, v.explicit, v.danceability, v.energy, v."key", v.loudness,
    v."mode", v.speechiness, v.acousticness, v.instrumentalness, v.liveness, v.valence,
    v.tempo, v.time_signature
FROM assignments AS a
JOIN valid_rows AS v USING (row_number)
LEFT JOIN genres AS g ON g.track_id = a.track_id
{label_join}
WHERE a.run_id = $run_id
ORDER BY a.row_number
"""


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
    con = warehouse.connect(db, read_only=True, external_access=False)
    try:
        run_id = _run_id(con, run_id)
        warehouse.check_run_data(con, run_id, then="export")
        has_labels = _one(
            con,
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = 'cluster_labels'",
        )[0]
        query = _QUERY.format(
            label_column="l.label" if has_labels else "CAST(NULL AS VARCHAR)",
            label_join="LEFT JOIN cluster_labels AS l ON l.run_id = a.run_id "
            "AND l.cluster = a.cluster"
            if has_labels
            else "",
        )
        reader = con.sql(query, params={"run_id": run_id}).to_arrow_reader(BATCH_ROWS)
        rows = _write(reader, out, fmt)
    finally:
        con.close()
    return out, rows


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


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> tuple | None:
    """The first row of a query. fetchall: DuckDB refuses con.sql() while a result is open."""
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0] if rows else None


def _run_id(con: duckdb.DuckDBPyConnection, run_id: int | None) -> int:
    if run_id is None:
        row = _one(con, "SELECT run_id FROM latest_run")
        if row is None:
            raise WarehouseError(
                "this warehouse has no clustering runs yet: run `spotclust cluster` first"
            )
        return row[0]
    found = _one(con, "SELECT count(*) FROM runs WHERE run_id = $run_id", {"run_id": run_id})[0]
    if not found:
        raise ConfigError(f'no run {run_id}: see `spotclust sql "SELECT run_id FROM runs"`')
    return run_id


def _write(reader: pa.RecordBatchReader, out: Path, fmt: str) -> int:
    """Write the batches to a hidden file next to out, then rename it: no half-written out."""
    partial = out.with_name(f".{out.name}.partial")
    rows = 0
    try:
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
        partial.replace(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        reason = exc.strerror or str(exc).splitlines()[0]
        raise ConfigError(f"cannot write {out}: {reason}") from exc
    return rows


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    """CSV has no lists: genres becomes text."""
    return schema.set(schema.get_field_index("genres"), pa.field("genres", pa.string()))


def _csv_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    index = schema.get_field_index("genres")
    genres = pc.binary_join(batch.column(index), "|")
    return batch.set_column(index, schema.field(index), genres)
