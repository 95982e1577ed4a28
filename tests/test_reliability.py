"""Bad input of every kind: one clear line, a non-zero exit, no traceback, nothing changed.

One table-driven suite. Each case names its category (file, columns, values, options,
warehouse), how its input is built, the command, and the words the one-line message must
hold (the file, column, row or option, and what to do). Every case runs against its own copy
of a warehouse that already holds an ingest, a clustering run and a sweep, and every table of
it (and its views and sequences) must be the same afterwards.

Bad *values* inside an otherwise good file are not fatal: cleaning sets them aside, counts
them in cleaning_report, and they are never clustered (the second table, VALUES_SET_ASIDE).

Cases that need the operating system's help run as real processes: a read-only file system
(a read-only bind mount in a private mount namespace, `unshare -m`), permissions (as root,
chmod alone does not stop a process, so the command runs without CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH via `setpriv`), a folder where DuckDB cannot create its log (`chattr
+i`), and a 100 MB single-line file (bounded memory). Each is skipped, saying why, where the
machine cannot do it.

Also here: Ctrl-C during an ingest, and a guard that no value is ever pasted into SQL text.
"""

from __future__ import annotations

import ast
import copy
import os
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pytest
from support.cli import assert_succeeded
from support.processes import run_command, run_measured, run_process, start_process, wait_for_lock
from support.warehouse_state import SPOTCLUST_TABLES, query, warehouse_state

from spotclust.files.ingest import COLUMN_TYPES
from spotclust.warehouse import read_sql

COLUMNS = list(COLUMN_TYPES)
HEADER = ["", *COLUMNS]
MiB = 1 << 20


def col(name: str) -> int:
    return HEADER.index(name)


# ================================================================== the warehouse, compared


def file_state(path: Path):
    """What a path holds: its bytes, 'directory' or None (missing); and its WAL."""
    wal = path.with_name(path.name + ".wal")
    if path.is_dir():
        return "directory", wal.exists()
    return (path.read_bytes() if path.exists() else None), wal.exists()


@pytest.fixture(scope="session")
def loaded_template(clustered_template) -> Path:
    """The small fixture ingested, clustered and swept, checked to hold every table a command
    could change (those of spotclust's SQL files: tables.sql's and the models materialized at
    ingest), and no other, with rows in each of them."""
    db = clustered_template
    tables = query(db, "SELECT table_name FROM duckdb_tables() WHERE NOT internal ORDER BY 1")
    assert [name for (name,) in tables] == sorted(SPOTCLUST_TABLES)
    for table in SPOTCLUST_TABLES:
        [(rows,)] = query(db, f'SELECT count(*) FROM "{table}"')
        assert rows > 0, f"the base warehouse has no rows in {table}"
    assert not db.with_name(db.name + ".wal").exists()
    return db


# ======================================================================= running the command


@cache
def _readonly_mount_works() -> bool:
    if sys.platform != "linux" or not shutil.which("unshare"):
        return False
    probe = run_command(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "mount --bind -o ro /tmp /tmp && ! touch /tmp/.spotclust_ro_probe 2>/dev/null"],
    )  # fmt: skip
    return probe.exit_code == 0


@cache
def _can_drop_dac() -> bool:
    """Whether a command can run as this user but without the power to ignore permissions."""
    if os.geteuid() != 0:
        return True  # permissions already apply
    if not shutil.which("setpriv"):
        return False
    probe = run_command(["setpriv", "--bounding-set=-dac_override,-dac_read_search", "true"])
    return probe.exit_code == 0


# ============================================================================ building inputs


@dataclass
class Ctx:
    """What a case builds its input from: its own folder and warehouse copy."""

    tmp: Path
    db: Path
    small: object  # conftest.SmallData
    make_csv: Callable
    env: dict = field(default_factory=dict)

    def rows(self) -> list[list[str]]:
        return copy.deepcopy(self.small.rows)

    def csv(self, name: str, header=None, rows=None, gz: bool = False) -> Path:
        return self.make_csv(
            self.tmp / name,
            self.small.header if header is None else header,
            self.rows() if rows is None else rows,
            gz=gz,
        )


def _with_value(ctx: Ctx, name: str, position: int, column: str, value: str) -> Path:
    rows = ctx.rows()
    rows[position][col(column)] = value
    return ctx.csv(name, rows=rows)


def _without(ctx: Ctx, name: str, column: str) -> Path:
    keep = [i for i, c in enumerate(ctx.small.header) if c != column]
    return ctx.csv(
        name,
        header=[ctx.small.header[i] for i in keep],
        rows=[[r[i] for i in keep] for r in ctx.rows()],
    )


# --- files


def f_missing(ctx):
    return ["ingest", ctx.tmp / "nowhere.csv"]


def f_directory(ctx):
    (ctx.tmp / "a_folder").mkdir()
    return ["ingest", ctx.tmp / "a_folder"]


def f_unreadable(ctx):
    path = ctx.csv("locked.csv")
    path.chmod(0)
    return ["ingest", path]


def f_empty(ctx):
    (ctx.tmp / "empty.csv").write_bytes(b"")
    return ["ingest", ctx.tmp / "empty.csv"]


def f_header_only(ctx):
    return ["ingest", ctx.csv("header_only.csv", rows=[])]


def f_not_csv(ctx):
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16
    (ctx.tmp / "cover.png").write_bytes(data)
    return ["ingest", ctx.tmp / "cover.png"]


def f_truncated_gzip(ctx):
    whole = ctx.csv("whole.csv.gz", gz=True).read_bytes()
    (ctx.tmp / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    return ["ingest", ctx.tmp / "cut.csv.gz"]


def f_corrupt_gzip(ctx):
    data = bytearray(ctx.csv("ok.csv.gz", gz=True).read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 200):
        data[i] ^= 0x5A
    (ctx.tmp / "corrupt.csv.gz").write_bytes(bytes(data))
    return ["ingest", ctx.tmp / "corrupt.csv.gz"]


def f_parquet_other_columns(ctx):
    path = ctx.tmp / "other.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS a, 'x' AS b) TO '{path}' (FORMAT parquet)")
    con.close()
    return ["ingest", path]


def f_not_utf8(ctx):
    text = _with_value(ctx, "utf8.csv", 40, "album_name", "@@MARK@@").read_bytes()
    (ctx.tmp / "latin1.csv").write_bytes(text.replace(b"@@MARK@@", b"Caf\xe9 \xff"))
    return ["ingest", ctx.tmp / "latin1.csv"]


def f_row_too_long(ctx):
    # a 100 MB line is the next case (a real process, its memory measured); this is its
    # small cousin: one 3 MB field, past DuckDB's 2 MB line limit, in an otherwise good file
    return ["ingest", _with_value(ctx, "long_row.csv", 20, "track_name", "z" * (3 * MiB))]


# --- columns


def c_duplicated(ctx):
    header = [*ctx.small.header, "energy"]
    rows = [[*r, r[col("energy")]] for r in ctx.rows()]
    return ["ingest", ctx.csv("twice.csv", header=header, rows=rows)]


def v_text_in_number(ctx):
    return ["ingest", _with_value(ctx, "text.csv", 30, "popularity", "abc")]


def v_explicit_maybe(ctx):
    return ["ingest", _with_value(ctx, "maybe.csv", 7, "explicit", "maybe")]


def v_text_in_integer_late(ctx):
    return ["ingest", _with_value(ctx, "late.csv", 58, "duration_ms", "3 min")]


# --- options


def o(*args):
    return lambda ctx: list(args)


def o_bad_lock_timeout(ctx):
    ctx.env["SPOTCLUST_LOCK_TIMEOUT"] = "soon"
    return ["sql", "SELECT count(*) FROM runs"]


# --- warehouses


def w_missing(command):
    def build(ctx):
        ctx.db = ctx.tmp / "none.duckdb"
        return command

    return build


def w_directory(ctx):
    ctx.db = ctx.tmp / "folder.duckdb"
    ctx.db.mkdir()
    return ["cluster", "--no-charts"]


def w_text_file(command):
    def build(ctx):
        ctx.db = ctx.tmp / "notes.txt"
        ctx.db.write_text("my notes, not a warehouse\n")
        return command

    return build


def w_truncated(ctx):
    data = ctx.db.read_bytes()
    ctx.db = ctx.tmp / "cut.duckdb"
    ctx.db.write_bytes(data[: 16 * 1024])  # DuckDB's header survives, the blocks do not
    return ["cluster", "--no-charts"]


def w_foreign(ctx):
    ctx.db = ctx.tmp / "someone_else.duckdb"
    con = duckdb.connect(str(ctx.db))
    con.execute("CREATE TABLE invoices AS SELECT range AS id FROM range(3)")
    con.close()
    return ["ingest", ctx.csv("good.csv")]


def w_newer(command):
    def build(ctx):
        con = duckdb.connect(str(ctx.db))
        con.execute("UPDATE spotclust_meta SET value = '999' WHERE key = 'schema_version'")
        con.close()
        args = list(command)
        if args[0] in ("ingest", "run"):
            args.append(ctx.csv("good.csv"))
        return args

    return build


def w_unreadable_schema(ctx):
    con = duckdb.connect(str(ctx.db))
    con.execute("UPDATE spotclust_meta SET value = 'two' WHERE key = 'schema_version'")
    con.close()
    return ["cluster", "--no-charts"]


def w_read_only(command):
    def build(ctx):
        args = list(command)
        if args[0] == "ingest":
            # other data: the data the warehouse holds already would change nothing
            args.append(ctx.csv("other.csv", rows=ctx.rows()[:50]))
        return args

    return build


def w_no_permission(command, mode=0o444):
    def build(ctx):
        args = list(command)
        if args[0] == "ingest":
            # other data: the data the warehouse holds already would change nothing
            args.append(ctx.csv("other.csv", rows=ctx.rows()[:50]))
        ctx.db.chmod(mode)
        return args

    return build


# ====================================================================================== cases


@dataclass(frozen=True)
class Case:
    category: str  # file | columns | values | options | warehouse
    name: str
    build: Callable[[Ctx], list]  # makes the input, returns the command's arguments
    needles: tuple[str, ...]  # words the error line must hold (case-insensitive)
    how: str = "cli"  # cli: in this process | process | read-only-fs | no-dac | immutable-folder
    db_is_file: bool = False  # the 'warehouse' is not one: compare its bytes instead


CLUSTER = ["cluster", "--no-charts", "--n-init", "1"]
CASES = [
    # --------------------------------------------------------------------------- files
    Case("file", "missing", f_missing, ("nowhere.csv", "no such file", "check the path")),
    Case("file", "a directory", f_directory, ("a_folder", "directory", "give a CSV")),
    Case("file", "unreadable", f_unreadable, ("locked.csv", "permission"), how="no-dac"),
    Case("file", "empty", f_empty, ("empty.csv", "empty", "header row")),
    Case("file", "header only", f_header_only, ("header_only.csv", "no data rows", "add rows")),
    Case("file", "not CSV (PNG)", f_not_csv, ("cover.png", "not a CSV", "give a CSV")),
    Case(
        "file",
        "not CSV, whole analysis (run)",
        lambda ctx: ["run", *f_not_csv(ctx)[1:], "--no-charts"],
        ("cover.png", "not a CSV"),
    ),
    Case("file", "truncated gzip", f_truncated_gzip, ("cut.csv.gz", "truncated", "again")),
    Case("file", "corrupt gzip", f_corrupt_gzip, ("corrupt.csv.gz", "corrupt gzip", "again")),
    Case(
        "file",
        "Parquet with other columns",
        f_parquet_other_columns,
        ("other.parquet", "track_id", "expected columns"),
    ),
    Case("file", "non-UTF-8 bytes", f_not_utf8, ("latin1.csv", "line 42", "UTF-8", "save")),
    Case(
        "file",
        "3 MB line",
        f_row_too_long,
        ("long_row.csv", "line 22", "longer than", "fix that line"),
    ),
    # ------------------------------------------------------------------------- columns
    # A column missing, renamed or extra is no longer bad input (files of other shapes are
    # read by column name): tests/test_ingest.py and tests/test_shapes.py check that such
    # files load and say what was left out or kept.
    Case("columns", "duplicated", c_duplicated, ("twice.csv", "energy", "more than once")),
    # -------------------------------------------------------------------------- values
    Case(
        "values",
        "text in a numeric column",
        v_text_in_number,
        ("text.csv", "line 32", "popularity", "'abc'", "fix the value"),
    ),
    Case(
        "values",
        'explicit = "maybe"',
        v_explicit_maybe,
        ("maybe.csv", "line 9", "explicit", "'maybe'", "fix the value"),
    ),
    Case(
        "values",
        "text in an integer column, last row",
        v_text_in_integer_late,
        ("late.csv", "line 60", "duration_ms", "'3 min'"),
    ),
    # ------------------------------------------------------------------------- options
    Case("options", "k = 0", o(*CLUSTER, "--k", "0"), ("--k 0", "at least 2")),
    Case("options", "k = 1", o(*CLUSTER, "--k", "1"), ("--k 1", "at least 2")),
    Case("options", "k negative", o(*CLUSTER, "--k", "-3"), ("--k -3", "at least 2")),
    Case("options", "k = 2.5", o(*CLUSTER, "--k", "2.5"), ("--k", "2.5", "integer")),
    Case("options", "k = four", o(*CLUSTER, "--k", "four"), ("--k", "four", "integer")),
    Case("options", "k > rows", o(*CLUSTER, "--k", "56"), ("--k 56", "larger than the 55 rows")),
    Case("options", "sweep k range empty", o("sweep", "--k", "5..2"), ("--k 5..2", "low..high")),
    Case("options", "sweep k = 0", o("sweep", "--k", "0..3"), ("--k 0..3", "at least 1")),
    Case("options", "sweep k > rows", o("sweep", "--k", "2..99"), ("--k 99", "55 rows")),
    Case(
        "options",
        "unknown feature",
        o(*CLUSTER, "--features", "energy,colour"),
        ("colour", "unknown feature", "choose from"),
    ),
    Case(
        "options",
        "PCA components > features",
        o(*CLUSTER, "--features", "energy,tempo", "--pca", "3"),
        ("--pca 3", "2 features", "at most 2"),
    ),
    Case("options", "PCA 0", o(*CLUSTER, "--pca", "0"), ("--pca 0", "at least 1")),
    Case("options", "n-init 0", o(*CLUSTER, "--n-init", "0"), ("--n-init 0", "at least 1")),
    Case("options", "unknown run id", o("charts", "--run", "999"), ("no run 999", "SELECT run_id")),
    Case(
        "options",
        "unknown run id (compare)",
        o("compare", "1", "999"),
        ("no run 999", "SELECT run_id"),
    ),
    Case(
        "options",
        "unknown run id (export)",
        lambda ctx: ["export", "--run", "999", "--out", ctx.tmp / "x.parquet"],
        ("no run 999", "SELECT run_id"),
    ),
    Case(
        "options",
        "unknown run id (explain)",
        o("explain", "--run", "999"),
        ("no run 999", "SELECT run_id"),
    ),
    Case(
        "options",
        "bad --format (sql)",
        o("sql", "SELECT 1", "--format", "xml"),
        ("--format", "xml", "table"),
    ),
    Case("options", "bad --format (tables)", o("tables", "--format", "yaml"), ("--format", "yaml")),
    Case("options", "bad --rows", o(*CLUSTER, "--rows", "albums"), ("--rows", "albums")),
    Case("options", "missing SQL parameter", o("sql", "SELECT $nope"), ("nope", "-p NAME VALUE")),
    Case(
        "options",
        "bad SPOTCLUST_LOCK_TIMEOUT",
        o_bad_lock_timeout,
        ("SPOTCLUST_LOCK_TIMEOUT", "soon", "seconds"),
    ),
    # ----------------------------------------------------------------------- warehouse
    *(
        Case(
            "warehouse",
            f"missing ({command[0]})",
            w_missing(command),
            ("none.duckdb", "no warehouse", "spotclust ingest"),
            db_is_file=True,
        )
        for command in (CLUSTER, ["sweep"], ["sql", "SELECT 1"], ["tables"], ["charts"])
    ),
    Case(
        "warehouse",
        "a directory",
        w_directory,
        ("folder.duckdb", "directory", "--db"),
        db_is_file=True,
    ),
    *(
        Case(
            "warehouse",
            f"not a DuckDB file ({command[0]})",
            w_text_file(command),
            ("notes.txt", "not a DuckDB warehouse", "--db"),
            db_is_file=True,
        )
        for command in (CLUSTER, ["sql", "SELECT 1"], ["charts"])
    ),
    Case(
        "warehouse",
        "truncated DuckDB file",
        w_truncated,
        ("cut.duckdb", "damaged or truncated", "restore it"),
        db_is_file=True,
    ),
    Case(
        "warehouse",
        "another application's DuckDB file",
        w_foreign,
        ("someone_else.duckdb", "not a spotclust warehouse", "invoices", "--db"),
        db_is_file=True,
    ),
    *(
        Case(
            "warehouse",
            f"newer schema ({label})",
            w_newer(command),
            ("w.duckdb", "schema version 999", "newer", "upgrade spotclust"),
        )
        for label, command in (
            ("ingest", ["ingest"]),
            ("cluster", CLUSTER),
            ("sweep", ["sweep"]),
            ("sql", ["sql", "SELECT count(*) FROM runs"]),
            ("sql --write", ["sql", "DELETE FROM runs", "--write"]),
            ("tables", ["tables"]),
            ("charts", ["charts"]),
            ("explain", ["explain"]),
            ("compare", ["compare", "1", "1"]),
            ("export", ["export", "--out", "x.parquet"]),
            ("run", ["run", "--sweep", "none", "--no-charts"]),
        )
    ),
    Case(
        "warehouse",
        "unreadable schema version",
        w_unreadable_schema,
        ("w.duckdb", "schema_version", "'two'", "restore"),
    ),
    *(
        Case(
            "warehouse",
            f"read-only file system ({command[0]})",
            w_read_only(command),
            ("w.duckdb", "read-only file system", "--db"),
            how="read-only-fs",
        )
        for command in (
            ["ingest"],
            CLUSTER,
            ["sweep", "--k", "2..3"],
            ["sql", "DELETE FROM runs", "--write"],
        )
    ),
    *(
        Case(
            "warehouse",
            f"no write permission ({command[0]})",
            w_no_permission(command),
            ("w.duckdb", "permission denied", "--db"),
            how="no-dac",
        )
        for command in (["ingest"], CLUSTER)
    ),
    *(
        Case(
            "warehouse",
            f"folder not writable ({command[0]})",
            w_read_only(command),
            ("w.duckdb.wal", "not permitted", "writable", "--db"),
            how="immutable-folder",
        )
        for command in (["ingest"], CLUSTER, ["sweep", "--k", "2..3"])
    ),
    Case(
        "warehouse",
        "no read permission (sql)",
        w_no_permission(["sql", "SELECT 1"], mode=0),
        ("w.duckdb", "cannot read", "permissions"),
        how="no-dac",
    ),
]


def test_the_suite_covers_every_category_with_enough_cases():
    by_category = {}
    for case in CASES:
        by_category.setdefault(case.category, []).append(case.name)
    assert set(by_category) == {"file", "columns", "values", "options", "warehouse"}
    assert len(CASES) + len(VALUES_SET_ASIDE) + 1 >= 30  # +1: the 100 MB line below
    assert len({(c.category, c.name) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.category}: {c.name}" for c in CASES])
def test_bad_input_fails_in_one_line_and_changes_nothing(
    case, tmp_path, loaded_template, small, make_csv, run_cli, assert_one_line_error, monkeypatch
):
    if case.how == "read-only-fs" and not _readonly_mount_works():
        pytest.skip("no read-only bind mount here (needs unshare -m and mount privileges)")
    if case.how == "no-dac" and not _can_drop_dac():
        pytest.skip("cannot run a command without CAP_DAC_OVERRIDE here (setpriv)")
    if case.how == "immutable-folder" and not _chattr_works(tmp_path):
        pytest.skip("no chattr +i here (needs CAP_LINUX_IMMUTABLE and ext4/xfs/btrfs)")
    monkeypatch.chdir(tmp_path)  # a command that wrongly succeeded would write here
    (tmp_path / "wh").mkdir()
    base = tmp_path / "wh" / "w.duckdb"
    shutil.copyfile(loaded_template, base)
    inputs = tmp_path / "in"
    inputs.mkdir()
    ctx = Ctx(tmp=inputs, db=base, small=small, make_csv=make_csv)
    args = case.build(ctx)
    before = file_state(ctx.db) if case.db_is_file else warehouse_state(ctx.db)
    base_before = warehouse_state(base)

    full = [*args, "--db", ctx.db]
    if case.how == "cli":
        run = run_cli(*full, env=ctx.env or None)
    elif case.how == "read-only-fs":
        folder = ctx.db.parent
        run = run_process(
            full,
            cwd=inputs,
            env=ctx.env,
            prefix=[
                "unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder),
            ],
        )  # fmt: skip
    elif case.how == "no-dac":
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
        run = run_process(full, cwd=inputs, env=ctx.env, prefix=prefix if os.geteuid() == 0 else [])
    elif case.how == "immutable-folder":
        # the file can be written, but no file can be made next to it (DuckDB's log)
        _chattr("+i", ctx.db.parent)
        try:
            run = run_process(full, cwd=inputs, env=ctx.env)
        finally:
            _chattr("-i", ctx.db.parent)
    else:
        run = run_process(full, cwd=inputs, env=ctx.env)

    line = assert_one_line_error(run, *case.needles)
    assert line.startswith("Error: "), line
    after = file_state(ctx.db) if case.db_is_file else warehouse_state(ctx.db)
    assert after == before, "the warehouse changed"
    assert warehouse_state(base) == base_before
    assert not base.with_name("w.duckdb.wal").exists()
    assert not (tmp_path / "charts").exists()


@cache
def _chattr_works(folder: Path) -> bool:
    if not shutil.which("chattr"):
        return False
    probe = folder / "chattr_probe"
    probe.mkdir()
    try:
        if run_command(["chattr", "+i", probe]).exit_code:
            return False
        _chattr("-i", probe)
        return True
    finally:
        probe.rmdir()


def _chattr(flag: str, path: Path) -> None:
    done = run_command(["chattr", flag, path])
    assert done.exit_code == 0, done.stderr


# ================================================================== a 100 MB single-line file


@pytest.mark.parametrize("shape", ["no line break at all", "header, then a 100 MB row"])
def test_a_100_mb_single_line_fails_fast_in_bounded_memory(
    shape, tmp_path, loaded_template, assert_one_line_error
):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(loaded_template, db)
    before = warehouse_state(db)
    path = tmp_path / "one_line.csv"
    try:
        with path.open("wb") as f:
            if shape.startswith("header"):
                f.write(",".join(HEADER).encode() + b"\n0,id,")
            block = b"x" * MiB
            for _ in range(100):
                f.write(block)
        assert path.stat().st_size >= 100 * MiB
        run = run_measured(["ingest", path, "--db", db], cwd=tmp_path)
    finally:
        path.unlink(missing_ok=True)
    line = "line 2" if shape.startswith("header") else "line 1"
    assert_one_line_error(run, "one_line.csv", line, "longer than", "fix that line")
    # DuckDB reads at most its 32 MB line buffer, whatever the file's size (measured: ~300
    # MB in all for this process, the same for a 300 MB line); never the whole line.
    assert run.max_rss_kib < 700 * 1024, f"peak memory {run.max_rss_kib} KiB"
    assert warehouse_state(db) == before


# ============================================== bad values in a good file: set aside, not fatal


@dataclass(frozen=True)
class SetAside:
    name: str
    column: str
    value: str  # put into row POSITION of the fixture
    step: int  # the cleaning_report step that removes it
    rule: str | None  # the reason counted in step 3 ('impossible values')


POSITION = 45  # a blues row of the fixture, clean otherwise
VALUES_SET_ASIDE = [
    SetAside("NaN string", "energy", "nan", 3, "NaN or infinite number"),
    SetAside("NaN, capitalised", "valence", "NaN", 3, "NaN or infinite number"),
    SetAside("inf string", "loudness", "inf", 3, "NaN or infinite number"),
    SetAside("-inf string", "tempo", "-inf", 3, "NaN or infinite number"),
    SetAside("negative tempo", "tempo", "-5.0", 3, "tempo <= 0"),
    SetAside("danceability 3.5", "danceability", "3.5", 3, "0..1 feature outside 0..1"),
    SetAside("empty track_id", "track_id", "", 2, None),
]
# the fixture's own cleaning_report (step, rows_in, rows_out), before anything is planted
FIXTURE_REPORT = [(1, 60, 60), (2, 60, 59), (3, 59, 57), (4, 57, 56), (5, 56, 55)]


def _report(db: Path) -> list[tuple]:
    return query(db, "SELECT step, rows_in, rows_out, reason FROM cleaning_report ORDER BY step")


def _ingest_and_cluster(run_cli, path: Path, db: Path) -> None:
    for args in (["ingest", path], ["cluster", "--k", "3", "--n-init", "1", "--no-charts", "-q"]):
        assert_succeeded(run_cli(*args, "--db", db))


@pytest.mark.parametrize("bad", VALUES_SET_ASIDE, ids=[b.name for b in VALUES_SET_ASIDE])
def test_bad_values_are_set_aside_counted_and_never_clustered(
    bad, tmp_path, loaded_template, small, make_csv, run_cli, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "w.duckdb"
    shutil.copyfile(loaded_template, db)
    rows = copy.deepcopy(small.rows)
    rows[POSITION][col(bad.column)] = bad.value
    path = make_csv(tmp_path / "bad_value.csv", small.header, rows)
    _ingest_and_cluster(run_cli, path, db)

    report = _report(db)
    expected = [list(r) for r in FIXTURE_REPORT]
    for step in range(bad.step - 1, 5):  # one row fewer out of its step and every later one
        expected[step][2] -= 1
        if step > bad.step - 1:
            expected[step][1] -= 1
    assert [r[:3] for r in report] == [tuple(r) for r in expected]
    if bad.rule:
        planted = {"tempo <= 0": 1, "time_signature outside 3..7": 1}  # by the fixture itself
        assert f"{bad.rule}: {planted.get(bad.rule, 0) + 1}" in report[2][3]
    row_number = POSITION + 1
    assert query(db, "SELECT count(*) FROM valid_rows WHERE row_number = ?", [row_number]) == [(0,)]
    # the latest run used every clean track and nothing else
    [(run_id, rows_used)] = query(
        db, "SELECT run_id, rows_used FROM runs ORDER BY run_id DESC LIMIT 1"
    )
    assert rows_used == query(db, "SELECT count(*) FROM tracks")[0][0] == 54
    assert query(
        db,
        "SELECT count(*) FROM assignments WHERE run_id = ? AND row_number = ?",
        [run_id, row_number],
    ) == [(0,)]
    assert query(
        db,
        "SELECT count(*) FROM assignments WHERE run_id = ? "
        "AND row_number NOT IN (SELECT row_number FROM tracks)",
        [run_id],
    ) == [(0,)]


def test_duplicate_ids_with_different_features_keep_the_first_listing(
    tmp_path, loaded_template, small, make_csv, run_cli, monkeypatch
):
    """A track_id listed twice with different audio features is not an error: like any track
    listed more than once, its first listing in file order is the track (README: 'Which row
    is kept'); the later one is counted in cleaning_report's 'one row per track' step."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "w.duckdb"
    shutil.copyfile(loaded_template, db)
    rows = copy.deepcopy(small.rows)
    first, second = POSITION - 1, POSITION  # both blues
    rows[second][col("track_id")] = rows[first][col("track_id")]
    assert rows[second][col("danceability")] != rows[first][col("danceability")]
    path = make_csv(tmp_path / "conflict.csv", small.header, rows)
    _ingest_and_cluster(run_cli, path, db)

    report = _report(db)
    assert [r[:3] for r in report] == [*FIXTURE_REPORT[:4], (5, 56, 54)]
    track_id = rows[first][col("track_id")]
    assert query(
        db,
        "SELECT row_number, danceability, genre_count FROM tracks WHERE track_id = ?",
        [track_id],
    ) == [(first + 1, float(rows[first][col("danceability")]), 1)]
    # both listings passed the row checks; only the first is clustered
    assert query(db, "SELECT count(*) FROM valid_rows WHERE track_id = ?", [track_id]) == [(2,)]
    assert query(
        db,
        "SELECT row_number FROM assignments WHERE track_id = ? "
        "AND run_id = (SELECT max(run_id) FROM runs)",
        [track_id],
    ) == [(first + 1,)]


def test_reordered_columns_are_not_an_error(tmp_path, loaded_template, small, make_csv, run_cli):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(loaded_template, db)
    order = [0, *reversed(range(1, len(HEADER)))]
    path = make_csv(
        tmp_path / "reordered.csv",
        [small.header[i] for i in order],
        [[r[i] for i in order] for r in small.rows],
    )
    run = run_cli("ingest", path, "--db", db)
    assert run.exit_code == 0, run.output
    assert [r[:3] for r in _report(db)] == FIXTURE_REPORT


# ====================================================================== interrupted commands


def test_ctrl_c_during_ingest_rolls_back(tmp_path, loaded_template):
    """SIGINT (Ctrl-C) while ingest holds the warehouse: the transaction rolls back, and the
    command ends with one line, no traceback. (SIGKILL: tests/test_concurrency.py.)"""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(loaded_template, db)
    before = warehouse_state(db)
    proc = start_process(["ingest", "--db", db], cwd=tmp_path, tag="ingest")
    try:
        held = wait_for_lock(db, proc)
        if held:
            proc.popen.send_signal(signal.SIGINT)
        proc.wait(timeout=300)
    finally:
        proc.stop()
    if not held:
        pytest.skip("ingest finished before it could be interrupted")
    stderr = proc.stderr
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) <= 1, stderr
    if proc.popen.returncode in (0, 3):  # the signal came at or after the commit: all of it
        assert proc.popen.returncode == 0 or "committed ingest 2" in stderr, stderr
        assert query(db, "SELECT count(*) FROM raw_tracks") == [(114_000,)]
        assert query(db, "SELECT count(*) FROM ingests") == [(2,)]
    else:  # before it: none of it, and the line says so
        assert proc.popen.returncode == 130, stderr
        assert "before anything was committed" in stderr
        assert warehouse_state(db) == before


# ================================================= SQL text is never built from a user's value

# Every expression pasted into SQL text (an f-string given to execute/sql) in spotclust/, and
# why it cannot carry a user's value. Values are bound ($name / ?); only identifiers and
# fragments made by the code itself are pasted. A new one fails the test below until it is
# reviewed and listed here (or, better, bound as a parameter).
SQL_INTERPOLATIONS: dict[str, dict[str, str]] = {
    "features.py": {
        "columns": "feature names checked against feature_candidates (resolve_features)",
        "self.table": "a table name from ROW_RULES",
        "table": "a table name from ROW_RULES",
    },
    "files/convert.py": {
        # The file's headers reach SQL only as quoted identifiers; its values never do.
        "', '.join(firsts)": "min(row_number) FILTER (...) of converted(...) per mapped column",
        "quote_identifier(header)": "a header of the file, quoted as an identifier",
        "converted(mapping, column)": "a macro of CONVERSIONS applied to a quoted header",
        "stats": "aggregates of the aliases v0, v1, ..., written in the code",
        "values": "converted(...) of quoted headers, aliased v0, v1, ...",
        "empties": "count(*) FILTER (... IS NULL) of quoted canonical column names",
        "call": "CsvLayout.reader(): a read_csv call with every value bound as $name",
    },
    "spark/stage.py": {
        "columns": "casts of feature names checked against feature_candidates, as f0, f1, ...",
        "source.table": "a table name from ROW_RULES",
    },
    "files/dialect.py": {
        "_ASKED": "the read_csv options spotclust asks for, a constant",
    },
    "files/ingest.py": {
        "sql": "select_canonical(): quoted headers in conversion macros; values are bound",
        "columns": "the ingests record's keys, written in the code",
        "', '.join(('$' + c for c in record))": "$name for each of those keys",
    },
    "files/load.py": {
        "index": "TRY_CAST of the index column's header, quoted as an identifier",
        "casts": "casts of the COLUMN_TYPES constant",
        "column": "a COLUMN_TYPES key",
        "sql_type": "a COLUMN_TYPES value",
        "casts_from": "a reader call with the path bound as $path",
        "reader": "a reader call with the path and options bound as $name",
        "row_number": "one of two constant expressions (file_row_number or a window)",
    },
    "files/songs.py": {
        "sql": "select_canonical(): quoted headers in conversion macros; values are bound",
        "quote_identifier(header)": "a header of the file, quoted as an identifier",
        "converted(mapping, column)": "a macro of CONVERSIONS applied to a quoted header",
    },
    "files/synth/fit.py": {
        "_source_relation(path)": "a reader call with the path bound as $path",
        "columns": "casts of the FEATURES constant",
        "complete": "the COLUMN_TYPES constant's names",
        "', '.join((f'\"{f}\"' for f in FEATURES))": "the FEATURES constant",
    },
    "runs/manage.py": {
        "quote_identifier(table)": "a table of tables.sql with a run_id column, quoted",
    },
    "runs/write.py": {
        "table": "'runs' or 'sweeps', written in the code",
        "columns": "the record's keys, written in the code, quoted as identifiers",
        "placeholders": "$name for each of those keys",
        "source.table": "a table name from features.ROW_RULES",
        "casts": "casts of the AUDIO_FEATURES constant",
        "feature": "one of the AUDIO_FEATURES constant",
    },
    "warehouse/check.py": {
        "quote_identifier(table)": "a table of tables.sql with a run_id column, quoted",
    },
    "warehouse/schema.py": {
        "table": "a table name of tables.sql (spotclust's own)",
        "column": "a column name of tables.sql",
        "data_type": "a column type of tables.sql",
        "fill": "a BACKFILL constant",
        "model.materialized.upper()": "VIEW or TABLE, from a model file's header",
        "quote_identifier(model.name)": "a model name from spotclust's own SQL files, quoted",
        "comment": "the first line of a model file of spotclust's, quoted as a string",
        "other.upper()": "VIEW or TABLE, from DuckDB's catalog",
        "quote_identifier(name)": "a relation name, quoted as an identifier",
    },
}
_SQL_CALLS = {"execute", "executemany", "sql", "query", "from_query"}
_SQL_WORDS = (" SELECT ", " FROM ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", " WHERE ")


def _constant_only(node) -> bool:
    """An expression whose value is written in the code (constants and choices of them)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.IfExp):
        return _constant_only(node.body) and _constant_only(node.orelse)
    if isinstance(node, ast.BinOp):
        return _constant_only(node.left) and _constant_only(node.right)
    return False


def _constant_names(tree) -> dict[ast.AST, set[str]]:
    """For each function, the names it only ever assigns constants (or choices of them)."""
    out = {}
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            constant, other = set(), set()
            for node in ast.walk(func):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            (constant if _constant_only(node.value) else other).add(target.id)
                elif isinstance(node, ast.For | ast.comprehension | ast.withitem):
                    bound = node.optional_vars if isinstance(node, ast.withitem) else node.target
                    if bound is not None:
                        other.update(n.id for n in ast.walk(bound) if isinstance(n, ast.Name))
                elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.NamedExpr):
                    if isinstance(node.target, ast.Name):
                        other.add(node.target.id)
                elif isinstance(node, ast.arg):
                    other.add(node.arg)
            for node in ast.walk(func):
                out[node] = constant - other
    return out


def _sql_problems(module: Path, allowed: dict[str, str]) -> list[str]:
    """Unreviewed expressions pasted into SQL text in a module, and SQL built by % + format.

    Pasting a constant, a choice of constants, or a local name only ever given those is
    fine; anything else must be listed in `allowed` (reviewed)."""
    problems = []
    tree = ast.parse(module.read_text())
    constants = _constant_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr in _SQL_CALLS and node.args:
            sql = node.args[0]
            if isinstance(sql, ast.JoinedStr):
                for part in sql.values:
                    if not isinstance(part, ast.FormattedValue):
                        continue
                    value, expr = part.value, ast.unparse(part.value)
                    if _constant_only(value) or expr in allowed:
                        continue
                    if isinstance(value, ast.Name) and value.id in constants.get(node, ()):
                        continue
                    problems.append((node.lineno, f"{module.name}:{node.lineno}: {{{expr}}}"))
            elif isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod | ast.Add):
                problems.append(
                    (node.lineno, f"{module.name}:{node.lineno}: SQL built with % or +")
                )
        if node.func.attr == "format":  # "... SELECT ... {x}".format(x=...)
            receiver = node.func.value
            text = receiver.value if isinstance(receiver, ast.Constant) else None
            if isinstance(receiver, ast.Name):
                text = _module_constants(module).get(receiver.id)
            if _reads_sql_file(receiver):  # read_sql("queries/x.sql").format(...)
                text = read_sql(receiver.args[0].value)
            if isinstance(text, str) and any(w in f" {text.upper()} " for w in _SQL_WORDS):
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    expr = ast.unparse(arg)
                    if _constant_only(arg) or expr in allowed:
                        continue
                    if isinstance(arg, ast.Name) and arg.id in constants.get(node, ()):
                        continue
                    problems.append(
                        (node.lineno, f"{module.name}:{node.lineno}: SQL .format() of {expr}")
                    )
    return [problem for _, problem in sorted(problems)]


def _reads_sql_file(node) -> bool:
    """read_sql('<a constant name>')"""
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "read_sql"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
    )


def test_no_value_is_pasted_into_sql_text():
    package = Path(__file__).resolve().parent.parent / "spotclust"
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 30  # every module of every subpackage
    problems = [
        problem
        for module in modules
        for problem in _sql_problems(
            module, SQL_INTERPOLATIONS.get(module.relative_to(package).as_posix(), {})
        )
    ]
    assert not problems, (
        "SQL text with pasted expressions that nobody has reviewed: bind values as $name "
        "parameters; for identifiers, list them in SQL_INTERPOLATIONS with why they are "
        "safe:\n" + "\n".join(problems)
    )


@cache
def _module_constants(module: Path) -> dict[str, str]:
    out = {}
    for node in ast.parse(module.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out[node.targets[0].id] = node.value.value
    return out


def test_the_sql_guard_catches_pasted_values(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text(
        "QUERY = 'SELECT * FROM tracks WHERE genre = {genre}'\n"
        "def f(con, genre, table):\n"
        "    con.execute(f\"SELECT * FROM tracks WHERE genre = '{genre}'\")\n"
        "    con.sql(\"SELECT * FROM tracks WHERE genre = '%s'\" % genre)\n"
        "    con.execute(QUERY.format(genre=genre))\n"
        "    con.execute(QUERY.format(genre='rock' if table else 'pop'))\n"
        "    con.execute(f'SELECT count(*) FROM {table}', {'genre': genre})\n"
        "    con.execute('SELECT * FROM tracks WHERE genre = $g', {'g': genre})\n"
        "    order = '' if table else 'ORDER BY 1'\n"
        '    con.sql(f\'SELECT * FROM tracks {order} {"LIMIT 1" if table else ""}\')\n'
        "    where = f'genre = {genre}'\n"
        "    con.sql(f'SELECT * FROM tracks WHERE {where}')\n"
        "    con.execute(read_sql('queries/ingest_summary.sql').format(genre, x=table))\n"
    )
    assert _sql_problems(module, {"table": "reviewed"}) == [
        "bad.py:3: {genre}",
        "bad.py:4: SQL built with % or +",
        "bad.py:5: SQL .format() of genre",
        "bad.py:12: {where}",
        "bad.py:13: SQL .format() of genre",
    ]


def test_reading_a_warehouse_on_a_read_only_file_system_works(tmp_path, loaded_template):
    """Only writing needs a writable place: sql and tables read a read-only mount."""
    if not _readonly_mount_works():
        pytest.skip("no read-only bind mount here (needs unshare -m and mount privileges)")
    (tmp_path / "wh").mkdir()
    db = tmp_path / "wh" / "w.duckdb"
    shutil.copyfile(loaded_template, db)
    before = warehouse_state(db)
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
              'mount --bind -o ro "$0" "$0" && exec "$@"', str(db.parent)]  # fmt: skip
    done = run_process(["sql", "SELECT count(*) AS n FROM runs", "--format", "csv", "--db", db],
                       cwd=tmp_path, prefix=prefix)  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert done.stdout.split() == ["n", "1"]
    assert warehouse_state(db) == before
