"""Charts: each chart function's Vega-Lite spec, the SQL that feeds it, and the pages written.

A small warehouse with three well-separated kinds of track is built once for the module
(ingest, cluster k=3, sweep k=2..5); a copy taken before the sweep serves the no-sweep case.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from support.grouped_data import write_tracks_csv
from support.processes import run_command

import spotclust
from spotclust import charts, warehouse
from spotclust.charts import authoring, pages, theme
from spotclust.charts import data as chart_data
from spotclust.charts import spec as chart_spec
from spotclust.charts.map import ARROWS
from spotclust.charts.plans import clusters as clusters_plan
from spotclust.charts.plans import map as map_plan
from spotclust.charts.plans import selection as selection_plan
from spotclust.errors import ConfigError, WarehouseError

# (genres, tracks, danceability, energy, acousticness, instrumentalness, speechiness, tempo)
KINDS = [
    (("metal", "rock"), 150, 0.35, 0.95, 0.02, 0.10, 0.06, 160.0),
    (("sleep", "ambient", "piano"), 100, 0.15, 0.05, 0.95, 0.90, 0.04, 70.0),
    (("dance", "house"), 60, 0.85, 0.75, 0.10, 0.02, 0.30, 124.0),
]
TRACKS = sum(kind[1] for kind in KINDS)
GENRES = sorted({g for kind in KINDS for g in kind[0]})
K = 3
MAX_ROWS = 5_000  # no chart may push more rows than this into a page


def write_kinds_csv(path: Path, seed: int = 0) -> Path:
    """Spotify-shaped rows in three kinds that stay apart after scaling and a 2-D PCA."""
    rng = np.random.default_rng(seed)

    def unit(value: float) -> float:
        return float(np.clip(value + rng.normal(0, 0.03), 0, 1))

    rows = []
    for g, (genres, n, dance, energy, acoustic, instrumental, speech, tempo) in enumerate(KINDS):
        for i in range(n):
            rows.append(
                {
                    "track_id": f"k{g}t{i:04d}",
                    "artists": f"Artist {g}-{i % 5}",
                    "album_name": f"Album {g}",
                    "track_name": f"Song {i}",
                    "popularity": 20 + 25 * g + int(rng.integers(0, 10)),
                    "duration_ms": int(rng.integers(150_000, 250_000)),
                    "explicit": "True" if g == 2 and i % 3 == 0 else "False",
                    "danceability": unit(dance),
                    "energy": unit(energy),
                    "key": int(rng.integers(0, 12)),
                    "loudness": -20 + 15 * energy + rng.normal(0, 1),
                    "mode": int(rng.integers(0, 2)),
                    "speechiness": unit(speech),
                    "acousticness": unit(acoustic),
                    "instrumentalness": unit(instrumental),
                    "liveness": unit(0.15),
                    "valence": unit(0.3 + 0.2 * g),
                    "tempo": tempo + rng.normal(0, 4),
                    "time_signature": 4 if i % 7 else 3,
                    "track_genre": genres[i % len(genres)],
                }
            )
    return write_tracks_csv(path, rows)


@pytest.fixture(scope="module")
def dbs(tmp_path_factory) -> dict[str, Path]:
    """{'full': ingest + run 1 (k=3) + sweep 1 (k=2..5), 'no_sweep': the same before the sweep,
    'no_runs': ingest only}."""
    base = tmp_path_factory.mktemp("charts")
    source = write_kinds_csv(base / "kinds.csv")
    full, no_sweep, no_runs = base / "full.duckdb", base / "no_sweep.duckdb", base / "none.duckdb"
    spotclust.ingest(source, full)
    shutil.copy(full, no_runs)
    spotclust.cluster(k=K, db=full, n_init=3)
    shutil.copy(full, no_sweep)
    spotclust.sweep(range(2, 6), db=full, n_init=2)
    return {"full": full, "no_sweep": no_sweep, "no_runs": no_runs}


@pytest.fixture(scope="module")
def con(dbs):
    connection = warehouse.connect(dbs["full"], read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def built(dbs) -> dict:
    """{chart name: Vega-Lite dict} for every chart of the latest run, as save_all builds them."""
    run, pairs = charts.build_charts(dbs["full"])
    assert run["run_id"] == 1 and run["k"] == K
    return {entry.name: chart.to_dict() for entry, chart in pairs}


# --------------------------------------------------------------------------- spec helpers


def walk(spec):
    """Every dict inside a spec, depth first."""
    if isinstance(spec, dict):
        yield spec
        for value in spec.values():
            yield from walk(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from walk(value)


def marks(spec: dict) -> set[str]:
    found = set()
    for d in walk(spec):
        mark = d.get("mark")
        if isinstance(mark, str):
            found.add(mark)
        elif isinstance(mark, dict) and "type" in mark:
            found.add(mark["type"])
    return found


def encodings(spec: dict) -> list[dict]:
    return [d["encoding"] for d in walk(spec) if isinstance(d.get("encoding"), dict)]


def fields(spec: dict, channel: str) -> set[str]:
    out = set()
    for enc in encodings(spec):
        value = enc.get(channel)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "field" in item:
                out.add(item["field"])
    return out


def data_rows(spec: dict) -> int:
    """Rows embedded in the spec: named datasets plus inline values."""
    rows = sum(len(values) for values in spec.get("datasets", {}).values())
    for d in walk(spec):
        data = d.get("data")
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            rows += len(data["values"])
    return rows


def dataset(spec: dict) -> list[dict]:
    """All rows of all named datasets (most charts have one, plus small helper frames)."""
    return [row for values in spec.get("datasets", {}).values() for row in values]


def title_text(spec: dict) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        subtitle = title.get("subtitle", [])
        subtitle = subtitle if isinstance(subtitle, list) else [subtitle]
        return " ".join([str(title.get("text", "")), *map(str, subtitle)])
    return str(title or "")


# --------------------------------------------------------------------------- every chart


def test_registry_lists_every_chart_once():
    names = [entry.name for entry in charts.CHARTS]
    assert names == [
        "correlations",
        "pca_map",
        "elbow",
        "profiles",
        "sizes",
        "top_genres",
        "genre_heatmap",
        "pca_loadings",
        "stability",
        "silhouette",
        "feature_boxes",
        "distances",
        "nominal_features",
    ]
    assert all(entry.title and entry.caption and callable(entry.build) for entry in charts.CHARTS)
    assert all("\n" not in entry.caption for entry in charts.CHARTS)


def test_every_chart_has_title_axis_titles_legend_tooltips_and_bounded_data(built):
    for name, spec in built.items():
        assert spec.get("title", {}).get("text"), f"{name}: no title"
        assert any("tooltip" in enc for enc in encodings(spec)), f"{name}: no tooltips"
        # a legend: a colour encoding on a field whose legend is not switched off
        legends = [
            enc["color"]
            for enc in encodings(spec)
            if isinstance(enc.get("color"), dict)
            and "field" in enc["color"]
            and enc["color"].get("legend", {}) is not None
        ]
        assert legends, f"{name}: no legend"
        # every quantitative axis says what it measures (layers share an axis: one title will do)
        for channel in ("x", "y"):
            quantitative = [
                enc[channel]
                for enc in encodings(spec)
                if isinstance(enc.get(channel), dict)
                and enc[channel].get("type") == "quantitative"
                and enc[channel].get("axis", {}) is not None
            ]
            if quantitative:
                assert any(q.get("title") for q in quantitative), f"{name}: untitled {channel}"
        assert 0 < data_rows(spec) <= MAX_ROWS, f"{name}: {data_rows(spec)} rows"
        assert spec["config"]["axis"]["labelFontSize"] >= 11, name


def test_clusters_have_the_same_colours_in_every_chart(con, built):
    expected = charts.chart_run(con, 1)["cluster_labels"]
    assert [theme.cluster_number(label) for label in expected] == list(range(K))
    assert all(" · " in label for label in expected)  # number, then the short name
    scales = []
    for name, spec in built.items():
        for enc in encodings(spec):
            color = enc.get("color")
            if isinstance(color, dict) and color.get("field") == "cluster":
                scales.append((name, color["scale"]))
    assert {name for name, _ in scales} >= {"pca_map", "profiles", "sizes", "top_genres"}
    for name, scale in scales:
        assert scale == {
            "domain": expected,
            "range": [theme.cluster_colour(i, K) for i in range(K)],
        }, name


def test_every_chart_names_the_clusters(con, built):
    """Legends, facet headers, heatmap columns, centroid labels: '2 · name', never 'cluster 2'."""
    labels = set(charts.chart_run(con, 1)["cluster_labels"])
    for name in ("pca_map", "profiles", "sizes", "top_genres", "genre_heatmap"):
        shown = {row["cluster"] for row in dataset(built[name]) if "cluster" in row}
        assert shown and shown <= labels, name
    names = chart_data.cluster_names(con, 1)
    label = con.execute(
        "SELECT traits, genres FROM cluster_labels WHERE run_id = 1 AND cluster = 1"
    ).fetchall()[0]
    assert names[1].startswith("1 · ") and label[1].split(", ")[0] in names[1]


# --------------------------------------------------------------------------- one chart each


def test_correlation_heatmap(con, built):
    data = charts.correlation_data(con, 1)
    assert data.height == 15 * 15
    dropped = set(data.filter(~pl.col("in_run_a"))["feature_a"])
    assert dropped == {"loudness", "valence", "duration_ms"}  # not in the default 12
    spec = charts.correlation_heatmap(data, "run 1").to_dict()
    assert marks(spec) == {"rect", "text"}
    assert fields(spec, "x") == {"column"} and fields(spec, "y") == {"row"}
    assert "r" in fields(spec, "color") and fields(spec, "text") == {"r_text"}
    # the cell label is r to 2 places, or n/a where r is NULL (a constant feature)
    [calculate] = [
        t for layer in spec["layer"] for t in layer.get("transform", []) if "calculate" in t
    ]
    assert calculate["as"] == "r_text" and "format(datum.r, '.2f')" in calculate["calculate"]
    assert "isValid(datum.r)" in calculate["calculate"] and "'n/a'" in calculate["calculate"]
    assert {"feature_a", "feature_b", "r"} <= fields(spec, "tooltip")
    rows = dataset(spec)
    assert len(rows) == 225
    labels = {row["row"] for row in rows}
    assert {"loudness (dropped)", "valence (dropped)", "duration_ms (dropped)"} <= labels
    assert "energy" in labels and "energy (dropped)" not in labels
    assert "dropped" in title_text(spec) and "loudness" in title_text(spec)
    diagonal = [row["r"] for row in rows if row["feature_a"] == row["feature_b"]]
    assert np.allclose(diagonal, 1.0)
    assert built["correlations"]["datasets"] == spec["datasets"]


def test_pca_map(con, built):
    bins, centroids = charts.pca_map_data(con, 1)
    assert bins["tracks"].sum() == TRACKS and bins.height <= charts.PCA_BINS**2
    # the centroids are the members' mean position
    expected = con.execute(
        "SELECT cluster, avg(pc1), avg(pc2) FROM assignments WHERE run_id = 1 "
        "GROUP BY cluster ORDER BY cluster"
    ).fetchall()
    names = chart_data.cluster_names(con, 1)
    assert centroids["cluster"].to_list() == [names[c] for c, _, _ in expected]
    assert np.allclose(centroids["pc1"], [r[1] for r in expected])
    assert np.allclose(centroids["pc2"], [r[2] for r in expected])
    spec = charts.pca_map(bins, centroids, explained=[0.4, 0.2]).to_dict()
    assert marks(spec) == {"rect", "point", "text"}
    assert {"x0", "pc1"} <= fields(spec, "x") and {"y0", "pc2"} <= fields(spec, "y")
    assert fields(spec, "x2") == {"x1"} and fields(spec, "y2") == {"y1"}
    assert fields(spec, "color") == {"cluster"}
    opacity = next(enc["opacity"] for enc in encodings(spec) if "opacity" in enc)
    assert opacity["condition"]["field"] == "tracks"  # shaded by tracks unless dimmed
    assert {"cluster", "tracks", "mix"} <= fields(spec, "tooltip")
    title = title_text(spec)
    assert f"All {TRACKS:,} tracks binned on a 60 x 60 grid" in title and "centroid" in title
    x_titles = [enc["x"]["title"] for enc in encodings(spec) if "title" in enc.get("x", {})]
    assert x_titles == ["PC1 (standardised units; 40.0% of variance)"]
    arrows = min(ARROWS, 12)
    assert data_rows(built["pca_map"]) == bins.height + centroids.height + arrows


def test_pca_map_has_equal_aspect_and_loading_arrows(con, built):
    spec = built["pca_map"]
    x = next(enc["x"] for enc in encodings(spec) if enc.get("x", {}).get("field") == "x0")
    y = next(enc["y"] for enc in encodings(spec) if enc.get("y", {}).get("field") == "y0")
    (x_lo, x_hi), (y_lo, y_hi) = x["scale"]["domain"], y["scale"]["domain"]
    per_unit_x, per_unit_y = spec["width"] / (x_hi - x_lo), spec["height"] / (y_hi - y_lo)
    assert per_unit_x == pytest.approx(per_unit_y, rel=0.01)
    assert "rule" in marks(spec) and {"tip_x"} <= fields(spec, "x2")
    tips = [row for row in dataset(spec) if "tip_x" in row]
    loadings = charts.loadings_data(con, 1)
    longest = max(tips, key=lambda r: r["length"])
    pc1 = loadings.filter((pl.col("feature") == longest["feature"]) & (pl.col("component") == 1))
    assert np.sign(longest["tip_x"]) == np.sign(pc1["loading"][0])  # arrows point as loadings


def test_pca_map_picks_a_cluster_from_its_legend_and_dims_the_others(built):
    spec = built["pca_map"]
    [param] = [p for d in walk(spec) for p in d.get("params", []) if "select" in p]
    assert param["bind"] == "legend" and param["select"]["type"] == "point"
    assert param["select"]["fields"] == ["cluster"]
    [opacity] = [enc["opacity"] for enc in encodings(spec) if "opacity" in enc]
    assert opacity["condition"]["param"] == param["name"]
    assert opacity["condition"]["field"] == "tracks" and opacity["value"] < 0.25
    assert "legend" in title_text(spec)


def test_pca_map_binning_bounds_the_data_whatever_the_size():
    """200,000 points become at most 60 x 60 bins, with every point counted once."""
    con = duckdb.connect()
    con.execute(
        """
        CREATE TABLE assignments AS
        SELECT 7 AS run_id, i AS row_number, 't' || i AS track_id, (i % 5)::INTEGER AS cluster,
               (i % 5) + sin(i) * 3 AS pc1, cos(i * 1.7) * 2 - (i % 5) AS pc2, 0.0 AS distance
        FROM range(200000) AS r(i)
        """
    )
    bins, centroids = charts.pca_map_data(con, 7)
    assert bins.height <= 3600 and bins["tracks"].sum() == 200_000
    mix_total = sum(int(n) for mix in bins["mix"] for n in re.findall(r": (\d+)", mix))
    assert mix_total == 200_000
    assert (bins["cluster_share"] > 0).all() and (bins["cluster_share"] <= 1).all()
    assert centroids.height == 5
    spec = charts.pca_map(bins, centroids).to_dict()
    assert data_rows(spec) <= MAX_ROWS
    assert "200,000 tracks" in title_text(spec)
    coarse, _ = charts.pca_map_data(con, 7, bins=10)
    assert coarse.height <= 100 and coarse["tracks"].sum() == 200_000


def test_elbow_chart(con, built):
    data = charts.elbow_data(con)
    assert data["k"].to_list() == [2, 3, 4, 5]
    spec = charts.elbow_chart(data, run_k=K).to_dict()
    assert len(spec["hconcat"]) == 2
    assert {"line", "point", "text", "rule"} <= marks(spec)
    assert fields(spec, "x") == {"k"}
    assert {"inertia", "silhouette"} <= fields(spec, "y")
    assert {"k", "inertia", "silhouette"} <= fields(spec, "tooltip")
    assert data[data["is_knee"].arg_max(), "k"] == 3  # three real kinds of track
    rules = [row for row in dataset(spec) if row.get("series") == "k of this run"]
    assert rules and rules[0]["k"] == K
    assert "Sweep 1" in title_text(spec)
    assert data_rows(built["elbow"]) <= 20


def test_elbow_chart_without_a_sweep_says_how_to_make_one():
    spec = charts.elbow_chart(pl.DataFrame()).to_dict()
    assert marks(spec) == {"text"}
    text = " ".join(row["line"] for row in dataset(spec)) + title_text(spec)
    assert "spotclust sweep" in text


def test_cluster_profiles(con, built):
    data = charts.profiles_data(con, 1)
    assert data.height == K * 15
    spec = charts.cluster_profiles_chart(data).to_dict()
    assert marks(spec) == {"rect", "text"}  # a clusters x features heatmap, z in each cell
    # features by effect size (range of the cluster means), nominal ones left out
    x = next(enc["x"] for enc in encodings(spec) if enc.get("x", {}).get("field") == "label")
    shown = [f for f in x["sort"]]
    assert not {"key", "mode", "time_signature"} & set(shown) and "key" in title_text(spec)
    ranges = data.group_by("label").agg((pl.col("z").max() - pl.col("z").min()).alias("r"))
    spread = dict(ranges.iter_rows())
    assert [spread[f] for f in shown] == sorted((spread[f] for f in shown), reverse=True)
    z = next(enc["color"] for enc in encodings(spec) if enc.get("color", {}).get("field") == "z")
    assert "z clipped at ±2" in z["legend"]["title"] and z["scale"]["clamp"] is True
    assert fields(spec, "x") == {"label"} and fields(spec, "y") == {"cluster"}
    assert fields(spec, "color") == {"cluster", "z"} and fields(spec, "text") == {"z"}
    assert {"mean", "overall_mean", "z"} <= fields(spec, "tooltip")  # raw means on hover
    # the standardised means are the 'scaled' centroids for the features the run clustered on
    scaled = dict(
        ((chart_data.cluster_names(con, 1)[c], f), v)
        for c, f, v in con.execute(
            "SELECT cluster, dimension, value FROM centroids WHERE run_id = 1 AND space = 'scaled'"
        ).fetchall()
    )
    used = data.filter(pl.col("in_model"))
    assert used.height == K * 12
    for row in used.iter_rows(named=True):
        assert row["z"] == pytest.approx(scaled[(row["cluster"], row["feature"])], abs=1e-9)
    not_used = set(data.filter(~pl.col("in_model"))["label"])
    assert not_used == {f"{f} (not clustered)" for f in ("loudness", "valence", "duration_ms")}
    assert data_rows(built["profiles"]) == K * 12 + K  # 15 less 3 nominal, + the colour strip


def test_cluster_sizes(con, built):
    data = charts.sizes_data(con, 1)
    assert data["tracks"].sum() == TRACKS
    assert data["tracks"].to_list() == sorted(data["tracks"].to_list(), reverse=True)
    spec = charts.cluster_sizes_chart(data).to_dict()
    assert marks(spec) == {"bar", "text"}
    assert fields(spec, "y") == {"cluster"} and fields(spec, "x") == {"tracks"}
    assert {"share", "top_genres"} <= fields(spec, "tooltip")
    texts = [row["text"] for row in dataset(spec)]
    assert texts[0] == "150 (48.4%)"  # the metal kind is the largest
    assert data_rows(built["sizes"]) == K


def test_top_genres(con, built):
    data = charts.top_genres_data(con, 1)
    assert data.height <= charts.TOP_GENRES * K
    spec = charts.top_genres_chart(data).to_dict()
    assert spec["facet"]["field"] == "cluster" and marks(spec["spec"]) == {"bar"}
    assert fields(spec, "y") == {"genre_share"} and fields(spec, "x") == {"lift"}
    shares = {row["genre_share"] for row in dataset(spec)}  # the share, printed by the genre
    assert any(re.fullmatch(r"\w+ \(\d+%\)", label) for label in shares)
    assert {"tracks", "share_of_genre", "lift"} <= fields(spec, "tooltip")
    assert spec["resolve"]["scale"] == {"y": "independent"}  # x (lift) shared by all panels
    assert "Top 20 genres" in title_text(spec) and "lift" in title_text(spec)
    # lift is the share of the cluster over the share of all listings, as explain computes it
    overall = con.execute(
        "SELECT genre, sum(tracks) / sum(sum(tracks)) OVER () FROM genre_breakdown "
        "WHERE run_id = 1 GROUP BY genre"
    ).fetchall()
    for row in data.iter_rows(named=True):
        assert row["lift"] == pytest.approx(row["share_of_cluster"] / dict(overall)[row["genre"]])
    assert (
        data["rank_in_cluster"].to_list()
        == data.sort(["cluster", "lift"], descending=[False, True])["rank_in_cluster"].to_list()
    )
    rows = dataset(spec)
    assert {row["genre"] for row in rows if row["cluster"].startswith("1 ")} == {
        "sleep",
        "ambient",
        "piano",
    }
    top1 = charts.top_genres_chart(data, top=1).to_dict()
    assert data_rows(top1) == K and "Top 1 genres" in title_text(top1)
    assert data_rows(built["top_genres"]) == data.height


def test_genre_cluster_heatmap(con, built):
    data = charts.genre_heatmap_data(con, 1)
    assert data.height == len(GENRES) * K  # zeros included
    per_genre = data.group_by("genre").agg(pl.col("share_of_genre").sum())
    assert np.allclose(per_genre["share_of_genre"], 1.0)
    spec = charts.genre_cluster_heatmap(data).to_dict()
    assert marks(spec) == {"rect", "text", "rule"}  # rules: between the blocks of genres
    assert fields(spec, "x") == {"cluster"} and fields(spec, "y") == {"genre"}
    assert fields(spec, "color") == {"log2_lift"}
    colour = next(e["color"] for e in encodings(spec) if e.get("color", {}).get("field"))
    assert colour["scale"] == {
        "scheme": "redblue",
        "reverse": True,
        "domain": [-2, 2],
        "clamp": True,
    }
    separators = [row["genre"] for row in dataset(spec) if set(row) == {"genre"}]
    assert len(separators) == K - 1  # three blocks of genres, two rules
    assert {"tracks", "share_of_cluster"} <= fields(spec, "tooltip")
    y = next(enc["y"] for enc in encodings(spec) if "y" in enc)
    assert sorted(y["sort"]) == GENRES and y["sort"][:2] == ["metal", "rock"]  # by main cluster
    assert data_rows(built["genre_heatmap"]) == len(GENRES) * K + K - 1


def test_genre_heatmap_names_its_columns_at_the_top_and_the_bottom(built):
    spec = built["genre_heatmap"]
    orients = {
        enc["x"]["axis"]["orient"]
        for enc in encodings(spec)
        if enc.get("x", {}).get("field") == "cluster" and enc["x"].get("axis")
    }
    assert orients == {"top", "bottom"}  # a reader scrolled down a tall heatmap sees them
    import vl_convert

    axes = vl_convert.vegalite_to_vega(spec)["axes"]
    assert sorted(a["orient"] for a in axes if a["scale"] == "x") == ["bottom", "top"]


def test_nominal_features_as_shares_per_cluster(con, built, dbs, tmp_path):
    data = charts.data.nominal_features_data(con, 1)
    labels = charts.chart_run(con, 1)["cluster_labels"]
    assert set(data["cluster"]) == set(labels)
    assert set(data["feature"]) == {"key", "mode", "time_signature"}
    per_cluster = data.group_by("cluster", "feature").agg(pl.col("share").sum())
    assert np.allclose(per_cluster["share"], 1.0)  # each a distribution over the values
    assert data.group_by("cluster", "feature").agg(pl.col("tracks").sum())["tracks"].sum() == (
        3 * TRACKS
    )
    assert set(data.filter(pl.col("feature") == "mode")["value_label"]) == {"minor", "major"}
    assert set(data.filter(pl.col("feature") == "time_signature")["value_label"]) == {"3/4", "4/4"}
    keys = data.filter(pl.col("feature") == "key").sort("value")
    assert keys.unique("value", maintain_order=True)["value_label"].to_list() == [
        "C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"
    ]  # fmt: skip
    spec = built["nominal_features"]
    assert marks(spec) == {"rect", "text"}
    assert fields(spec, "x") == {"value_label"} and fields(spec, "color") == {"cluster", "share"}
    assert {"tracks", "share", "overall_share"} <= fields(spec, "tooltip")
    assert data_rows(spec) == data.height + K  # the cells, and the strip of cluster colours
    # the page, written by `charts`, holds every cluster and the three features
    charts.save_all(dbs["full"], run_id=1, out_dir=tmp_path)
    page = html.unescape((tmp_path / "nominal_features.html").read_text())
    for label in labels:
        assert json.dumps(label)[1:-1] in page, label  # as the page's JSON spells it
    for feature in ("key", "mode", "time_signature"):
        assert f'"feature":"{feature}"' in page, feature


def test_pca_loadings(con, built):
    data = charts.loadings_data(con, 1)
    assert data.height == 2 * 12
    spec = charts.pca_loadings_chart(data).to_dict()
    assert spec["facet"]["field"] == "panel" and spec["spec"]["mark"]["type"] == "bar"
    assert fields(spec, "y") == {"feature"} and fields(spec, "x") == {"loading"}
    assert fields(spec, "color") == {"direction"}
    assert {"loading", "explained_variance_ratio"} <= fields(spec, "tooltip")
    panels = sorted({row["panel"] for row in dataset(spec)})
    assert [p.split(" ")[0] for p in panels] == ["PC1", "PC2"] and "% of variance" in panels[0]
    assert "PC1:" in title_text(spec) and "PC2:" in title_text(spec)
    assert data_rows(built["pca_loadings"]) == 24


def test_chart_functions_accept_lists_of_dicts(con):
    rows = charts.sizes_data(con, 1).to_dicts()
    assert data_rows(charts.cluster_sizes_chart(rows).to_dict()) == K
    assert charts.cluster_domain([{"cluster": "cluster 10"}, {"cluster": "cluster 2"}]) == [
        "cluster 2",
        "cluster 10",
    ]


# --------------------------------------------------------------------------- save_all


def test_save_all_writes_pages_sharing_one_bundle_and_an_index(dbs, tmp_path):
    before = dbs["full"].read_bytes()
    out = tmp_path / "out" / "charts"  # created when missing
    index = charts.save_all(dbs["full"], out_dir=out)
    assert index == out / "index.html"
    assert dbs["full"].read_bytes() == before  # read-only
    names = {entry.name for entry in charts.CHARTS}
    assert {p.name for p in out.iterdir()} == {f"{n}.html" for n in names} | {
        "index.html",
        "vega-bundle.js",
    }

    text = index.read_text()
    for entry in charts.CHARTS:
        assert f'href="{entry.name}.html"' in text and html.escape(entry.caption) in text
    assert "k = 3" in text and f"{TRACKS:,}" in text and "silhouette" in text
    assert "danceability" in text  # the features
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", text)  # the date

    for page in out.glob("*.html"):
        source = page.read_text()
        scripts = re.findall(r"<script src=[^>]*>", source)
        assert scripts == ([] if page.name == "index.html" else ['<script src="vega-bundle.js">'])
        assert "https://cdn" not in source and "<link" not in source.lower(), page.name
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", source), page.name
        assert page.stat().st_size < 500_000, page.name  # the libraries are not inside
        if page.name != "index.html":
            assert "vegaEmbed(" in source and '"renderer":"svg"' in source
            assert source.count("<script>") == 1  # the chart; the libraries are beside it
    assert (out / "vega-bundle.js").stat().st_size > 500_000  # Vega, Vega-Lite, vega-embed


def test_each_page_holds_its_charts_spec_and_rows_as_written(dbs, tmp_path):
    """The rows reach a page as JSON text polars wrote (spec.Rows), spliced into the spec's
    own JSON: read back from every page and from the report, they are the specs' rows."""
    charts.save_all(dbs["full"], out_dir=tmp_path)
    run, specs = charts.chart_specs(dbs["full"])
    for entry, spec in specs:
        source = (tmp_path / f"{entry.name}.html").read_text()
        written = re.search(r"^const spec = (.*);$", source, re.MULTILINE).group(1)
        expected = json.loads(json.dumps(pages.responsive(spec)))  # Rows as plain lists
        assert json.loads(written) == expected, entry.name
        assert any(isinstance(rows, chart_spec.Rows) for rows in spec["datasets"].values())
    report = spotclust.report(run["run_id"], tmp_path / "report.html", dbs["full"])
    written = re.search(r"^const specs = (.*);$", report.read_text(), re.MULTILINE).group(1)
    by_name = {entry.name: spec for entry, spec in specs}
    for name, spec in json.loads(written).items():
        expected = json.loads(json.dumps(by_name[name.removeprefix("chart-")]["datasets"]))
        assert spec["datasets"] == expected, name


def test_rows_written_by_polars_are_the_rows_and_stay_data_in_a_script():
    frame = pl.DataFrame(
        {
            "genre": ["</script><script>alert(1)</script>", "k-pop ✓ «ü»", 'quote " \\ \n'],
            "share": [0.1, float("nan"), 1e-300],
            "tracks": [1, None, 3],
        }
    )
    rows = chart_spec.rows(frame)
    assert rows == [
        {"genre": "</script><script>alert(1)</script>", "share": 0.1, "tracks": 1},
        {"genre": "k-pop ✓ «ü»", "share": None, "tracks": None},
        {"genre": 'quote " \\ \n', "share": 1e-300, "tracks": 3},
    ]
    spec = {"title": "t", "datasets": {"a": rows, "b": [{"x": 1}]}, "layer": [{"mark": "bar"}]}
    assert json.loads(chart_spec.json_text(spec)) == json.loads(json.dumps(spec))
    page_json = str(pages.script_json(spec))
    assert "</" not in page_json and "<!--" not in page_json
    assert json.loads(page_json) == json.loads(json.dumps(spec))


def test_save_all_without_a_sweep(dbs, tmp_path):
    charts.save_all(dbs["no_sweep"], out_dir=tmp_path)
    elbow = (tmp_path / "elbow.html").read_text()
    assert "No sweep yet" in elbow and "spotclust sweep" in elbow


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_save_all_images_for_reports(dbs, tmp_path, fmt):
    index = charts.save_all(dbs["full"], run_id=1, out_dir=tmp_path, fmt=fmt)
    for entry in charts.CHARTS:
        image = (tmp_path / f"{entry.name}.{fmt}").read_bytes()
        if fmt == "svg":
            assert image.lstrip().startswith(b"<svg") and b"</svg>" in image
        else:
            assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 10_000
    text = index.read_text()
    assert f'href="pca_map.{fmt}"' in text and f'<img src="pca_map.{fmt}"' in text
    assert list(tmp_path.glob("*.html")) == [index]  # only the index is HTML
    assert {p.suffix for p in tmp_path.iterdir()} == {f".{fmt}", ".html"}


def test_unknown_run_and_no_runs(dbs, tmp_path):
    with pytest.raises(ConfigError) as error:
        charts.save_all(dbs["full"], run_id=99, out_dir=tmp_path / "x")
    assert str(error.value) == 'no run 99: see `spotclust sql "SELECT run_id FROM runs"`'
    with pytest.raises(WarehouseError, match="run `spotclust cluster` first"):
        charts.save_all(dbs["no_runs"], out_dir=tmp_path / "y")
    with pytest.raises(ConfigError, match="--format"):
        charts.save_all(dbs["full"], out_dir=tmp_path / "z", fmt="gif")
    assert not any((tmp_path / d).exists() for d in "xyz")
    with pytest.raises(WarehouseError, match="no warehouse"):
        charts.save_all(tmp_path / "missing.duckdb", out_dir=tmp_path / "w")


# --------------------------------------------------------------------------- the templates


def test_every_template_is_what_its_drawing_makes():
    """templates/vega-lite/<drawing>.json is the drawing's Altair output with slots, as written
    by `python -m spotclust.charts.authoring` (run it after changing a drawing)."""
    folder = Path(authoring.__file__).parent / "templates" / chart_spec.TEMPLATES
    assert sorted(p.stem for p in folder.glob("*.json")) == authoring.drawings()
    for name in authoring.drawings():
        assert (folder / f"{name}.json").read_text() == authoring.template_text(name), name


def test_the_pages_specs_are_the_charts_altair_draws(dbs, built):
    """A page's spec (its template filled, no Altair) is the chart build_charts draws."""
    for db, drawn in ((dbs["full"], built), (dbs["no_sweep"], None)):
        if drawn is None:
            _, pairs = charts.build_charts(db)
            drawn = {entry.name: chart.to_dict() for entry, chart in pairs}
        run, specs = charts.chart_specs(db)
        assert run["run_id"] == 1
        assert [entry.name for entry, _ in specs] == [entry.name for entry in charts.CHARTS]
        for entry, filled in specs:
            assert filled == drawn[entry.name], entry.name


def _variants(con) -> list[chart_spec.Plan]:
    """Plans of the variants the fixture's run does not draw: a sweep without silhouette and
    the run's k outside it, the gap statistic, a map without arrows, one nominal feature."""
    sweep = chart_data.elbow_data(con).with_columns(
        pl.lit(None).cast(pl.Float64).alias("silhouette")
    )
    stability = chart_data.stability_data(con).with_columns(
        pl.lit(0.1).alias("gap"), pl.lit(0.01).alias("gap_se"), pl.lit(False).alias("is_gap_choice")
    )
    bins, centroids = charts.pca_map_data(con, 1)
    nominal = chart_data.nominal_features_data(con, 1).filter(pl.col("feature") == "mode")
    return [
        selection_plan.elbow(sweep, run_k=9),
        selection_plan.stability(stability, run_k=3),
        selection_plan.stability(stability.with_columns(pl.lit(None).alias("stability_mean"))),
        map_plan.pca_map(bins, centroids),
        clusters_plan.nominal_features(nominal),
    ]


def test_every_variant_fills_its_template_as_altair_draws_it(con):
    variants = {plan.drawing + ":" + plan.variant for plan in _variants(con)}
    assert variants == {
        "elbow:inertia", "stability:stability+gap+run_k", "stability:gap",
        "pca_map:", "nominal_features:mode",
    }  # fmt: skip
    for plan in _variants(con):
        assert chart_spec.filled(plan) == authoring.drawn(plan).to_dict(), plan.variant


def test_writing_the_pages_and_the_report_imports_no_altair(dbs, tmp_path):
    code = (
        "import json, sys, spotclust\n"
        f"spotclust.write_charts(db={str(dbs['full'])!r}, out_dir={str(tmp_path)!r})\n"
        f"spotclust.report(db={str(dbs['full'])!r}, out={str(tmp_path / 'report.html')!r})\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    done = run_command([sys.executable, "-c", code], cwd=tmp_path, timeout=300)
    assert done.exit_code == 0, done.stderr
    assert "altair" not in json.loads(done.stdout.splitlines()[-1])
    assert (tmp_path / "index.html").is_file() and (tmp_path / "report.html").is_file()


def test_a_report_takes_the_specs_of_the_pages_just_written_once_while_nothing_changed(
    dbs, tmp_path
):
    """`cluster` writes a run's pages, then its report, which draws four of the same charts:
    the report reuses their specs, once, unless the warehouse changed in between."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(dbs["full"], db)
    _, pages = charts.chart_specs(db)
    written = {entry.name: spec for entry, spec in pages}
    [(_, reused)] = charts.chart_specs(db, 1, names=["elbow"])[1]
    assert reused is written["elbow"]
    [(_, read)] = charts.chart_specs(db, 1, names=["elbow"])[1]
    assert read is not written["elbow"] and read == written["elbow"]  # once only
    charts.chart_specs(db)
    spotclust.sweep(range(2, 4), db=db, n_init=1)  # a new latest sweep: another elbow
    [(_, redrawn)] = charts.chart_specs(db, 1, names=["elbow"])[1]
    assert [row["k"] for row in redrawn["datasets"]["sweep"]] == [2, 3]
