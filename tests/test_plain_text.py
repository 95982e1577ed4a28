"""Data is data: text from the warehouse reaches the terminal as plain text, never as the
table renderer's markup, and control characters in it are shown escaped (issue 13, item 1)."""

from __future__ import annotations

ESC, BEL = "\x1b", "\x07"


def test_sql_prints_brackets_as_they_are(small_db, run_cli):
    run = run_cli("sql", "SELECT '[/x]' AS a, 'x [bold]y[/bold]' AS \"[b]\"", "--db", small_db)
    assert run.exit_code == 0, run.output
    assert "[/x]" in run.stdout and "x [bold]y[/bold]" in run.stdout and "[b]" in run.stdout


def test_control_characters_are_shown_escaped_in_tables(small_db, run_cli):
    query = "SELECT chr(27) || ']52;c;aGk=' || chr(7) AS clipboard, 'a' || chr(155) || 'b' AS c1"
    for fmt in ("table", "markdown"):
        run = run_cli("sql", query, "--format", fmt, "--db", small_db)
        assert run.exit_code == 0, run.output
        assert ESC not in run.stdout and BEL not in run.stdout and "\x9b" not in run.stdout
        assert "\\x1b]52;c;aGk=\\x07" in run.stdout and "a\\u009bb" in run.stdout


def test_a_genre_that_looks_like_markup_is_printed_after_clustering(
    tmp_path, small, make_csv, run_cli
):
    """A genre named '[/x]comedy' made cluster crash with a traceback after the commit."""
    genre = small.header.index("track_genre")
    rows = [[*r[:genre], "[/x]comedy" if r[genre] == "metal" else r[genre]] for r in small.rows]
    path = make_csv(tmp_path / "markup.csv", small.header, rows)
    db = tmp_path / "w.duckdb"
    assert run_cli("ingest", path, "--db", db).exit_code == 0
    run = run_cli("cluster", "--k", "3", "--no-charts", "--db", db)
    assert run.exit_code == 0, run.output
    assert "[/x]comedy" in run.stdout
    explained = run_cli("explain", "--db", db)
    assert explained.exit_code == 0 and "[/x]comedy" in explained.stdout
