"""The README is the front door: it must show every command and the command CI runs."""

from pathlib import Path

from spotclust.cli import cli
from spotclust.warehouse.schema import declared_tables
from spotclust.warehouse.sql_files import models

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
    names = [*declared_tables(), *(model.name for model in models())]
    assert len(names) > 20
    for name in names:
        if name == "spotclust_meta":
            continue
        assert f"| `{name}` |" in README, f"README does not document {name}"
