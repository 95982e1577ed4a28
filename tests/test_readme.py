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


def _summary_claims() -> dict[str, str]:
    """benchmarks/RESULTS.md's summary table: claim -> measured (dashes as the README's)."""
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    summary = results.split("## Summary", 1)[1].split("\n## ", 1)[0]
    claims = {}
    for line in summary.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("claim", "---"):
            claims[cells[0]] = cells[2].replace("-", "–")
    return claims


def test_the_readmes_speed_figures_are_the_benchmarks():
    # The README's performance figures must be the ones benchmarks/run.py last measured:
    # re-running the benchmark without updating the README (or the reverse) fails here.
    performance = README.split("## Performance", 1)[1].split("### Past one machine", 1)[0]
    claims = _summary_claims()
    quoted = {
        "end to end, the notebook's work": lambda m: m,
        "end to end, spotclust's defaults": lambda m: m,
        "exact silhouette vs sklearn": lambda m: m.split(",")[0],
        "ingest of the shipped file": lambda m: m,
        "chart and report pages": lambda m: f"{float(m.split(' s')[0]):.2f} s (",
    }
    for start, figure_of in quoted.items():
        [measured] = [value for claim, value in claims.items() if claim.startswith(start)]
        figure = figure_of(measured)
        assert figure in performance, f"README does not quote {figure!r} ({start})"
