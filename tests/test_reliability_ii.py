"""Reliability II (issue 13): the faults an outside attack found, one case each, as a table.

Every case runs a real `spotclust` process against its own copy of a warehouse that holds an
ingest, a clustering run and a sweep, and asserts three things:
- the exit status: 0 done, 1 refused with nothing changed, 3 committed then a later step
  failed, 130 interrupted before the commit (README, "Exit status");
- the words: one clear line on stderr (or, for output cases, what stdout must and must not
  hold), never a traceback;
- the warehouse: exactly as before (every table, view and sequence), or exactly as before
  plus what the line says was committed.

Cases are grouped by the issue's numbered items. Those that need exact timing or another
user live beside this suite: Ctrl-C at the commit point and during start-up in
test_commit_point.py, the compiled-kernel cache as an unprivileged user in
test_unprivileged.py, the memory of streamed output in test_sql_stream.py.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from support.processes import run_process
from support.warehouse_state import query, warehouse_state

ESC, BEL, CSI = "\x1b", "\x07", "\x9b"
FRACTION_FOUND = (
    "SELECT count(*) FROM cleaning_report WHERE reason LIKE '%popularity is not a whole number: 1%'"
)
HOSTILE = "SELECT chr(27) || ']52;c;aGk=' || chr(7) AS clipboard, 'a' || chr(155) || 'b' AS c1"


@dataclass
class Ctx:
    """What a case's builder gets: its own folder and warehouse, and the small fixture."""

    tmp: Path
    db: Path
    small: object
    make_csv: Callable


@dataclass
class Case:
    item: int  # the numbered item
    name: str
    build: Callable[[Ctx], list]  # -> the command's arguments (without --db)
    exit_code: int
    said: tuple[str, ...] = ()  # the one stderr line holds each (case-insensitive)
    printed: tuple[str, ...] = ()  # stdout holds each (exit 0 cases)
    never: tuple[str, ...] = (ESC, BEL, CSI)  # neither stream holds any
    committed: str | None = None  # SQL whose count the command adds one to; None: unchanged
    full_disk: str | None = None  # a folder under tmp that is a 4 KiB tmpfs for the command
    uses_db: bool = True  # False: the command takes no --db (synth)
    compare: str = "tables"  # "bytes": the warehouse is damaged; its file must stay the same
    lines: int | None = 1  # stderr lines of a refusal (None: one or more, e.g. check's list)


# --------------------------------------------------------------------------- builders


def _markup_path(ctx: Ctx) -> list:
    return ["ingest", ctx.tmp / f"[/x]{ESC}]52;c;aGk={BEL}.csv"]


def _fifo(ctx: Ctx) -> list:
    os.mkfifo(ctx.tmp / "tracks.csv")
    return ["ingest", ctx.tmp / "tracks.csv"]


def _loop(ctx: Ctx) -> list:
    (ctx.tmp / "loop.csv").symlink_to(ctx.tmp / "loop.csv")
    return ["ingest", ctx.tmp / "loop.csv"]


def _blocked_charts(ctx: Ctx) -> list:
    (ctx.tmp / "pages").write_text("a file where the chart folder's parent should be")
    return ["cluster", "--k", "3", "--charts-dir", ctx.tmp / "pages" / "run"]


def _with_popularity(ctx: Ctx, value: str) -> list[list[str]]:
    at = ctx.small.header.index("popularity")
    return [[*r[:at], value, *r[at + 1 :]] if i == 0 else r for i, r in enumerate(ctx.small.rows)]


def _fraction_csv(ctx: Ctx) -> list:
    rows = _with_popularity(ctx, "1.5")
    return ["ingest", ctx.make_csv(ctx.tmp / "fraction.csv", ctx.small.header, rows)]


def _fraction_parquet(ctx: Ctx) -> list:
    csv = ctx.make_csv(ctx.tmp / "f.csv", ctx.small.header, _with_popularity(ctx, "1.5"))
    out = ctx.tmp / "fraction.parquet"
    with duckdb.connect() as con:  # popularity a DOUBLE column, as a pandas export makes it
        con.execute(
            "COPY (SELECT * REPLACE (popularity::DOUBLE AS popularity) FROM read_csv($p)) "
            "TO '" + str(out).replace("'", "''") + "' (FORMAT parquet)",
            {"p": str(csv)},
        )
    return ["ingest", out]


def _text(ctx: Ctx) -> str:
    """The small fixture as CSV text (LF line ends, fields quoted where needed)."""
    return ctx.make_csv(ctx.tmp / "plain.csv", ctx.small.header, ctx.small.rows).read_text()


def _crlf_blank_tail(ctx: Ctx) -> list:
    path = ctx.tmp / "crlf.csv"
    path.write_bytes((_text(ctx).replace("\n", "\r\n") + "\n\n  \n").encode())
    return ["ingest", path]


def _open_quote(ctx: Ctx) -> list:
    lines = _text(ctx).split("\n")
    lines[1] = lines[1].replace(",", ',"', 1)  # a quote opens on line 2 and never closes
    path = ctx.tmp / "open_quote.csv"
    path.write_text("\n".join(lines))
    return ["ingest", path]


def _empty_gzip(ctx: Ctx) -> list:
    path = ctx.tmp / "empty.csv.gz"
    path.write_bytes(gzip.compress(b""))
    return ["ingest", path]


def _same_file(ctx: Ctx) -> list:
    """The very file the warehouse's latest ingest loaded (the fixture writes it the same)."""
    return ["ingest", ctx.make_csv(ctx.tmp / "small.csv", ctx.small.header, ctx.small.rows)]


def _truncated(ctx: Ctx) -> list:
    data = ctx.db.read_bytes()
    ctx.db.write_bytes(data[: len(data) // 2])
    return ["ingest", ctx.make_csv(ctx.tmp / "other.csv", ctx.small.header, ctx.small.rows[:50])]


def _check_truncated(ctx: Ctx) -> list:
    _truncated(ctx)
    return ["check"]


def _full(ctx: Ctx, name: str) -> Path:
    return ctx.tmp / "full" / name


CASES = [
    # 1. data is never markup; control characters are shown escaped, in every format
    Case(1, "sql prints brackets as they are", lambda c: ["sql", "SELECT '[/x]' AS \"[b]\""],
         0, printed=("[/x]", "[b]")),
    *(Case(1, f"control characters escaped in {fmt}", lambda c, f=fmt: [
        "sql", HOSTILE, "--format", f], 0, printed=("\\x1b]52;c;aGk=\\x07", "a\\u009bb"))
      for fmt in ("table", "markdown", "csv")),
    Case(1, "control characters escaped in json", lambda c: ["sql", HOSTILE, "--format", "json"],
         0, printed=("\\u001b]52;c;aGk=\\u0007",)),
    Case(1, "a path with markup and ESC in an error line", _markup_path, 1,
         said=("[/x]\\x1b]52;c;aGk=\\x07.csv",)),
    # 2. a failure after the commit says what was committed
    Case(2, "chart pages on a full disk after the run", lambda c: [
        "cluster", "--k", "3", "--charts-dir", _full(c, "charts")], 3,
         said=("committed run 2; charts not written", "No space left on device"),
         committed="SELECT count(*) FROM runs", full_disk="full"),
    Case(2, "charts blocked by a file where their folder goes", _blocked_charts, 3,
         said=("committed run 2; charts not written",), committed="SELECT count(*) FROM runs"),
    Case(2, "synth --out on a full disk", lambda c: [
        "synth", "--rows", "20000", "--out", _full(c, "synthetic.csv")], 1,
         said=("cannot write", "synthetic.csv", "No space left on device"), full_disk="full",
         uses_db=False),
    Case(2, "export on a full disk", lambda c: [
        "export", "--out", _full(c, "run.csv")], 1,
         said=("cannot write", "run.csv", "No space left on device"), full_disk="full"),
    Case(2, "charts on a full disk", lambda c: ["charts", "--out", _full(c, "pages")], 1,
         said=("cannot write", "No space left on device"), full_disk="full"),
    # 3. sql --write is all or nothing
    Case(3, "sql --write: a failing statement undoes those before it", lambda c: [
        "sql", "DELETE FROM sweeps; SELECT error('boom')", "--write"], 1, said=("boom",)),
    # 4. diagnoses that name the true cause and never invite data loss (more: test_diagnoses)
    Case(4, "ingest into a truncated warehouse is refused, the file left as it is", _truncated,
         1, said=("damaged or truncated", "restore it from a copy"), compare="bytes"),
    Case(4, "check names a truncated warehouse", _check_truncated, 1,
         said=(), compare="bytes", lines=None),
    # 6. a fraction in a whole-number column is a cleaning finding, alike for CSV and Parquet
    Case(6, "popularity 1.5 from CSV is set aside with the reason", _fraction_csv, 0,
         committed=FRACTION_FOUND),
    Case(6, "popularity 1.5 from Parquet is set aside with the reason", _fraction_parquet, 0,
         committed=FRACTION_FOUND),
    # 7. bounded output: a table shows the first rows and says how many there were
    Case(7, "a table of 5,000 rows shows 1,000 and counts the rest", lambda c: [
        "sql", "SELECT range AS n FROM range(5000)"], 0,
         printed=("4,000 more rows not shown (5,000 in all)",)),
    # 8. smaller faults
    Case(8, "CRLF rows with blank lines at the end load", _crlf_blank_tail, 0,
         committed="SELECT count(*) FROM ingests"),
    Case(8, "a quote left open names the line it opens on", _open_quote, 1,
         said=("open_quote.csv", "line 2 ", "quote")),
    Case(8, "an empty gzip says it is empty", _empty_gzip, 1, said=("empty.csv.gz", "empty")),
    Case(8, "re-ingesting the same file changes nothing", _same_file, 0,
         printed=("already ingested", "nothing changed")),
    Case(8, "a symbolic link loop is named as one", _loop, 1,
         said=("symbolic link that leads nowhere",)),
    # 5. environment faults
    Case(5, "a FIFO is refused before it is opened", _fifo, 1, said=("not a regular file",)),
    Case(5, "/dev/zero is refused before it is hashed", lambda c: ["ingest", "/dev/zero"], 1,
         said=("not a regular file",)),
    Case(5, "ad-hoc SQL cannot turn on file logging (it aborted the process)", lambda c: [
        "sql", "CALL enable_logging(storage='file', storage_path='logs')"], 1,
         said=("cannot change DuckDB's settings",)),
    Case(5, "ad-hoc SQL cannot change settings with --write either", lambda c: [
        "sql", "SET threads = 1", "--write"], 1, said=("cannot change DuckDB's settings",)),
]  # fmt: skip


def _tmpfs_works() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "mount -t tmpfs -o size=4k tmpfs /mnt"],
        capture_output=True,
    )  # fmt: skip
    return probe.returncode == 0


def _run(case: Case, ctx: Ctx, args: list):
    args = [*args, *(("--db", ctx.db) if case.uses_db else ())]
    prefix: list = []
    if case.full_disk:
        if not _tmpfs_works():
            if os.environ.get("CI"):
                pytest.fail("CI must be able to mount a small tmpfs (unshare -m, as root)")
            pytest.skip("no private tmpfs mount here (needs unshare -m and mount privileges)")
        folder = ctx.tmp / case.full_disk
        folder.mkdir()
        prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                  'mount -t tmpfs -o size=4k tmpfs "$0" && exec "$@"', folder]  # fmt: skip
    return run_process(args, cwd=ctx.tmp, prefix=prefix, timeout=300)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.item}: {c.name}")
def test_case(case: Case, tmp_path, clustered_template, small, make_csv):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    before = warehouse_state(db)
    counted = query(db, case.committed)[0][0] if case.committed else None
    ctx = Ctx(tmp_path, db, small, make_csv)
    args = case.build(ctx)
    bytes_before = db.read_bytes()  # after build: a damaged case damages it there
    run = _run(case, ctx, args)

    assert "Traceback" not in run.output, run.output
    assert run.exit_code == case.exit_code, run.output
    for text in case.never:
        assert text not in run.output, f"{text!r} reached the terminal"
    if case.exit_code == 0:
        for text in case.printed:
            assert text in run.stdout, f"{text!r} not in stdout:\n{run.stdout}"
    else:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == case.lines if case.lines else lines, run.stderr
        for text in case.said:
            assert text.lower() in lines[0].lower(), f"{text!r} not in {lines[0]!r}"
    if case.compare == "bytes":
        assert db.read_bytes() == bytes_before
    elif case.committed:
        assert query(db, case.committed)[0][0] == counted + 1
        assert warehouse_state(db) != before
    else:
        assert warehouse_state(db) == before
    leftovers = [p.name for p in tmp_path.rglob("*") if ".partial" in p.name]
    assert not leftovers, leftovers
