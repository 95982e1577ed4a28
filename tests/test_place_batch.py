"""Placing many songs at once gives what placing them one by one with two queries each gave.

The expected answers come from `per_song` below: the per-song method place() used before
(a typicality query and a nearest-tracks query per song, DuckDB doing the arithmetic), on a
warehouse of grouped tracks with planted exact duplicates, so that ties in distance must be
broken by track_id. Three runs: PCA, no PCA, and every genre listing as a row.
"""

from __future__ import annotations

import csv
import json
import math

import duckdb
import numpy as np
import pytest
from support.grouped_data import write_grouped_csv, write_tracks_csv

import spotclust
import spotclust.runs.place as place_module
from spotclust.files.ingest import COLUMN_TYPES
from spotclust.runs.place import Placement, load_model, place, song_values
from spotclust.runs.resolve import resolve_run

FEATURES = [c for c in COLUMN_TYPES if c in spotclust.AUDIO_FEATURES]
UNIT = ("danceability", "energy", "speechiness", "acousticness", "instrumentalness")
UNIT += ("liveness", "valence")
# Copies of these tracks' features under other ids, sorting before and after the original:
# a song at one of them has several tracks at exactly the same distance.
DUPLICATED = ("dance0005", "metal0010", "sleep0003")
RUNS = {1: "PCA, k=3", 2: "no PCA, k=4", 3: "listings, k=3"}


# ------------------------------------------------------------------ the old way, per song

TYPICALITY = """
SELECT avg(CASE WHEN distance > $d THEN 1.0 ELSE 0.0 END) FROM assignments
WHERE run_id = $run_id AND cluster = $cluster
"""

NEIGHBOURS = """
WITH used AS (SELECT DISTINCT track_id, cluster FROM assignments WHERE run_id = $run_id)
SELECT t.track_id, t.artists, t.track_name, u.cluster,
       (SELECT string_agg(genre, ', ' ORDER BY genre) FROM track_genres g
        WHERE g.track_id = t.track_id) AS genres,
       sqrt({terms}) AS distance
FROM tracks t JOIN used u USING (track_id)
ORDER BY distance, t.track_id
LIMIT $limit
"""


def per_song(db, songs, track_ids=(), run_id=None, neighbours=10) -> list[Placement]:
    """place() as it was: every song on its own, two queries each."""
    with duckdb.connect(str(db), read_only=True) as con:
        model = load_model(con, resolve_run(con, run_id))
        songs = [*songs, *(_track(con, model, t) for t in track_ids)]
        placements = []
        for number, song in enumerate(songs, start=1):
            values, assumed = song_values(model, song)
            point = model.model_space(values[None, :])[0]
            distances = np.linalg.norm(model.centres - point, axis=1)
            cluster = int(np.argmin(distances))
            params = {"d": float(distances[cluster]), "run_id": model.run_id, "cluster": cluster}
            (share,) = con.execute(TYPICALITY, params).fetchone()
            placements.append(
                Placement(
                    name=str(song.get("name") or song.get("track_name") or f"song {number}"),
                    cluster=cluster,
                    label=model.labels[cluster],
                    distances=[float(d) for d in distances],
                    typicality=float(share or 0.0),
                    assumed=assumed,
                    neighbours=_nearest(con, model, values, neighbours),
                )
            )
    return placements


def _track(con, model, track_id: str) -> dict:
    columns = ", ".join(f'"{f}"' for f in model.features)
    result = con.execute(
        f"SELECT track_name, track_id, {columns} FROM tracks WHERE track_id = $id", {"id": track_id}
    )
    names = [d[0] for d in result.description]
    return dict(zip(names, result.fetchone(), strict=True))


def _nearest(con, model, values, limit: int) -> list[dict]:
    terms = " + ".join(
        f'pow((CAST(t."{f}" AS DOUBLE) - $mean_{i}) / $scale_{i} - $z_{i}, 2)'
        for i, f in enumerate(model.features)
    )
    scaled = (values - model.mean) / model.scale
    params: dict = {"run_id": model.run_id, "limit": limit}
    for i in range(len(model.features)):
        params |= {f"mean_{i}": model.mean[i], f"scale_{i}": model.scale[i], f"z_{i}": scaled[i]}
    result = con.execute(NEIGHBOURS.format(terms=terms), params)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


# ------------------------------------------------------------------ comparing


def differences(expected, actual, where: str = "") -> list[str]:
    """Where two nested results differ: types, keys and order exactly; floats within 1e-12
    (a distance may differ in its last bit: DuckDB's pow(x, 2) is not always x * x)."""
    if isinstance(expected, Placement):
        expected, actual = vars(expected), vars(actual)
    if type(expected) is not type(actual):
        return [f"{where}: {expected!r} ({type(expected).__name__}) vs {actual!r}"]
    if isinstance(expected, float):
        close = math.isclose(expected, actual, rel_tol=1e-12, abs_tol=1e-15)
        return [] if close else [f"{where}: {expected!r} vs {actual!r}"]
    if isinstance(expected, dict):
        if list(expected) != list(actual):
            return [f"{where}: keys {list(expected)} vs {list(actual)}"]
        return [p for k in expected for p in differences(expected[k], actual[k], f"{where}.{k}")]
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items vs {len(actual)}"]
        pairs = zip(expected, actual, strict=True)
        return [p for i, (e, a) in enumerate(pairs) for p in differences(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: {expected!r} vs {actual!r}"]


def assert_same(expected, actual) -> None:
    problems = differences(expected, actual)
    assert not problems, f"{len(problems)} differences, the first:\n" + "\n".join(problems[:10])


# ------------------------------------------------------------------ the warehouse and songs


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Grouped tracks plus exact copies of DUPLICATED under ids sorting before and after
    them, with the three RUNS."""
    folder = tmp_path_factory.mktemp("place_batch")
    write_grouped_csv(folder / "grouped.csv")
    with (folder / "grouped.csv").open(newline="") as f:
        tracks = [dict(zip(COLUMN_TYPES, row[1:], strict=True)) for row in list(csv.reader(f))[1:]]
    originals = {t["track_id"]: t for t in tracks}
    for track_id in DUPLICATED:
        for copy_id in (f"a-copy-{track_id}", f"z-copy-{track_id}"):
            tracks.append({**originals[track_id], "track_id": copy_id, "track_name": copy_id})
    write_tracks_csv(folder / "tracks.csv", tracks)
    db = folder / "w.duckdb"
    spotclust.ingest(folder / "tracks.csv", db)
    spotclust.cluster(k=3, db=db, n_init=2)
    spotclust.cluster(k=4, db=db, pca_components=None, n_init=2)
    spotclust.cluster(k=3, db=db, row_rule="listings", n_init=2)
    return db


@pytest.fixture(scope="module")
def songs(warehouse) -> list[dict]:
    """Tracks' own values (DUPLICATED and others), the same nudged (within each feature's
    range), and some with features left out."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"SELECT track_id, {', '.join(FEATURES)} FROM tracks "
            "WHERE track_id IN $ids OR hash(track_id) % 9 = 0 ORDER BY track_id",
            {"ids": list(DUPLICATED)},
        ).fetchall()
    rng = np.random.default_rng(7)
    out = []
    for n, (track_id, *values) in enumerate(rows):
        song = {"name": f"{track_id} as is", **dict(zip(FEATURES, values, strict=True))}
        out.append(song)
        nudged = {"name": f"{track_id} nudged"}
        for feature, value in zip(FEATURES, values, strict=True):
            if isinstance(value, float):
                value *= 1 + rng.uniform(-0.05, 0.05)
                value = min(1.0, value) if feature in UNIT else value
            nudged[feature] = value
        out.append(nudged)
        if n % 4 == 0:
            out.append({k: v for k, v in nudged.items() if k not in FEATURES[n % 13 : n % 13 + 3]})
    return out


def track_ids(db) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT track_id FROM tracks ORDER BY hash(track_id) LIMIT 12")
        return [*DUPLICATED, *(r[0] for r in rows.fetchall()), "a-copy-metal0010"]


# ------------------------------------------------------------------ the tests


@pytest.mark.parametrize("run_id", sorted(RUNS), ids=list(RUNS.values()))
@pytest.mark.parametrize("neighbours", [0, 1, 10, 1000])
def test_placing_at_once_equals_placing_one_by_one(warehouse, songs, run_id, neighbours):
    ids = track_ids(warehouse)
    expected = per_song(warehouse, songs, ids, run_id, neighbours)
    _, placed = place(songs, ids, run_id, warehouse, neighbours)
    assert_same(expected, placed)
    if neighbours == 1000:  # more than there are tracks: every track, in order
        assert {len(p.neighbours) for p in placed} == {len(track_ids_of(warehouse, run_id))}


def track_ids_of(db, run_id: int) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        sql = "SELECT DISTINCT track_id, cluster FROM assignments WHERE run_id = $r"
        return con.execute(sql, {"r": run_id}).fetchall()


def test_ties_in_distance_go_by_track_id(warehouse, songs):
    song = next(s for s in songs if s["name"] == "metal0010 as is")
    _, (p,) = place([song], run_id=1, db=warehouse, neighbours=3)
    assert [n["track_id"] for n in p.neighbours] == [
        "a-copy-metal0010",
        "metal0010",
        "z-copy-metal0010",
    ]
    assert [n["distance"] for n in p.neighbours] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("run_id", sorted(RUNS), ids=list(RUNS.values()))
def test_small_blocks_give_the_same_answers(warehouse, songs, run_id, monkeypatch):
    """Blocks of 7 songs by 40 tracks: many blocks, the running bound tightened often."""
    monkeypatch.setattr(place_module, "SONG_BLOCK", 7)
    monkeypatch.setattr(place_module, "TRACK_BLOCK", 40)
    for neighbours in (3, 10, 60):
        expected = per_song(warehouse, songs, run_id=run_id, neighbours=neighbours)
        _, placed = place(songs, run_id=run_id, db=warehouse, neighbours=neighbours)
        assert_same(expected, placed)


def test_no_neighbours_reads_no_tracks(warehouse, songs, monkeypatch):
    def refuse(*_):
        raise AssertionError("tracks read for 0 neighbours")

    monkeypatch.setattr(place_module, "_run_tracks", refuse)
    _, placed = place(songs, run_id=1, db=warehouse, neighbours=0)
    assert len(placed) == len(songs) and all(p.neighbours == [] for p in placed)


def test_typicality_counts_strictly_further_members_as_sql_does():
    members = np.array([0.5, 1.0, 1.0, 1.0, 2.0, 0.1, 0.2, 0.2])
    clusters_of_members = np.array([0, 0, 0, 0, 0, 2, 2, 2])
    songs = np.array([1.0, 0.0, 3.0, 0.2, 0.15, 9.9, np.nextafter(1.0, 2)])
    clusters = np.array([0, 0, 0, 2, 2, 1, 0])
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE m AS SELECT unnest($c) AS cluster, unnest($d) AS distance",
            {"c": clusters_of_members.tolist(), "d": members.tolist()},
        )
        expected = [
            con.execute(
                "SELECT avg(CASE WHEN distance > $d THEN 1.0 ELSE 0.0 END) FROM m "
                "WHERE cluster = $c",
                {"d": float(d), "c": int(c)},
            ).fetchone()[0]
            or 0.0
            for d, c in zip(songs, clusters, strict=True)
        ]
    shares = place_module._typicality(clusters_of_members, members, clusters, songs)
    assert shares.tolist() == expected == [0.2, 1.0, 0.0, 0.0, 2 / 3, 0.0, 0.2]


def test_the_cli_prints_the_same_json(warehouse, songs, tmp_path, run_cli):
    path = tmp_path / "songs.json"
    path.write_text(json.dumps(songs))
    ids = track_ids(warehouse)[:3]
    for run_id in sorted(RUNS):
        args = ["--file", path, "--run", run_id, "--neighbours", 5, "--format", "json"]
        args += [a for t in ids for a in ("--track-id", t)]
        result = run_cli("place", *args, "--db", warehouse)
        assert result.exit_code == 0, result.output
        expected = per_song(warehouse, songs, ids, run_id, neighbours=5)
        assert_same(json.loads(json.dumps([vars(p) for p in expected])), json.loads(result.stdout))
