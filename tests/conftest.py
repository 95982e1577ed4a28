"""Shared fixtures: run the real CLI (in-process or as a subprocess) against temporary
warehouses, build small Spotify-shaped input files, read warehouses back.

Nothing is mocked: every test drives `spotclust` and checks what ends up in DuckDB.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from warehouse_state import warehouse_state

from spotclust.cli import cli
from spotclust.files.ingest import COLUMN_TYPES, shipped_dataset

COLUMNS: list[str] = list(COLUMN_TYPES)  # the 20 named Spotify columns, in file order
HEADER: list[str] = ["", *COLUMNS]  # plus the unnamed leading index column

# The small fixture: the first 10 rows of these genres of the shipped dataset, in this order
# (deliberately not alphabetical, so "first in file order" differs from "first genre by name").
FIXTURE_GENRES = ("techno", "metal", "jazz", "k-pop", "blues", "acoustic")
ROWS_PER_GENRE = 10


# --------------------------------------------------------------------------- running the CLI


@dataclass
class Run:
    """The outcome of one CLI run, the same shape for in-process and subprocess runs."""

    exit_code: int
    stdout: str
    stderr: str
    traceback: str | None = None  # an exception that escaped the CLI (in-process only)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SPOTCLUST_DB"}
    env.update(extra or {})
    return env


@pytest.fixture(autouse=True)
def _no_ambient_warehouse(monkeypatch):
    """A SPOTCLUST_DB from the developer's shell must not leak into any test."""
    monkeypatch.delenv("SPOTCLUST_DB", raising=False)


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., Run]:
    """run_cli(*args, env=None): `spotclust ARGS` in this process, via click's CliRunner."""

    def run(*args, env: dict[str, str] | None = None) -> Run:
        result = _runner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=True)
        escaped = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            escaped = "".join(traceback.format_exception(*result.exc_info))
        return Run(result.exit_code, result.stdout, result.stderr, escaped)

    return run


def _entry_point() -> list[str]:
    script = Path(sys.executable).parent / "spotclust"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "spotclust.cli"]


@pytest.fixture(scope="session")
def run_subprocess() -> Callable[..., Run]:
    """run_subprocess(*args, cwd, env=None): the installed `spotclust` as a real process."""

    def run(*args, cwd: Path, env: dict[str, str] | None = None) -> Run:
        done = subprocess.run(
            [*_entry_point(), *(str(a) for a in args)],
            cwd=cwd,
            env=_clean_env(env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def assert_one_line_error() -> Callable[..., str]:
    """assert_one_line_error(run, *needles): failed, said so in one stderr line, no traceback,
    and that line contains every needle (case-insensitive). Returns the line."""

    def check(run: Run, *needles: str) -> str:
        assert run.traceback is None, f"an exception escaped the CLI:\n{run.traceback}"
        assert run.exit_code != 0, f"expected a failure, got exit 0:\n{run.output}"
        assert "Traceback" not in run.output, run.output
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{run.stderr}"
        assert run.stdout.strip() == "", f"nothing should go to stdout:\n{run.stdout}"
        line = lines[0]
        for needle in needles:
            assert needle.lower() in line.lower(), f"{needle!r} not in {line!r}"
        return line

    return check


# ------------------------------------------------------------------------ reading warehouses


@pytest.fixture(scope="session")
def query() -> Callable[..., list[tuple]]:
    """query(db, sql, params=None): rows from a read-only connection that is closed again."""

    def run(db: Path, sql: str, params: Sequence | dict | None = None) -> list[tuple]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return run


@pytest.fixture(scope="session")
def snapshot() -> Callable[[Path], dict[str, list]]:
    """snapshot(db): every table's rows, the views and the sequences, to compare before/after."""
    return warehouse_state


# ------------------------------------------------------------------------ building input files


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence], gz: bool = False):
    """Write rows the way the shipped file is written (csv module, minimal quoting, \\n)."""
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def real_rows() -> list[list[str]]:
    """The first ROWS_PER_GENRE rows of each FIXTURE_GENRES genre of the shipped file, as the
    exact text of the file (all_varchar), without the index column, genres in fixture order."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"""
            SELECT {", ".join(f'"{c}"' for c in COLUMNS)}
            FROM read_csv($path, header = true, all_varchar = true)
            WHERE track_genre IN $genres
            QUALIFY row_number() OVER (
                PARTITION BY track_genre ORDER BY column00::BIGINT) <= {ROWS_PER_GENRE}
            ORDER BY list_position($genres, track_genre), column00::BIGINT
            """,
            {"path": str(shipped_dataset()), "genres": list(FIXTURE_GENRES)},
        ).fetchall()
    finally:
        con.close()
    rows = [list(r) for r in rows]
    # The planted problems below are the only problems: the picked rows must be clean.
    assert len(rows) == len(FIXTURE_GENRES) * ROWS_PER_GENRE
    assert len({r[0] for r in rows}) == len(rows), "picked rows share a track_id"
    assert all(all(v not in (None, "") for v in r) for r in rows)
    assert all(3 <= int(r[COLUMNS.index("time_signature")]) <= 7 for r in rows)
    assert all(float(r[COLUMNS.index("tempo")]) > 0 for r in rows)
    return rows


@dataclass
class SmallData:
    """The 60-row fixture: real rows with these planted problems (0-based data positions).

    row_number in raw_tracks is position + 1; the file line is position + 2 (the header is
    line 1).
    """

    header: list[str]
    rows: list[list[str]]  # with the leading index 0..59 as text
    empty_artists: int = 2  # techno: artists emptied -> 'missing values'
    zero_tempo: int = 12  # metal: tempo = 0 -> 'impossible values'
    zero_time_signature: int = 22  # jazz: time_signature = 0 -> 'impossible values'
    duplicate_of: int = 33  # k-pop ...
    duplicate: int = 35  # ... this row is an exact copy of it (but the index) -> 'duplicate rows'
    repeat_first: int = 4  # techno: a track that is also listed ...
    repeat_second: int = 55  # ... under acoustic, with a higher popularity -> 'one row per track'
    # cleaning_report (step, name, rows_in, rows_out) for this file
    expected_report: list[tuple] = field(
        default_factory=lambda: [
            (1, "load", 60, 60),
            (2, "missing values", 60, 59),
            (3, "impossible values", 59, 57),
            (4, "duplicate rows", 57, 56),
            (5, "one row per track", 56, 55),
        ]
    )

    def value(self, position: int, column: str) -> str:
        return self.rows[position][HEADER.index(column)]

    def without_index(self) -> tuple[list[str], list[list[str]]]:
        return self.header[1:], [r[1:] for r in self.rows]


def _col(name: str) -> int:
    return HEADER.index(name)


@pytest.fixture(scope="session")
def small(real_rows) -> SmallData:
    data = SmallData(header=list(HEADER), rows=[])
    rows = [[str(i), *r] for i, r in enumerate(real_rows)]
    rows[data.empty_artists][_col("artists")] = ""
    rows[data.zero_tempo][_col("tempo")] = "0.0"
    rows[data.zero_time_signature][_col("time_signature")] = "0"
    rows[data.duplicate] = [str(data.duplicate), *rows[data.duplicate_of][1:]]
    second = [str(data.repeat_second), *rows[data.repeat_first][1:]]
    second[_col("track_genre")] = "acoustic"
    second[_col("popularity")] = str(min(100, int(second[_col("popularity")]) + 7))
    assert second[_col("popularity")] != rows[data.repeat_first][_col("popularity")]
    rows[data.repeat_second] = second
    data.rows = rows
    return data


@pytest.fixture
def small_csv(tmp_path, small) -> Path:
    """The 60-row fixture written as tmp_path/small.csv (with the index column)."""
    return write_csv(tmp_path / "small.csv", small.header, small.rows)


@pytest.fixture(scope="session")
def small_template(tmp_path_factory, small) -> Path:
    """The 60-row fixture ingested once per session; tests get copies (small_db)."""
    folder = tmp_path_factory.mktemp("small")
    csv_path = write_csv(folder / "small.csv", small.header, small.rows)
    db = folder / "template.duckdb"
    result = _runner().invoke(
        cli, ["ingest", str(csv_path), "--db", str(db)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert not (folder / "template.duckdb.wal").exists()  # closed and checkpointed
    return db


@pytest.fixture(scope="session")
def clustered_template(tmp_path_factory, small_template) -> Path:
    """The small fixture ingested, clustered (k=3) and swept (k=2..4), once per session: a
    warehouse with rows in every table. Tests copy it; never write to it."""
    db = tmp_path_factory.mktemp("clustered") / "clustered.duckdb"
    shutil.copyfile(small_template, db)
    for args in (
        ["cluster", "--k", "3", "--n-init", "2", "--no-charts", "--quiet"],
        ["sweep", "--k", "2..4", "--n-init", "2", "--quiet"],
    ):
        result = _runner().invoke(cli, [*args, "--db", str(db)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def small_db(tmp_path, small_template) -> Path:
    """A warehouse of its own (tmp_path/w.duckdb) with the 60-row fixture ingested once,
    from the session's small.csv (so ingests.source_path is that file, not small_csv)."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_template, db)
    return db


@pytest.fixture(scope="session")
def full_db(tmp_path_factory) -> Path:
    """A warehouse with the full shipped dataset, ingested once per session (read it only)."""
    db = tmp_path_factory.mktemp("full") / "full.duckdb"
    result = _runner().invoke(cli, ["ingest", "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="session")
def make_csv() -> Callable[..., Path]:
    """make_csv(path, header, rows, gz=False): write a CSV like the shipped one."""
    return write_csv
