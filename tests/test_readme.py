"""The README is the front door: it must show every command and the command CI runs."""

import sys
from pathlib import Path

from support.processes import run_command, spotclust_env

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


def test_the_python_api_example_runs(tmp_path):
    """The README's Python API block, as written, in a fresh process on the shipped data."""
    section = README.split("## Python API", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    check = (
        "\nassert isinstance(run_id, int) and len(clusters) == 4\n"
        "assert placed[0].name == 'Mine' and 0 <= placed[0].cluster < 4\n"
        "assert (pathlib.Path('charts') / 'index.html').is_file()\n"
        "assert pathlib.Path('run.parquet').is_file() and sweep.suggested_k is not None\n"
    )
    done = run_command(
        [sys.executable, "-c", "import pathlib\n" + block + check],
        cwd=tmp_path,
        env=spotclust_env(),
        timeout=900,
    )
    assert done.exit_code == 0, done.stderr
    assert (tmp_path / "warehouse" / "spotclust.duckdb").is_file()
