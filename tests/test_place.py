"""Placing songs with a run's stored model, cluster labels and explanations."""

from __future__ import annotations

import json
import shutil

import pytest
from support.warehouse_state import query

import spotclust
from spotclust.runs.labels import describe_traits
from spotclust.runs.place import place


@pytest.fixture(scope="module")
def grouped(tmp_path_factory, grouped_template):
    """Grouped tracks with three runs: default PCA, no PCA, and streamed mini-batch."""
    db = tmp_path_factory.mktemp("place") / "w.duckdb"
    shutil.copyfile(grouped_template, db)
    spotclust.cluster(k=3, db=db, n_init=2)
    spotclust.cluster(k=4, db=db, pca_components=None, n_init=2)
    spotclust.cluster(k=3, db=db, algorithm="minibatch", pca_components=3)
    return db


def assigned(db, run_id: int) -> dict[str, int]:
    return dict(
        query(db, "SELECT DISTINCT track_id, cluster FROM assignments WHERE run_id = ?", [run_id])
    )


@pytest.mark.parametrize("run_id", [1, 2, 3])
def test_every_warehouse_track_is_placed_where_the_run_put_it(grouped, run_id):
    expected = assigned(grouped, run_id)
    _, placements = place(track_ids=sorted(expected), run_id=run_id, db=grouped, neighbours=1)
    assert len(placements) == len(expected) == 360
    assert [p.cluster for p in placements] == [expected[t] for t in sorted(expected)]
    # a track's nearest neighbour is itself, at distance 0
    assert all(p.neighbours[0]["distance"] == pytest.approx(0, abs=1e-9) for p in placements)


def test_place_on_the_shipped_dataset_agrees_for_a_sample(tmp_path):
    db = tmp_path / "full.duckdb"
    spotclust.ingest(db=db)
    spotclust.cluster(k=4, db=db, n_init=1)
    expected = assigned(db, 1)
    sample = sorted(expected)[::300]  # ~300 tracks spread over the file
    _, placements = place(track_ids=sample, db=db, neighbours=0)
    assert [p.cluster for p in placements] == [expected[t] for t in sample]
    assert len(placements) == len(sample) > 250


def test_a_new_song_lands_with_its_kind_and_says_how_typical_it_is(grouped):
    calm = {
        "name": "lullaby", "danceability": 0.15, "energy": 0.05, "acousticness": 0.95,
        "instrumentalness": 0.9, "tempo": 70, "popularity": 50, "key": 4, "mode": 1,
    }  # fmt: skip
    model, (p,) = place([calm], run_id=1, db=grouped)
    sleep_cluster = next(c for c, label in enumerate(model.labels) if "sleep" in label)
    assert p.cluster == sleep_cluster and p.label == model.labels[sleep_cluster]
    assert p.distances[p.cluster] == min(p.distances) and len(p.distances) == 3
    assert 0.0 <= p.typicality <= 1.0
    assert set(p.assumed) == {"explicit", "speechiness", "liveness", "time_signature"}
    assert len(p.neighbours) == 10 and all("sleep" in n["genres"] for n in p.neighbours)
    distances = [n["distance"] for n in p.neighbours]
    assert distances == sorted(distances)


def test_place_cli_options_file_and_json_output(grouped, tmp_path, run_cli):
    songs = tmp_path / "songs.csv"
    songs.write_text(
        "name,energy,danceability,acousticness\nbanger,0.75,0.85,0.1\nquiet,0.05,0.15,0.95\n"
    )
    result = run_cli("place", "--file", songs, "--run", "1", "--db", grouped, "--format", "json")
    assert result.exit_code == 0, result.output
    placed = json.loads(result.output)
    assert [p["name"] for p in placed] == ["banger", "quiet"]
    assert placed[0]["cluster"] != placed[1]["cluster"]
    as_json = tmp_path / "songs.json"
    as_json.write_text(json.dumps({"name": "one", "energy": 0.9}))
    result = run_cli(
        "place", "--file", as_json, "--energy", "0.1", "--name", "two", "--db", grouped
    )
    assert result.exit_code == 0, result.output
    assert "two" in result.output and "one" in result.output and "nearest tracks" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--run", "99", "--energy", "0.5"], "no run 99"),
        ([], "no songs to place"),
        (["--track-id", "nope"], "no track 'nope'"),
        (["--file", "missing.csv"], "no such file"),
    ],
)
def test_place_errors_are_one_line(grouped, args, message, run_cli):
    result = run_cli("place", "--db", grouped, *args)
    assert result.exit_code != 0
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_labels_name_traits_and_genres(grouped):
    rows = query(
        grouped, "SELECT cluster, label, traits, genres FROM cluster_labels WHERE run_id = 1"
    )
    summary = query(grouped, "SELECT label FROM cluster_summary WHERE run_id = 1 ORDER BY cluster")
    assert [r[0] for r in rows] == [0, 1, 2]
    by_genre = {r[3].split(", ")[0]: r for r in rows}
    assert "acoustic" in by_genre["sleep"][2] and "energetic" not in by_genre["sleep"][2]
    assert by_genre["sleep"][1] == f"{by_genre['sleep'][2]} · {by_genre['sleep'][3]}"
    assert sorted(s for (s,) in summary) == sorted(r[1] for r in rows)


def test_describe_traits_orders_by_strength_and_handles_average_clusters():
    assert describe_traits({"energy": 1.2, "acousticness": -0.9, "tempo": 0.1}) == (
        "energetic, low acousticness"
    )
    assert describe_traits({"energy": 0.2, "valence": -0.3}) == "average (slightly gloomy)"
    assert describe_traits({"a": 2.0, "energy": -3.0, "b": -1.0, "c": 0.6}) == "calm, high a, low b"


def test_explain_effect_sizes_genres_and_representative_tracks(grouped, run_cli):
    result = run_cli("explain", "--run", "1", "--db", grouped, "--format", "json")
    assert result.exit_code == 0, result.output
    clusters = json.loads(result.output)
    assert [c["cluster"] for c in clusters] == [0, 1, 2]
    for c in clusters:
        d = [abs(e["cohens_d"]) for e in c["effects"]]
        assert d == sorted(d, reverse=True) and d[0] > 2  # the groups are far apart
        assert len(c["representative"]) == 5
        distances = [t["distance"] for t in c["representative"]]
        assert distances == sorted(distances)
        assert c["genres_by_share"][0]["genre"] in c["label"]
        assert c["genres_by_lift"][0]["lift"] > 2.5  # a third of the tracks, all of one genre
    text = run_cli("explain", "--db", grouped)
    assert (
        text.exit_code == 0 and "Cohen's d" in text.output and "representative track" in text.output
    )
