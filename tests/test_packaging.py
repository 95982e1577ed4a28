"""The wheel carries everything the package reads at run time: every module, the SQL of the
top-level sql/ folder (as spotclust/sql), the chart templates and the shipped dataset; an
installed wheel ingests, clusters and writes charts on its own."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from support.processes import run_command, spotclust_env

ROOT = Path(__file__).resolve().parent.parent
IGNORED = (".git", ".venv", "build", "*.egg-info", "__pycache__", "*.duckdb", ".*cache")


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    """The project built as a wheel (pip, in an isolated build environment) and unpacked."""
    out = tmp_path_factory.mktemp("wheel")
    built = run_command(
        [sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", out], timeout=600
    )
    assert built.exit_code == 0, built.stderr
    (wheel,) = out.glob("spotclust-*.whl")
    target = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def test_the_wheel_holds_every_module_sql_file_and_template(unpacked_wheel):
    def relative(folder: Path, pattern: str) -> set[str]:
        return {p.relative_to(folder).as_posix() for p in folder.rglob(pattern)}

    package = unpacked_wheel / "spotclust"
    assert relative(ROOT / "spotclust", "*.py") == relative(package, "*.py")
    assert relative(ROOT / "sql", "*.sql") == relative(package / "sql", "*.sql")
    assert len(relative(package / "sql", "*.sql")) > 30
    templates = ROOT / "spotclust" / "charts" / "templates"
    assert relative(templates, "*") == relative(package / "charts" / "templates", "*")
    assert (package / "data" / "spotify_tracks.csv.gz").is_file()


def test_an_installed_wheel_finds_its_sql_and_runs(unpacked_wheel, tmp_path):
    env = spotclust_env({"PYTHONPATH": str(unpacked_wheel)})
    code = (
        "import spotclust, pathlib\n"
        "from spotclust.warehouse.sql_files import sql_root, models\n"
        "print(pathlib.Path(spotclust.__file__).parent)\n"
        "print(sql_root())\n"
        "print(len(models()))\n"
        "spotclust.ingest(db='w.duckdb')\n"
        "result = spotclust.cluster(k=4, db='w.duckdb', n_init=1, silhouette_sample=500)\n"
        "print(spotclust.write_charts(result.run_id, 'pages', db='w.duckdb'))\n"
    )
    done = run_command([sys.executable, "-c", code], cwd=tmp_path, env=env, timeout=600)
    assert done.exit_code == 0, done.stderr
    package, sql, count, index = done.stdout.split()
    assert Path(package) == unpacked_wheel / "spotclust"
    assert Path(sql) == unpacked_wheel / "spotclust" / "sql"
    assert int(count) == len(list((ROOT / "sql").glob("*/[0-9]*.sql")))
    assert (tmp_path / index).is_file()
