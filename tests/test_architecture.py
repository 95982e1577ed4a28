"""The layout's promises (ARCHITECTURE.md): layers import only downwards, the CLI calls only
the public API, start-up stays light, modules and functions stay small, and a Python caller
gets the same one clear line as the CLI prints for the same mistake."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path

import pytest
from support.processes import run_command

import spotclust

PACKAGE = Path(spotclust.__file__).resolve().parent
HEAVY = ("sklearn", "numba", "altair", "vl_convert", "pyspark", "py4j")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 70  # ~60; the longest is a compiled kernel's loop nest (66)


def _modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(module: Path) -> set[str]:
    """Every module name imported anywhere in the file (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _loaded_after(code: str, cwd: Path) -> set[str]:
    """The top-level packages in sys.modules after running code in a fresh interpreter."""
    done = run_command(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=cwd,
        timeout=120,
    )
    assert done.exit_code == 0, done.stderr
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


def test_import_spotclust_and_help_load_no_modelling_or_chart_stack(tmp_path):
    assert not _loaded_after("import spotclust", tmp_path) & set(HEAVY)
    every_help = "; ".join(
        f"cli([{args}'--help'], standalone_mode=False)"
        for args in ["", *(f"'{name}', " for name in ("ingest", "cluster", "sweep", "place"))]
    )
    loaded = _loaded_after(f"from spotclust.cli import cli; {every_help}", tmp_path)
    assert "spotclust" in loaded and "click" in loaded
    assert not loaded & set(HEAVY)


def test_sql_tables_and_runs_load_no_modelling_chart_or_frame_stack(tmp_path, clustered_template):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    code = (
        "from spotclust.cli import cli\n"
        f"cli(['sql', 'SELECT 1', '--db', {str(db)!r}], standalone_mode=False)\n"
        f"cli(['tables', '--db', {str(db)!r}], standalone_mode=False)\n"
        f"cli(['runs', '--db', {str(db)!r}], standalone_mode=False)"
    )
    # polars and pyarrow are for data frames: listing and querying print plain rows
    assert not _loaded_after(code, tmp_path) & {*HEAVY, "polars", "pyarrow"}


def test_help_loads_no_duckdb(tmp_path):
    assert "duckdb" not in _loaded_after("from spotclust.cli import cli", tmp_path)


# Which parts of spotclust each layer may import (its own modules always). Arrows point
# down: cli -> api -> runs/files/charts -> model/warehouse -> errors.
ALLOWED = {
    "model": ("spotclust.errors",),
    "warehouse": ("spotclust.errors",),
    "charts": (
        "spotclust.errors",
        "spotclust.warehouse",
        "spotclust.runs.resolve",
        "spotclust.whole_file",
        "spotclust.model.mds",  # the distance map's classical MDS (numerics, no I/O)
    ),
    # and the top-level package: the public API; preload imports what `run` needs meanwhile
    "cli": ("spotclust.output", "spotclust.preload"),
}
FORBIDDEN_IN_MODEL = ("duckdb", "polars", "pyarrow")  # numerics with no I/O
# The Spark engine sits beside runs/: it stages rows through the warehouse, fits with the
# model's numbers, and writes with runs/write.py (runs/cluster.py and sweep.py dispatch to it).
ALLOWED["spark"] = (
    "spotclust.errors",
    "spotclust.engine",
    "spotclust.features",
    "spotclust.model",
    "spotclust.runs",
    "spotclust.warehouse",
    "spotclust.whole_file",
)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_lies_below_it(layer):
    problems = []
    for module in _modules(layer):
        for name in _imports(module):
            if name == "spotclust" or not name.startswith("spotclust."):
                continue
            ok = name.startswith(f"spotclust.{layer}") or name.startswith(ALLOWED[layer])
            public = name.removeprefix("spotclust.") in spotclust.__all__
            if public and (layer == "cli" or name == "spotclust.__version__"):
                ok = True  # from spotclust import ...: the public API itself
            if not ok:
                problems.append(f"{module.relative_to(PACKAGE)} imports {name}")
    assert not problems, "\n".join(problems)


def test_the_model_layer_does_no_io():
    problems = [
        f"{module.relative_to(PACKAGE)} imports {name}"
        for module in _modules("model")
        for name in _imports(module)
        if name.split(".")[0] in FORBIDDEN_IN_MODEL
    ]
    assert not problems, "\n".join(problems)


def test_only_the_spark_engine_imports_pyspark():
    """pyspark is an optional extra: spotclust/spark imports it, when a Spark run starts."""
    problems = [
        f"{module.relative_to(PACKAGE)} imports {name}"
        for module in _modules()
        for name in _imports(module)
        if name.split(".")[0] in ("pyspark", "py4j") and module.parent.name != "spark"
    ]
    assert not problems, "\n".join(problems)


def test_modules_and_functions_stay_small():
    problems = []
    for module in _modules():
        text = module.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            problems.append(f"{module.relative_to(PACKAGE)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    where = f"{module.relative_to(PACKAGE)}:{node.lineno}"
                    problems.append(f"{where} {node.name}: {length} lines")
    assert not problems, "\n".join(problems)


def test_every_cli_command_has_an_api_function():
    from spotclust.cli import cli

    # The API's names where they differ; run is ingest, sweep and cluster in turn.
    named = {"charts": "write_charts", "sql": "query", "run": None, "runs": "run_rows"}
    for command in cli.commands:
        function = named.get(command, command)
        assert function is None or callable(getattr(spotclust, function)), command
        assert function is None or function in spotclust.__all__, command


# ------------------------------------------------------- the same clear line for API and CLI


def _cases(tmp_path: Path, db: Path) -> list[tuple[str, object, list[str], dict]]:
    """(name, API call, CLI arguments, environment) for one mistake each."""
    missing = tmp_path / "none.duckdb"
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("track_id,artists\n")
    return [
        ("no warehouse", lambda: spotclust.explain(db=missing), ["explain", "--db", missing], {}),
        ("not a warehouse", lambda: spotclust.tables(not_duckdb), ["tables", "--db", not_duckdb],
         {}),
        ("k too small", lambda: spotclust.cluster(k=1, db=db), ["cluster", "--k", "1", "--db", db],
         {}),
        ("unknown run", lambda: spotclust.export(99, out=tmp_path / "x.csv", db=db),
         ["export", "--run", "99", "--out", tmp_path / "x.csv", "--db", db], {}),
        ("bad SQL", lambda: spotclust.query("SELEC 1", db=db), ["sql", "SELEC 1", "--db", db], {}),
        ("no such file", lambda: spotclust.ingest(tmp_path / "nope.csv", db),
         ["ingest", tmp_path / "nope.csv", "--db", db], {}),
        ("bad k range", lambda: spotclust.sweep("4..2", db), ["sweep", "--k", "4..2", "--db", db],
         {}),
        # A DuckDB error deep inside a run: the API used to raise duckdb.OutOfMemoryException.
        ("out of memory", lambda: spotclust.cluster(k=3, db=db, n_init=1),
         ["cluster", "--k", "3", "--n-init", "1", "--no-charts", "--db", db],
         {"SPOTCLUST_MEMORY_LIMIT": "1MB"}),
    ]  # fmt: skip


def test_a_python_caller_gets_the_line_the_cli_prints(
    tmp_path, small_template, run_cli, monkeypatch
):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_template, db)
    for name, call, args, env in _cases(tmp_path, db):
        with monkeypatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            with pytest.raises(spotclust.SpotclustError) as caught:
                call()
        printed = run_cli(*args, env=env)
        assert printed.exit_code != 0, name
        assert printed.stderr.strip() == f"Error: {caught.value}", name
