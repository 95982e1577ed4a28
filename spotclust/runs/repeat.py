"""Run a recorded run again and say whether every row landed in the same cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spotclust import warehouse
from spotclust.engine import LOCAL, Engine
from spotclust.runs.cluster import ClusterResult, StageCallback, run
from spotclust.runs.resolve import resolve_run, stored_config
from spotclust.runs.write import SharedWarehouse


@dataclass(frozen=True)
class RepeatCheck:
    original_run: int
    same_data: bool  # the current ingest has the sha256 the original run recorded
    identical: bool  # every row got the same cluster
    rows_compared: int
    rows_differing: int


def repeat(
    run_id: int,
    db: str | Path | None = None,
    on_stage: StageCallback | None = None,
    engine: Engine = LOCAL,
) -> tuple[ClusterResult, RepeatCheck]:
    # Opened as the run opens it (runs/write.py SharedWarehouse), beside a notebook's own
    # connection in this process or another process reading.
    with SharedWarehouse(db).reading() as con:
        original = resolve_run(con, run_id)
    result = run(stored_config(original), db, on_stage, engine)
    with SharedWarehouse(db).reading() as con:
        new = resolve_run(con, result.run_id)
        ((compared, differing),) = con.execute(
            warehouse.read_sql("queries/repeat_diff.sql"), {"old": run_id, "new": result.run_id}
        ).fetchall()
    same_data = new["data_sha256"] == original["data_sha256"]
    check = RepeatCheck(run_id, same_data, differing == 0, compared, differing)
    return result, check
