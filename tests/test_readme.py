"""The README is the front door: it must show every command and the command CI runs."""

from pathlib import Path

from spotclust.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_command_is_documented_with_an_example():
    for name in cli.commands:
        assert f"### `spotclust {name}" in README, f"README has no section for {name}"
        assert f"\nspotclust {name}" in README, f"README has no example of {name}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in README and "make run" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def test_every_table_and_view_is_documented():
    sql = ROOT / "spotclust" / "sql"
    names = [line.split()[5] for line in (sql / "tables.sql").read_text().splitlines()
             if line.startswith("CREATE TABLE IF NOT EXISTS")]  # fmt: skip
    names += [f.name[4:-4] for f in (sql / "views").glob("*.sql")]
    assert len(names) > 20
    for name in names:
        if name == "spotclust_meta":
            continue
        assert f"| `{name}` |" in README, f"README does not document {name}"
