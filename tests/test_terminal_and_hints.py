"""Output that follows the user: tables that fit the terminal, follow-up commands that carry
the --db used (and work when pasted into a shell), chart pages in a folder per warehouse and
run, and the choice of k said plainly (no 'None', one line when `run` departs from its
sweep's suggestion)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from support.processes import run_command, run_process, spotclust_env

import spotclust

QUICK = ["--n-init", "2"]


def _copy(template: Path, folder: Path, name: str = "w.duckdb") -> Path:
    db = folder / name
    shutil.copyfile(template, db)
    return db


def _long_lines(text: str, width: int) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


def _hint(output: str, label: str) -> str:
    """The command printed after 'LABEL: ', its continuation lines joined as a shell would."""
    text = output.split(f"{label}: ", 1)[1]
    lines = [text.splitlines()[0]]
    rest = iter(text.splitlines()[1:])
    while lines[-1].endswith("\\"):
        lines.append(next(rest))
    return "\n".join(lines)


def _in_a_shell(command: str, cwd: Path):
    """The command as pasted into bash, with the installed spotclust on the PATH."""
    path = f"{Path(sys.executable).parent}:{spotclust_env().get('PATH', '')}"
    return run_command(["bash", "-c", command], cwd=cwd, env=spotclust_env({"PATH": path}))


# --------------------------------------------------------------------- fits the terminal


def test_cluster_sweep_and_tables_fit_80_columns(clustered_template, tmp_path):
    _copy(clustered_template, tmp_path)
    narrow = {"COLUMNS": "80"}
    commands = [
        ["cluster", "--k", "3", *QUICK, "--db", "w.duckdb"],
        ["sweep", "--k", "2..4", "--gap", *QUICK, "--db", "w.duckdb"],
        ["tables", "--db", "w.duckdb"],
        ["sql", "SELECT * FROM tracks LIMIT 3", "--db", "w.duckdb"],  # too many columns
    ]
    for args in commands:
        run = run_process(args, tmp_path, narrow)
        assert run.exit_code == 0, run.output
        assert not _long_lines(run.output, 80), f"{args[0]}:\n{run.output}"
        assert run.stdout.startswith("┏" if args[0] != "sql" else "-[ row 1 ]"), run.stdout
    # piped, without COLUMNS: the table keeps its natural width, nothing folded
    piped = run_process(commands[2], tmp_path)
    assert piped.exit_code == 0 and _long_lines(piped.stdout, 80), piped.output


def test_a_table_too_wide_for_its_columns_becomes_records(clustered_template, tmp_path, run_cli):
    db = _copy(clustered_template, tmp_path)
    run = run_cli("sql", "SELECT * FROM tracks ORDER BY track_id LIMIT 2", "--db", db,
                  env={"COLUMNS": "60"})  # fmt: skip
    assert run.exit_code == 0, run.output
    assert not _long_lines(run.stdout, 60), run.stdout
    assert run.stdout.startswith("-[ row 1 ]") and "-[ row 2 ]" in run.stdout
    assert re.search(r"^track_id +\S", run.stdout, re.M), run.stdout
    folded = run_cli("tables", "--db", db, env={"COLUMNS": "60"})
    assert folded.stdout.startswith("┏") and not _long_lines(folded.stdout, 60), folded.stdout


# ------------------------------------------------------------- hints follow the warehouse


def test_printed_commands_carry_the_db_and_query_it_when_pasted(small, make_csv, tmp_path):
    folder = tmp_path / "my data"
    folder.mkdir()
    csv = make_csv(folder / "small.csv", small.header, small.rows)
    db = folder / "it's mine.duckdb"  # a space and a quote: the shell must get it whole
    elsewhere = tmp_path / "elsewhere"  # no warehouse/spotclust.duckdb here
    elsewhere.mkdir()
    ingest = run_process(["ingest", csv, "--db", db], elsewhere)
    assert ingest.exit_code == 0, ingest.output
    hint = _hint(ingest.stdout, "See why rows were set aside")
    assert shlex.split(hint)[-2:] == ["--db", str(db)]
    pasted = _in_a_shell(hint, elsewhere)
    assert pasted.exit_code == 0, pasted.output
    assert "reason" in pasted.stdout and "duplicate" in pasted.stdout

    # a narrow terminal: the command goes on over lines ending in a backslash
    cluster = run_process(["cluster", "--k", "3", *QUICK, "--no-charts", "--db", db],
                          elsewhere, {"COLUMNS": "50"})  # fmt: skip
    assert cluster.exit_code == 0, cluster.output
    explore = _hint(cluster.stdout, "Explore")
    assert explore.count("\\\n") >= 2 and "--db" in explore
    pasted = _in_a_shell(explore, elsewhere)
    assert pasted.exit_code == 0, pasted.output
    assert "rank_in_cluster" in pasted.stdout
    assert not (elsewhere / "warehouse").exists()


def test_the_default_warehouse_gets_no_db_in_hints(small_template, tmp_path, monkeypatch, run_cli):
    (tmp_path / "warehouse").mkdir()
    _copy(small_template, tmp_path / "warehouse", "spotclust.duckdb")
    monkeypatch.chdir(tmp_path)
    run = run_cli("cluster", "--k", "3", *QUICK, "--no-charts")
    assert run.exit_code == 0, run.output
    assert "--db" not in run.stdout and "Explore: spotclust sql 'SELECT" in run.stdout
    # SPOTCLUST_DB is not the default: a pasted command must not depend on it
    env = {"SPOTCLUST_DB": "warehouse/spotclust.duckdb"}
    run = run_cli("cluster", "--k", "3", *QUICK, "--no-charts", env=env)
    assert "--db warehouse/spotclust.duckdb" in run.stdout, run.stdout


# ----------------------------------------------------------- charts per warehouse and run


def _drawn_sweep(page: Path) -> int:
    return int(re.search(r"Sweep (\d+)", page.read_text()).group(1))


def test_charts_go_to_a_folder_per_warehouse_and_run(
    clustered_template, tmp_path, monkeypatch, run_cli, assert_one_line_error
):
    db = _copy(clustered_template, tmp_path, "mine.duckdb")  # run 1 and sweep 1 in it
    monkeypatch.chdir(tmp_path)
    run = run_cli("cluster", "--k", "3", *QUICK, "--db", "mine.duckdb")
    assert run.exit_code == 0, run.output
    folder = Path("charts") / "mine" / "run-2"
    assert f"Charts: open {folder / 'index.html'}" in run.stdout
    assert (folder / "index.html").is_file() and _drawn_sweep(folder / "elbow.html") == 1

    again = run_cli("charts", "--run", "1", "--db", db)
    assert again.stdout.strip() == f"Charts: open {Path('charts/mine/run-1/index.html')}"
    assert spotclust.write_charts(1, db=db) == Path("charts/mine/run-1/index.html")

    # a sweep redraws the latest run's sweep pages where they are, and only those
    index = (folder / "index.html").read_text()
    swept = run_cli("sweep", "--k", "2..3", "--stability", "2", *QUICK, "--db", db)
    assert swept.exit_code == 0, swept.output
    assert f"redrawn with it: open {folder / 'index.html'}" in swept.stdout
    assert _drawn_sweep(folder / "elbow.html") == 2 == _drawn_sweep(folder / "stability.html")
    assert (folder / "index.html").read_text() == index
    assert _drawn_sweep(Path("charts/mine/run-1/elbow.html")) == 1  # not the latest run

    # charts --sweep ID chooses the sweep drawn
    chosen = run_cli("charts", "--sweep", "1", "--db", db)
    assert chosen.exit_code == 0, chosen.output
    assert _drawn_sweep(folder / "elbow.html") == 1 == _drawn_sweep(folder / "stability.html")
    assert_one_line_error(run_cli("charts", "--sweep", "9", "--db", db), "no sweep 9")


def test_a_sweep_draws_no_pages_where_none_were_written(clustered_template, tmp_path,
                                                       monkeypatch, run_cli):  # fmt: skip
    db = _copy(clustered_template, tmp_path)
    monkeypatch.chdir(tmp_path)
    swept = run_cli("sweep", "--k", "2..3", "--stability", "0", *QUICK, "--db", db)
    assert swept.exit_code == 0, swept.output
    assert "Charts" not in swept.stdout and not Path("charts").exists()


def test_pages_not_redrawn_after_a_sweep_say_the_sweep_was_committed(clustered_template, tmp_path,
                                                                    query):  # fmt: skip
    """The elbow page is there, on a full disk: the sweep is committed, and says so (exit 3)."""
    if not shutil.which("unshare"):
        pytest.skip("no unshare here for a private tmpfs")
    db = _copy(clustered_template, tmp_path)
    pages = tmp_path / "pages"
    pages.mkdir()
    full = 'mount -t tmpfs -o size=4k tmpfs "$0" && echo old > "$0/elbow.html" && exec "$@"'
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", full, pages]
    args = ["sweep", "--k", "2..3", "--stability", "0", *QUICK, "--charts-dir", pages]
    run = run_process([*args, "--db", db], tmp_path, prefix=prefix)
    if "mount" in run.stderr and run.exit_code not in (0, 3):
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to mount a small tmpfs: {run.stderr}")
        pytest.skip("no private tmpfs mount here (needs unshare -m and mount privileges)")
    assert run.exit_code == 3, run.output
    [line] = [line for line in run.stderr.splitlines() if line.strip()]
    assert "committed sweep 2; the elbow and stability pages not redrawn" in line, line
    assert "No space left on device" in line and "Traceback" not in run.output
    assert "suggested k" in run.stdout or "no suggested k" in run.stdout
    assert query(db, "SELECT count(DISTINCT sweep_id) FROM sweeps") == [(2,)]


# --------------------------------------------------------------------- choosing k plainly


@pytest.fixture
def grouped_csv(grouped_template) -> Path:
    return grouped_template.parent / "grouped.csv"  # three groups: every sweep suggests 3


def test_run_says_in_one_line_why_it_departs_from_the_suggestion(grouped_csv, tmp_path,
                                                                run_cli):  # fmt: skip
    common = ["--sweep", "1..5", *QUICK, "--no-charts"]
    given = run_cli("run", grouped_csv, "--k", "4", *common, "--db", tmp_path / "a.duckdb")
    assert given.exit_code == 0, given.output
    lines = [line for line in given.stdout.splitlines() if "Clustering with k = 4" in line]
    assert len(lines) == 1, given.stdout
    assert "as given" in lines[0] and "suggested k = 3" in lines[0]
    assert "1..5" in lines[0] and "--k 3" in lines[0]
    default = run_cli("run", grouped_csv, *common, "--db", tmp_path / "b.duckdb")
    assert "(the default of `run`" in default.stdout, default.stdout
    agreed = run_cli("run", grouped_csv, "--k", "3", *common, "--db", tmp_path / "c.duckdb")
    assert agreed.exit_code == 0 and "Clustering with" not in agreed.stdout


def test_the_sweep_says_its_knee_depends_on_the_range(grouped_db, run_cli):
    run = run_cli("sweep", "--k", "1..5", "--stability", "0", *QUICK, "--db", grouped_db)
    assert run.exit_code == 0, run.output
    assert "over the k swept (1..5): it depends on that range" in run.stdout


NO_NONE = {
    "cluster": ["cluster", "--k", "3", *QUICK, "--no-charts"],
    "sweep, no evidence": ["sweep", "--k", "2..3", "--no-silhouette", "--stability", "0"],
    "sweep from k = 1": ["sweep", "--k", "1..3", "--no-silhouette", "--gap-refs", "2", *QUICK],
    "sweep of a list": ["sweep", "--k", "2,4", "--stability", "2", *QUICK],
    "explain": ["explain"],
    "run": ["run", "{csv}", "--sweep", "1..3", *QUICK, "--no-charts"],
}


@pytest.mark.parametrize("args", NO_NONE.values(), ids=NO_NONE.keys())
def test_no_none_in_what_is_printed(args, clustered_template, small_csv, tmp_path, run_cli):
    db = _copy(clustered_template, tmp_path)
    run = run_cli(*[str(a).format(csv=small_csv) for a in args], "--db", db)
    assert run.exit_code == 0, run.output
    assert "None" not in run.output, run.output
