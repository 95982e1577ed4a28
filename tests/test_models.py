"""Every SQL model declares its materialisation and grain in its header; both hold on the
shipped data (and a run of it), and the warehouse builds each model as declared."""

from __future__ import annotations

import shutil

import duckdb
import pytest

import spotclust
from spotclust.warehouse import quote_identifier
from spotclust.warehouse.sql_files import MODEL_FOLDERS, models, parse_model

MODELS = models()


@pytest.fixture(scope="module")
def shipped_run(full_db, tmp_path_factory):
    """The shipped dataset with one clustering run, so that the results models have rows."""
    db = tmp_path_factory.mktemp("grain") / "w.duckdb"
    shutil.copyfile(full_db, db)
    spotclust.cluster(k=4, db=db, n_init=1, silhouette_sample=1000)
    return db


def test_every_model_folder_holds_models_in_the_declared_order():
    assert {m.folder for m in MODELS} == set(MODEL_FOLDERS)
    names = [m.name for m in MODELS]
    assert len(names) == len(set(names)) >= 12
    # Staging first, then cleaning, features, results: each reads only earlier models.
    assert [m.folder for m in MODELS] == sorted((m.folder for m in MODELS), key=MODEL_FOLDERS.index)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_the_declared_grain_holds_on_the_shipped_data(shipped_run, model):
    columns = ", ".join(quote_identifier(c) for c in model.unique)
    nulls = " OR ".join(f"{quote_identifier(c)} IS NULL" for c in model.unique)
    con = duckdb.connect(str(shipped_run), read_only=True)
    try:
        [(rows, distinct, incomplete)] = con.execute(
            f"SELECT count(*), count(DISTINCT ({columns})), count(*) FILTER (WHERE {nulls}) "
            f"FROM {quote_identifier(model.name)}"
        ).fetchall()
        [(kind,)] = con.execute(
            "SELECT 'table' FROM duckdb_tables() WHERE table_name = $n "
            "UNION ALL SELECT 'view' FROM duckdb_views() WHERE view_name = $n",
            {"n": model.name},
        ).fetchall()
    finally:
        con.close()
    assert rows > 0, f"{model.name} is empty on the shipped data: its grain is untested"
    assert distinct == rows, f"{model.name}: {rows - distinct} rows repeat ({columns})"
    assert incomplete == 0, f"{model.name}: a key column ({columns}) is NULL"
    assert kind == model.materialized


def test_a_model_without_its_header_settings_is_refused():
    body = "SELECT 1 AS a\n"
    with pytest.raises(ValueError, match="materialized"):
        parse_model("results", "200_x.sql", "-- x: a thing\n-- unique: a\n" + body)
    with pytest.raises(ValueError, match="unique"):
        parse_model("results", "200_x.sql", "-- x: a thing\n-- materialized: view\n" + body)
    model = parse_model(
        "results", "200_x.sql", "-- x: a thing\n-- materialized: table\n-- unique: a, b\n" + body
    )
    assert (model.name, model.unique, model.description) == ("x", ("a", "b"), "a thing")
    assert model.create_statement() == "CREATE OR REPLACE TABLE x AS\n" + body
