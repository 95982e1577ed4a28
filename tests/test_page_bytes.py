"""A run's chart pages share one copy of the chart libraries (vega-bundle.js) instead of each
inlining the ~900 KB bundle: the folder is at least 5x smaller than the inlined pages were
(the bundle times the pages, the pages' own bytes left out, is the old size's floor), and the
bundle is written once, then left alone while it holds the same bytes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from support.grouped_data import write_tracks_csv

import spotclust
from spotclust import charts
from spotclust.charts import pages


def _tracks(path: Path) -> Path:
    genres = ("metal", "sleep", "dance")
    return write_tracks_csv(
        path,
        [
            {
                "track_id": f"t{i}",
                "artists": "A",
                "album_name": "B",
                "track_name": f"S{i}",
                "popularity": i % 100,
                "duration_ms": 180_000 + i,
                "explicit": "False",
                "danceability": (i % 3) / 3 + (i % 7) / 100,
                "energy": ((i + 1) % 3) / 3 + (i % 5) / 100,
                "key": i % 12,
                "loudness": -8 + (i % 3),
                "mode": i % 2,
                "speechiness": 0.05,
                "acousticness": ((i + 2) % 3) / 3,
                "instrumentalness": (i % 11) / 20,
                "liveness": 0.1,
                "valence": (i % 13) / 13,
                "tempo": 90 + 30 * (i % 3),
                "time_signature": 4,
                "track_genre": genres[i % 3],
            }
            for i in range(150)
        ],
    )


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("bytes")
    db = base / "w.duckdb"
    spotclust.ingest(_tracks(base / "tracks.csv"), db)
    spotclust.cluster(k=3, db=db, n_init=1)
    charts.save_all(db, out_dir=base / "charts")
    return base / "charts"


def test_a_runs_pages_share_one_bundle_and_are_5x_smaller(run_folder):
    bundle = run_folder / pages.BUNDLE
    chart_pages = [run_folder / f"{entry.name}.html" for entry in charts.CHARTS]
    inlined = bundle.stat().st_size * len(chart_pages)  # what the pages inlined before
    total = sum(p.stat().st_size for p in run_folder.iterdir())
    assert total * 5 <= inlined, f"{total:,} bytes now, {inlined:,}+ inlined"
    for page in chart_pages:
        source = page.read_text()
        assert source.count(f'<script src="{pages.BUNDLE}"></script>') == 1, page.name
        assert page.stat().st_size < 100_000, page.name  # the chart's data, not the libraries
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", source), page.name
    assert bundle.read_text() == pages._vega_bundle()


def test_the_bundle_is_rewritten_only_when_missing_or_different(run_folder):
    bundle = run_folder / pages.BUNDLE
    os.utime(bundle, ns=(1, 1))
    inode = bundle.stat().st_ino
    pages.write_bundle(run_folder)
    assert bundle.stat().st_mtime_ns == 1 and bundle.stat().st_ino == inode  # left alone
    bundle.write_text("// another version\n")
    pages.write_bundle(run_folder)
    assert bundle.read_text() == pages._vega_bundle()
    bundle.unlink()
    pages.write_bundle(run_folder)
    assert bundle.read_text() == pages._vega_bundle()
    assert not list(run_folder.glob(".*.partial"))
