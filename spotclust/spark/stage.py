"""The stage: a directory the rows travel through as Parquet, DuckDB -> Spark (the features)
and Spark -> DuckDB (the assignments). On a cluster it is shared storage every executor
reads at the same path (--spark-stage DIR).

Each run works in a subdirectory of its own, named after its owner (process id, the
process's start time, host) and a random token, so no run ever reads another's files. The
features are complete once their marker is written (last); the assignments once Spark's
_SUCCESS is. A run removes its subdirectory when it ends, however it ends; one whose owner
was killed (SIGKILL) is removed by the next run that starts on the same host.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from spotclust.errors import ConfigError, EngineError
from spotclust.features import FeatureSource, feature_source, resolve_features
from spotclust.model.config import ClusterConfig
from spotclust.runs.resolve import current_ingest
from spotclust.runs.write import SharedWarehouse
from spotclust.warehouse import read_sql
from spotclust.whole_file import write_whole

ROWS_PER_PARTITION = 1_000_000  # rows per Parquet partition of the staged features
MAX_PARTITIONS = 256
_PREFIX = "run"  # run_<pid>_<start>_<token>_<host>


@dataclass(frozen=True)
class RunStage:
    """One run's subdirectory of the stage."""

    path: Path

    @property
    def features(self) -> Path:
        return self.path / "features"

    # Spark is given file:// URIs: a bare path would be read on the cluster's default file
    # system (HDFS, on YARN).
    @property
    def features_uri(self) -> str:
        return self.features.as_uri()

    @property
    def assignments_uri(self) -> str:
        return self.assignments.as_uri()

    @property
    def features_marker(self) -> Path:
        return self.path / "features.json"

    @property
    def assignments(self) -> Path:
        return self.path / "assignments"

    def assignment_files(self) -> str:
        """The Parquet files Spark wrote (a glob), once it said it finished."""
        if not (self.assignments / "_SUCCESS").is_file():
            raise EngineError(f"Spark left no complete assignments in {self.assignments}")
        return str(self.assignments / "*.parquet")


def default_root(db: Path) -> Path:
    """Beside the warehouse: warehouse/spotclust.duckdb -> warehouse/spotclust.spark-stage."""
    return db.with_name(f"{db.stem}.spark-stage")


@contextmanager
def run_stage(root: Path, given: bool) -> Iterator[RunStage]:
    """A new subdirectory of root for one run, removed when the block ends (with root, when
    spotclust chose it and it is empty). given: the user named root (--spark-stage)."""
    root = root.resolve()  # absolute: Spark is given file:// URIs
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_abandoned(root)
        owner = f"{os.getpid()}_{_started(os.getpid())}"
        path = root / f"{_PREFIX}_{owner}_{secrets.token_hex(4)}_{socket.gethostname()}"
        path.mkdir(parents=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the Spark stage directory {root}: {exc.strerror or exc}; "
            "name another with --spark-stage DIR"
        ) from None
    try:
        yield RunStage(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if not given:
            with contextlib.suppress(OSError):
                root.rmdir()  # only when empty: another run may be using it


def remove_abandoned(root: Path) -> list[Path]:
    """Remove the run subdirectories whose owner, a process of this host, is gone."""
    removed = []
    for child in root.iterdir():
        parts = child.name.split("_", 4)
        if len(parts) != 5 or parts[0] != _PREFIX or parts[4] != socket.gethostname():
            continue  # not a run's, or another host's: its owner may be alive there
        pid, started = parts[1], parts[2]
        if pid.isdigit() and _started(int(pid)) != started:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def _started(pid: int) -> str:
    """When process pid started (clock ticks since boot), so that a reused pid is not taken
    for the owner; 'gone' when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone"
    except OSError:  # no /proc: whether the process exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return "gone"
        except PermissionError:
            pass
        return "alive"
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, after the command's name


def export_features(con: duckdb.DuckDBPyConnection, source: FeatureSource, stage: RunStage) -> Path:
    """The rows' features (and genre index) as partitioned Parquet; the marker last."""
    # Staged under positional names f0, f1, ...; feature names were checked against
    # feature_candidates, so quoting them here is safe.
    columns = ", ".join(
        f'CAST("{feature}" AS DOUBLE) AS f{i}' for i, feature in enumerate(source.features)
    )
    partitions = max(1, min(MAX_PARTITIONS, math.ceil(source.rows / ROWS_PER_PARTITION)))
    sql = read_sql("spark/stage_features.sql").format(source=source.table, columns=columns)
    con.execute(
        sql,
        {"genres": source.genres, "partitions": partitions, "path": str(stage.features)},
    )
    facts = {"rows": source.rows, "features": source.features, "partitions": partitions}
    write_whole(stage.features_marker, lambda part: part.write_text(json.dumps(facts)))
    return stage.features


def stage_rows(
    shared: SharedWarehouse, config: ClusterConfig, stage: RunStage
) -> tuple[tuple[int, str], FeatureSource]:
    """(the ingest read, the rows' source) with the rows staged, through a read-only
    connection (closed again: the source names its table, features, rows and genres).
    config.k: the largest k that will be fitted, checked against the rows."""
    with shared.reading() as con:
        ingest = current_ingest(con)
        features = resolve_features(con, list(config.features) if config.features else None)
        source = feature_source(con, features, config.row_rule)
        config.check_shape(source.rows, len(features))
        export_features(con, source, stage)
    return ingest, source
