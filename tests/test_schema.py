"""Schema versions: the warehouse records its layout's version; an older warehouse is upgraded
in place, in one transaction, with its data intact; a newer one is refused, untouched.

Older layouts are rebuilt here from a current warehouse, the way earlier spotclust versions
left them:

* version 0: before versioning, no spotclust_meta;
* version 1, models as views: the models now materialized at ingest (row_checks, tracks,
  track_genres, feature_correlations) were views; no run_features.pca_mean, no
  cluster_labels, sweeps without the evidence columns added since;
* version 1, models as tables: the same once row_checks, tracks and track_genres were
  materialized (feature_correlations still a view), as spotclust left it at 65c8818;
* version 2: row_checks a copy of every file row's values with its checks (f6adea2);
* version 4: raw_tracks' whole-number columns INTEGER and BIGINT (rounding a fraction);
* version 6: no engine columns in runs and sweeps (every run was local);
* version 7: no cluster_genres (genre_breakdown counted each run's genres when read).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from support.warehouse_state import MODEL_TABLES, RUN_TABLES, query

from spotclust import warehouse
from spotclust.errors import WarehouseError
from spotclust.warehouse import schema
from spotclust.warehouse.sql_files import models

# The tables of the last layout that said version 1 without run_features.pca_mean (as
# written by spotclust at commit 65c8818): table -> columns in order. History: never edit.
V1_COLUMNS = {
    "assignments": "run_id row_number track_id cluster pc1 pc2 distance",
    "centroids": "run_id cluster space dimension value",
    "cluster_profiles": "run_id cluster feature in_model count mean std min p25 p50 p75 max",
    "ingests": "ingest_id source_path source_sha256 source_bytes source_format rows started_at "
    "finished_at spotclust_version",
    "pca_components": "run_id component feature loading explained_variance "
    "explained_variance_ratio",
    "raw_tracks": "row_number source_index track_id artists album_name track_name popularity "
    "duration_ms explicit danceability energy key loudness mode speechiness acousticness "
    "instrumentalness liveness valence tempo time_signature track_genre ingest_id",
    "run_features": "run_id position feature mean scale",
    "runs": "run_id created_at status k features pca_components algorithm seed n_init row_rule "
    "rows_used ingest_id data_sha256 inertia silhouette silhouette_method silhouette_sample_size "
    "silhouette_ci_low silhouette_ci_high calinski_harabasz davies_bouldin adjusted_rand "
    "normalized_mutual_info homogeneity completeness purity explained_variance seconds_load "
    "seconds_scale seconds_pca seconds_kmeans seconds_silhouette seconds_metrics seconds_write "
    "seconds_total spotclust_version sklearn_version duckdb_version polars_version "
    "numpy_version",
    "spotclust_meta": "key value",
    "sweeps": "sweep_id created_at k features pca_components seed n_init row_rule rows_used "
    "ingest_id inertia silhouette silhouette_method calinski_harabasz davies_bouldin seconds "
    "is_knee is_best_silhouette",
}
# Models materialized as tables at ingest now (views in the oldest version-1 layout) ...
MODELS = MODEL_TABLES
# ... and those that were tables already in the last version-1 layout.
V1_TABLE_MODELS = ("row_checks", "tracks", "track_genres")
# The data a migration must keep (every table of version 1 but spotclust_meta), with the
# columns version 1 had.
KEPT = [t for t in V1_COLUMNS if t != "spotclust_meta"]

# The layout of each schema version: sha256 of its tables' (name, column, type, nullable)
# and its models' kinds. Changing tables.sql or a model's kind changes the layout: bump
# warehouse.SCHEMA_VERSION, add the step to warehouse.MIGRATIONS, and record the new hash.
LAYOUTS = {
    2: "b64f01465b013314283ec5940b3f88730217ac9d95e0c544f170298af9fa6a9d",
    3: "f53435c52a0af4e9cedf5fc486d82ca112eb6ac398e203140515cf667c55688a",
    4: "cc9867d3a00053ed3a7d31f25d16d26d24ae671b326954a835367f843eee385f",
    5: "1e286dfde23aec92a19daf693e0cd2c4c921a31c2a914c594f025751543bb833",
    6: "c5a2bf580cae824845878e4c480efdd06ef0198755edc04957e71191a17e47b5",
    7: "ac39b371f97142b766d6c329fd30af5a64ba4ed276cb78394ec0d2c704f66f05",
    8: "f2447c6d712fe31ebbba917f539d32d18f6137d4694a9f937b0d9451fb59bbaa",
}
# Columns a model kept across versions: compared before and after an upgrade.
ROW_CHECKS_KEPT = "row_number, has_missing, problems, is_duplicate"
# The other models' columns of every version (version 4 added tracks.genre_list).
EARLIER = "COLUMNS(lambda c: c <> 'genre_list')"


# ============================================================================== helpers


def _con(db: Path, read_only: bool = True):
    return duckdb.connect(str(db), read_only=read_only)


@contextlib.contextmanager
def _downgrading(db: Path, version: int):
    """A writable connection to db; afterwards db records schema `version`, checkpointed."""
    con = _con(db, read_only=False)
    try:
        yield con
        con.execute(
            "UPDATE spotclust_meta SET value = ? WHERE key = 'schema_version'", [str(version)]
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def layout(db: Path) -> dict:
    """Tables with (column, type, nullable), and the kind of each relation."""
    con = _con(db)
    try:
        columns = {}
        for table, column, data_type, nullable in con.execute(schema._TABLE_COLUMNS).fetchall():
            columns.setdefault(table, []).append((column, data_type, nullable))
        kinds = schema._relations(con)
    finally:
        con.close()
    return {"columns": columns, "kinds": kinds}


def layout_hash(db: Path) -> str:
    """The tables' columns (materialized models included); plain views are re-created by
    every migration and ingest, so they are not part of the layout."""
    text = json.dumps(layout(db)["columns"], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def kept_data(db: Path) -> dict[str, list[tuple]]:
    """The contents of every version-1 table, in version 1's columns."""
    con = _con(db)
    try:
        out = {}
        for table in KEPT:
            columns = ", ".join(f'"{c}"' for c in V1_COLUMNS[table].split())
            out[table] = con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def model_data(db: Path) -> dict[str, list[tuple]]:
    """The models' rows; numbers to 10 significant digits (correlations summed in parallel
    differ in their last bits from one computation to the next)."""
    con = _con(db)
    try:
        return {
            m: [
                tuple(float(f"{v:.10g}") if isinstance(v, float) else v for v in row)
                for row in con.execute(
                    f"SELECT {ROW_CHECKS_KEPT if m == 'row_checks' else EARLIER} FROM {m} "
                    "ORDER BY ALL"
                ).fetchall()
            ]
            for m in MODELS
        }
    finally:
        con.close()


def meta(db: Path) -> dict[str, str]:
    return dict(query(db, "SELECT key, value FROM spotclust_meta"))


# What version 4 added (files of other shapes), by table.
V4_COLUMNS = {
    "raw_tracks": ("genre_list", "extra"),
    "ingests": ("shape", "column_mapping", "ignored_columns"),
    "tracks": ("genre_list",),
}


def _without_genre_lists(sql: str) -> str:
    """A model's SQL as before version 4: no genre_list column, no listed genres."""
    sql = sql.replace(",\n        genre_list\n", "\n").replace(", genre_list", "")
    sql = sql.replace(",\n        count(genre_list) > 0 AS has_genre_list", "")
    sql = sql.replace(" AND NOT p.has_genre_list", "")
    lines = sql.splitlines()
    if "    UNION ALL" in lines:  # track_genres: the listed genres' branch
        start = lines.index("    UNION ALL")
        end = next(i for i in range(start, len(lines)) if "unnest(genre_list)" in lines[i])
        lines = lines[:start] + lines[end + 1 :]
    assert "genre_list" not in "\n".join(lines), sql
    return "\n".join(lines)


# raw_tracks' whole-number columns and their types before version 5 (DOUBLE since).
V4_WHOLE_NUMBERS = {
    "popularity": "INTEGER",
    "duration_ms": "BIGINT",
    "key": "INTEGER",
    "mode": "INTEGER",
    "time_signature": "INTEGER",
}


# What version 7 added (the engine of a run or sweep, and Spark's settings), by table.
V7_COLUMNS = {
    "runs": [
        "engine",
        "engine_version",
        "engine_master",
        "kmeans_init",
        "max_iter",
        "tol",
        "iterations",
        "silhouette_reference_rows",
        "engine_silhouette",
        "engine_silhouette_method",
        "seconds_engine_start",
    ],
    "sweeps": ["engine"],
}


# genre_breakdown as every version before 8 defined it: the run's genres counted when read.
# History: never edit.
V7_GENRE_BREAKDOWN = """
CREATE OR REPLACE VIEW genre_breakdown AS
WITH clustered_tracks AS (
    SELECT DISTINCT run_id, track_id, cluster FROM assignments
    WHERE run_id IN (SELECT run_id FROM runs)
),
counts AS (
    SELECT c.run_id, c.cluster, g.genre, count(*) AS tracks
    FROM clustered_tracks AS c
    JOIN track_genres AS g USING (track_id)
    GROUP BY ALL
),
final AS (
    SELECT
        run_id,
        cluster,
        genre,
        tracks,
        tracks / sum(tracks) OVER (PARTITION BY run_id, cluster) AS share_of_cluster,
        tracks / sum(tracks) OVER (PARTITION BY run_id, genre) AS share_of_genre,
        row_number() OVER (
            PARTITION BY run_id, cluster ORDER BY tracks DESC, genre
        ) AS rank_in_cluster
    FROM counts
)
SELECT * FROM final
"""


def make_version_7(db: Path) -> None:
    """Turn a current warehouse into what a version-7 spotclust left: no cluster_genres, and
    genre_breakdown counting each run's genres itself."""
    with _downgrading(db, 7) as con:
        con.execute("DROP TABLE cluster_genres")
        con.execute(V7_GENRE_BREAKDOWN)


def make_version_6(db: Path) -> None:
    """Turn a current warehouse into what a version-6 spotclust left: no engine columns."""
    make_version_7(db)
    with _downgrading(db, 6) as con:
        for table, columns in V7_COLUMNS.items():
            for column in columns:
                con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


def make_version_5(db: Path) -> None:
    """Turn a current warehouse into what a version-5 spotclust left: no silhouette_values."""
    make_version_6(db)
    with _downgrading(db, 5) as con:
        con.execute("DROP TABLE silhouette_values")


def make_version_4(db: Path) -> None:
    """Turn a current warehouse into what a version-4 spotclust left: raw_tracks' whole-number
    columns INTEGER and BIGINT (the fixture's values are whole: they convert exactly)."""
    make_version_5(db)
    with _downgrading(db, 4) as con:
        for column, sql_type in V4_WHOLE_NUMBERS.items():
            con.execute(f'ALTER TABLE raw_tracks ALTER COLUMN "{column}" TYPE {sql_type}')


def make_version_3(db: Path) -> None:
    """Turn a current warehouse into what a version-3 spotclust left: no shapes, mappings,
    genre lists or kept columns (stg_tracks without genre_list)."""
    make_version_4(db)
    with _downgrading(db, 3) as con:
        for table, columns in V4_COLUMNS.items():
            for column in columns:
                con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        staging = next(m for m in models() if m.name == "stg_tracks")
        con.execute(_without_genre_lists(staging.create_statement()))


def make_version_2(db: Path) -> None:
    """Turn a current warehouse into what a version-2 spotclust left: row_checks held each
    file row's values (stg_tracks) followed by its checks."""
    make_version_3(db)
    with _downgrading(db, 2) as con:
        con.execute(
            """
            CREATE OR REPLACE TABLE row_checks AS
            SELECT s.*, c.has_missing, c.problems, c.is_duplicate
            FROM stg_tracks AS s JOIN row_checks AS c USING (row_number)
            ORDER BY row_number
            """
        )


def make_version_1(db: Path, *, models_as_views: bool) -> None:
    """Turn a current warehouse into what a version-1 spotclust left."""
    make_version_2(db)
    con = _con(db, read_only=False)
    try:
        current = layout_columns(con)
        for table in current:
            if table in MODELS:
                continue
            if table not in V1_COLUMNS:
                con.execute(f'DROP TABLE "{table}"')
                continue
            for column in current[table]:
                if column not in V1_COLUMNS[table].split():
                    con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        for model in models():
            name = model.name
            if name in MODELS and (models_as_views or name not in V1_TABLE_MODELS):
                con.execute(f'DROP TABLE "{name}"')
                view = replace(model, materialized="view").create_statement()
                con.execute(_without_genre_lists(view))
            if name == "cluster_summary":  # version 1's: before cluster labels
                text = "\n".join(
                    line
                    for line in _without_genre_lists(model.create_statement()).splitlines()
                    if "l.label" not in line and "cluster_labels" not in line
                )
                con.execute(text)
        con.execute("DELETE FROM spotclust_meta")
        con.execute("INSERT INTO spotclust_meta VALUES ('schema_version', '1')")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def layout_columns(con) -> dict[str, list[str]]:
    out = {}
    for table, column, _, _ in con.execute(schema._TABLE_COLUMNS).fetchall():
        out.setdefault(table, []).append(column)
    return out


def make_version_0(db: Path) -> None:
    make_version_1(db, models_as_views=True)
    con = _con(db, read_only=False)
    try:
        con.execute("DROP TABLE spotclust_meta")
        con.execute("CHECKPOINT")
    finally:
        con.close()


@pytest.fixture
def fresh(tmp_path, clustered_template) -> Path:
    db = tmp_path / "fresh.duckdb"
    shutil.copyfile(clustered_template, db)
    return db


OLD_LAYOUTS = {
    "version 0": lambda db: make_version_0(db),
    "version 7": lambda db: make_version_7(db),
    "version 6": lambda db: make_version_6(db),
    "version 5": lambda db: make_version_5(db),
    "version 4": lambda db: make_version_4(db),
    "version 3": lambda db: make_version_3(db),
    "version 2": lambda db: make_version_2(db),
    "version 1, models as views": lambda db: make_version_1(db, models_as_views=True),
    "version 1, models as tables": lambda db: make_version_1(db, models_as_views=False),
}


@pytest.fixture(params=OLD_LAYOUTS, ids=list(OLD_LAYOUTS))
def older(request, tmp_path, clustered_template) -> Path:
    db = tmp_path / "older.duckdb"
    shutil.copyfile(clustered_template, db)
    OLD_LAYOUTS[request.param](db)
    return db


# ================================================================================ versions


def test_a_new_warehouse_records_the_current_version(fresh):
    assert meta(fresh) == {"schema_version": str(warehouse.SCHEMA_VERSION)}


def test_every_version_has_a_migration():
    assert sorted(warehouse.MIGRATIONS) == list(range(1, warehouse.SCHEMA_VERSION + 1))
    for description, step in warehouse.MIGRATIONS.values():
        assert description and callable(step)


def test_the_layout_of_this_version_is_recorded(fresh):
    """Fails when tables.sql (or a model's kind) changes without a new schema version."""
    recorded = LAYOUTS.get(warehouse.SCHEMA_VERSION)
    actual = layout_hash(fresh)
    assert recorded == actual, (
        f"the warehouse layout changed (sha256 {actual}) but SCHEMA_VERSION is still "
        f"{warehouse.SCHEMA_VERSION}: bump it, add the step to warehouse.MIGRATIONS, and record "
        "the new layout in LAYOUTS here (tests/test_schema.py)"
    )


def test_the_rebuilt_old_layouts_are_old(older):
    version = _version(older)
    if version in (2, 3, 4, 5, 6, 7):  # the very layout that version recorded
        assert layout_hash(older) == LAYOUTS[version]
        return
    got = layout(older)
    tables = {t: [c for c, _, _ in cols] for t, cols in got["columns"].items() if t not in MODELS}
    expected = {t: cols.split() for t, cols in V1_COLUMNS.items()}
    if version == 0:
        del expected["spotclust_meta"]
    else:
        assert version == 1
    assert tables == expected
    kinds = {got["kinds"][m] for m in MODELS if m not in V1_TABLE_MODELS}
    assert kinds == {"view"}


def _version(db: Path) -> int | None:
    con = _con(db)
    try:
        return warehouse.schema_version(con)
    finally:
        con.close()


# =================================================================================== upgrade


@pytest.mark.parametrize(
    "command",
    [
        ["cluster", "--k", "2", "--n-init", "1", "--no-charts", "-q"],
        ["sweep", "--k", "2..3", "--n-init", "1", "-q"],
    ],
    ids=["cluster", "sweep"],
)
def test_an_older_warehouse_is_upgraded_in_place_with_its_data(
    command, older, fresh, run_cli, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    old_version = _version(older)
    before = kept_data(older)
    models_before = model_data(older)
    genres_before = query(older, "SELECT * FROM genre_breakdown ORDER BY ALL")
    run = run_cli(*command, "--db", older)
    assert run.exit_code == 0, run.output
    # upgraded: the layout of a new warehouse, and it says so
    assert layout(older) == layout(fresh)
    info = meta(older)
    assert info["schema_version"] == str(warehouse.SCHEMA_VERSION)
    assert info["upgraded_from"] == str(old_version)
    # every row kept (the command added its own run or sweep)
    after = kept_data(older)
    new_rows = {"cluster": ("runs", *RUN_TABLES), "sweep": ("sweeps",)}[command[0]]
    for table in KEPT:
        if table in new_rows:
            assert len(after[table]) > len(before[table]), table
            assert all(row in after[table] for row in before[table]), table
        else:
            assert after[table] == before[table], table
    assert model_data(older) == models_before  # recomputed from raw_tracks: the same rows
    # runs made before pca_mean was recorded get PCA's centre of standardised data, 0
    assert query(older, "SELECT count(*) FROM run_features WHERE pca_mean IS NULL") == [(0,)]
    # runs made before their genres were counted at write: counted by the upgrade, as the
    # genre_breakdown of their version counted them when read
    old_runs = sorted({row[0] for row in genres_before})
    assert genres_before and query(
        older, "SELECT * FROM genre_breakdown WHERE list_contains(?, run_id) ORDER BY ALL",
        [old_runs],
    ) == genres_before  # fmt: skip
    # and nothing is done twice: a second command finds the current version
    run = run_cli(*command, "--db", older)
    assert run.exit_code == 0, run.output
    assert meta(older) == info


def test_ingest_upgrades_an_older_warehouse_and_replaces_its_data(older, fresh, run_cli, small_csv):
    runs_before = kept_data(older)["runs"]
    run = run_cli("ingest", small_csv, "--db", older)
    assert run.exit_code == 0, run.output
    assert layout(older) == layout(fresh)
    assert meta(older)["schema_version"] == str(warehouse.SCHEMA_VERSION)
    assert kept_data(older)["runs"] == runs_before
    assert query(older, "SELECT count(*), max(ingest_id) FROM raw_tracks") == [(60, 2)]
    assert model_data(older) == model_data(fresh)


def test_runs_and_sweeps_from_before_engines_were_recorded_were_local(fresh):
    make_version_6(fresh)
    con = _con(fresh, read_only=False)
    try:
        warehouse.ensure_schema(con)
        # and a writer that names no engine (the local one) records 'local' by default
        con.execute("INSERT INTO sweeps BY NAME SELECT * EXCLUDE (engine) REPLACE (99 AS sweep_id) "
                    "FROM sweeps LIMIT 1")  # fmt: skip
    finally:
        con.close()
    assert query(fresh, "SELECT DISTINCT engine FROM runs") == [("local",)]
    assert query(fresh, "SELECT DISTINCT engine FROM sweeps") == [("local",)]


def test_read_only_commands_read_an_older_warehouse_without_changing_it(older, run_cli):
    content = older.read_bytes()
    for args in (["sql", "SELECT count(*) AS n FROM tracks", "--format", "csv"], ["tables"]):
        run = run_cli(*args, "--db", older)
        assert run.exit_code == 0, run.output
    assert older.read_bytes() == content
    assert not older.with_name(older.name + ".wal").exists()


def test_a_failed_upgrade_changes_nothing(older, monkeypatch, run_cli, tmp_path):
    """The migrations run in one transaction: a step that fails undoes the ones before it."""
    monkeypatch.chdir(tmp_path)
    before_layout, before_data, before_meta = layout(older), kept_data(older), _meta_or_none(older)

    last = warehouse.SCHEMA_VERSION
    description, real_step = warehouse.MIGRATIONS[last]

    def broken(con):
        real_step(con)  # the real last step, then a failure
        raise WarehouseError("the upgrade failed halfway (planted by the test)")

    monkeypatch.setitem(warehouse.MIGRATIONS, last, (description, broken))
    run = run_cli("cluster", "--k", "2", "--n-init", "1", "--no-charts", "-q", "--db", older)
    assert run.exit_code == 1 and "planted by the test" in run.stderr
    assert layout(older) == before_layout
    assert kept_data(older) == before_data
    assert _meta_or_none(older) == before_meta


def _meta_or_none(db: Path):
    try:
        return meta(db)
    except duckdb.CatalogException:
        return None


# ===================================================================================== newer


NEWER = str(warehouse.SCHEMA_VERSION + 1)
NEWER_COMMANDS = {
    "ingest": ["ingest", "{csv}"],
    "cluster": ["cluster", "--no-charts", "-q"],
    "sweep": ["sweep", "-q"],
    "sql": ["sql", "SELECT 1"],
    "sql --write": ["sql", "DELETE FROM runs", "--write"],
    "tables": ["tables"],
    "charts": ["charts", "--out", "{tmp}/charts"],
}


@pytest.mark.parametrize("command", NEWER_COMMANDS.values(), ids=NEWER_COMMANDS.keys())
def test_a_newer_warehouse_is_refused_by_every_command_and_left_byte_for_byte(
    command, fresh, small_csv, run_cli, assert_one_line_error, tmp_path
):
    con = _con(fresh, read_only=False)
    con.execute("UPDATE spotclust_meta SET value = $v WHERE key = 'schema_version'", {"v": NEWER})
    con.close()
    content = fresh.read_bytes()
    args = [a.format(csv=small_csv, tmp=tmp_path) for a in command]
    line = assert_one_line_error(
        run_cli(*args, "--db", fresh),
        "fresh.duckdb",
        f"schema version {NEWER}",
        "upgrade spotclust",
    )
    assert f"understands ({warehouse.SCHEMA_VERSION})" in line
    assert fresh.read_bytes() == content
    assert not fresh.with_name(fresh.name + ".wal").exists()
    assert not (tmp_path / "charts").exists()


def test_the_python_api_refuses_a_newer_warehouse_too(fresh):
    con = _con(fresh, read_only=False)
    con.execute("UPDATE spotclust_meta SET value = $v WHERE key = 'schema_version'", {"v": NEWER})
    con.close()
    import spotclust

    with pytest.raises(WarehouseError, match="newer than this spotclust"):
        spotclust.query("SELECT 1", db=fresh)
    with pytest.raises(WarehouseError, match="newer than this spotclust"):
        warehouse.connect(fresh, read_only=True)


def test_an_empty_duckdb_file_becomes_a_warehouse(tmp_path, small_csv, run_cli):
    """What a first ingest killed before its commit leaves: an empty DuckDB file."""
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    run = run_cli("ingest", small_csv, "--db", db)
    assert run.exit_code == 0, run.output
    assert meta(db) == {"schema_version": str(warehouse.SCHEMA_VERSION)}
