"""spotclust as the benchmark sees it: its command, which commands and options this version
has, and what a run left in its warehouse, each asked of a short helper process (see
harness.py for why this process imports none of it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from .harness import PYTHON, child_env, log

# The spotclust options each section compares.
# The notebook's rows (every clean genre listing) and restarts (one k-means++ run), or the
# defaults (one row per track, 10 restarts): the model options of a variant.
MODEL_OPTIONS = {"same_work": ["--rows", "listings", "--n-init", "1"], "defaults": []}
# `spotclust run` as each variant runs it. The notebook's work: also its elbow (inertia
# only for k=1..10) and the exact silhouette of k=4. The defaults as they come: a sampled
# silhouette and 3 stability pairs for every k of the elbow, the exact silhouette of k=4
# (exact by default at this size).
VARIANTS = {
    "same_work": [
        *MODEL_OPTIONS["same_work"], "--no-sweep-silhouette", "--stability", "0",
        "--exact-silhouette",
    ],
    "defaults": MODEL_OPTIONS["defaults"],
}  # fmt: skip

_QUERY = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
cur = con.execute(sys.argv[2])
names = [d[0] for d in cur.description]
print(json.dumps([dict(zip(names, r)) for r in cur.fetchall()], default=str))
"""


def spotclust_cmd() -> list[str]:
    script = Path(PYTHON).parent / "spotclust"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [PYTHON, "-m", "spotclust.cli"]


def has_command(*args: str) -> str | None:
    """The --help text of `spotclust ARGS`, or None if that command does not exist."""
    done = subprocess.run(
        [*spotclust_cmd(), *args, "--help"], capture_output=True, text=True, env=child_env()
    )
    return done.stdout if done.returncode == 0 else None


def python_json(code: str, *args) -> object:
    """What `python -c code args` prints, as JSON."""
    done = subprocess.run(
        [PYTHON, "-c", code, *map(str, args)], capture_output=True, text=True, env=child_env()
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return json.loads(done.stdout)


def sweep_accepts_k1() -> bool:
    code = "from spotclust.runs.sweep import parse_k_range as p; print(p('1..10')[0])"
    try:
        return python_json(code) == 1
    except RuntimeError:
        return False


def shipped_dataset() -> Path:
    code = (
        "import json; from spotclust.files.ingest import shipped_dataset as s; "
        "print(json.dumps(str(s())))"
    )
    return Path(python_json(code))


def module_source(module: str) -> Path | None:
    """The source file of a spotclust module, or None if it is not there."""
    code = (
        "import json, sys, importlib.util as u; s = u.find_spec(sys.argv[1]); "
        "print(json.dumps(s and s.origin))"
    )
    try:
        origin = python_json(code, module)
    except RuntimeError:  # its package is missing
        return None
    return Path(origin) if origin else None


def query_db(db: Path, sql: str) -> list[dict]:
    return python_json(_QUERY, db, sql)


def safe_query(db: Path, sql: str) -> list[dict]:
    try:
        return query_db(db, sql)
    except Exception as exc:  # a column another version does not have: report, do not fail
        log(f"  (query failed: {exc})")
        return []


def run_stages(db: Path) -> dict:
    """Stage seconds and metrics of the latest run in a warehouse (the runs table)."""
    rows = safe_query(db, "SELECT * FROM runs ORDER BY run_id DESC LIMIT 1")
    if not rows:
        return {}
    row = rows[0]
    keep = (
        "rows_used",
        "silhouette",
        "silhouette_method",
        "silhouette_sample_size",
        "inertia",
        "algorithm",
        "n_init",
        "row_rule",
        "k",
    )
    out = {k: row.get(k) for k in keep if k in row}
    out["seconds"] = {k[len("seconds_") :]: v for k, v in row.items() if k.startswith("seconds_")}
    return out


def sweep_rows(db: Path) -> list[dict]:
    """Per k of the latest sweep in a warehouse."""
    return safe_query(
        db,
        "SELECT k, inertia, silhouette, silhouette_method, seconds, rows_used FROM sweeps "
        "WHERE sweep_id = (SELECT max(sweep_id) FROM sweeps) ORDER BY k",
    )


def ingest_seconds(stdout: str) -> float | None:
    """The seconds `spotclust ingest` printed."""
    match = re.search(r"seconds\s*\S\s*([0-9.]+)", stdout)
    return float(match.group(1)) if match else None


def remove_warehouse(db: Path) -> None:
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
