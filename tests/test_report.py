"""report.html: one self-contained page telling a run's story with its numbers, written by
`report` and by `cluster`; and `run`'s default sweep draws what its pages show."""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from support.processes import run_command

from spotclust.charts.report_page import report_charts
from spotclust.runs.report import agreement, purity

HOSTILE = "<script>alert(1)</script>"
ROOT = Path(__file__).resolve().parent.parent
DOCS_PNG = ROOT / "docs" / "report.png"  # the README's screenshot of the report


def spotclust(*args, cwd: Path):
    """The real command, in its own process, run in cwd (where charts/ goes)."""
    done = run_command([sys.executable, "-m", "spotclust", *args], cwd=cwd, timeout=300)
    assert done.exit_code == 0, done.stderr
    return done


def _text(page: str) -> str:
    """The page's text as a reader sees it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _assert_self_contained(page: str) -> None:
    """One file: no element loads another file or the network (the scripts are inline)."""
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # the inlined code
    assert not re.search(r"""<[^>]*\s(src|href)\s*=""", markup, re.I), "refers to a file"
    assert "<script src" not in page.lower() and "<link" not in page.lower()
    assert page.count("<script>") == 2  # ONE copy of the libraries, then the charts


@pytest.fixture(scope="module")
def clustered_report(tmp_path_factory, clustered_template):
    """`cluster` on a copy of the clustered fixture: its report and the warehouse."""
    folder = tmp_path_factory.mktemp("report")
    db = folder / "w.duckdb"
    shutil.copyfile(clustered_template, db)
    done = spotclust("cluster", "--k", "3", "--n-init", "2", "--quiet", "--db", db, cwd=folder)
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("Report: open ") and last.endswith("report.html")
    path = folder / last.removeprefix("Report: open ")
    assert path.parent.name == "run-2" and (path.parent / "index.html").is_file()
    return path, db


def test_cluster_writes_the_report_with_the_runs_numbers(clustered_report, query):
    path, db = clustered_report
    page = path.read_text("utf-8")
    text = _text(page)
    _assert_self_contained(page)
    for (label,) in query(db, "SELECT label FROM cluster_labels WHERE run_id = 2"):
        assert label in text
    for loaded, out, removed in query(
        db, "SELECT rows_in, rows_out, rows_removed FROM cleaning_report ORDER BY step"
    ):
        assert f"{loaded:,}" in text and f"{out:,}" in text and f"{removed:,}" in text
    ((n, kept, ari, nmi),) = query(
        db, "SELECT pca_components, explained_variance, adjusted_rand, normalized_mutual_info "
        "FROM runs WHERE run_id = 2",
    )  # fmt: skip
    assert f"{n} components keep {kept:.1%} of the variance" in text
    assert f"adjusted Rand {ari:.3f}" in text and f"NMI {nmi:.3f}" in text
    assert "With the genres shuffled at random (seed 0)" in text
    ((knee, best),) = query(
        db, "SELECT any_value(k) FILTER (is_knee), any_value(k) FILTER (is_best_silhouette) "
        "FROM sweeps WHERE sweep_id = (SELECT max(sweep_id) FROM sweeps)",
    )  # fmt: skip
    knee_text = "none (no bend)" if knee is None else str(knee)
    assert f"knee of inertia: {knee_text}; best silhouette: {best}" in text
    assert "spotclust cluster --k 3 --features " in text and "data sha256" in text


def test_report_command_escapes_every_value(tmp_path, small, make_csv):
    genre = small.header.index("track_genre")
    rows = [[*r[:genre], HOSTILE if r[genre] == "metal" else r[genre]] for r in small.rows]
    csv = make_csv(tmp_path / "hostile.csv", small.header, rows)
    db = tmp_path / "w.duckdb"
    spotclust("ingest", csv, "--db", db, cwd=tmp_path)
    spotclust("cluster", "--k", "3", "--n-init", "2", "--no-charts", "--quiet", "--db", db,
              cwd=tmp_path)  # fmt: skip
    assert not (tmp_path / "charts").exists()  # --no-charts: no report either
    done = spotclust("report", "--out", tmp_path / "r.html", "--db", db, cwd=tmp_path)
    assert done.stdout.strip() == f"Report: open {tmp_path / 'r.html'}"
    page = (tmp_path / "r.html").read_text("utf-8")
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    _assert_self_contained(page)


def test_run_scores_silhouette_and_stability_for_its_pages(tmp_path, small_csv, query):
    db = tmp_path / "w.duckdb"
    done = spotclust("run", small_csv, "--k", "3", "--n-init", "2", "--quiet", "--db", db,
                     cwd=tmp_path)  # fmt: skip
    last = done.stdout.strip().splitlines()[-1]  # `make run` ends with where the report is
    assert last.startswith("Report: open ") and last.endswith("report.html"), done.stdout
    assert (tmp_path / last.removeprefix("Report: open ")).is_file()
    ((ks, silhouettes, stabilities),) = query(
        db, "SELECT count(*), count(silhouette), count(stability_mean) FROM sweeps"
    )
    assert ks == 10 and silhouettes == 9 and stabilities == 9  # every k but k = 1
    elbow = next((tmp_path / "charts").rglob("elbow.html")).read_text("utf-8")
    assert '"silhouette":0.' in elbow or '"silhouette":-0.' in elbow
    assert "No stability" not in next((tmp_path / "charts").rglob("stability.html")).read_text()


def test_the_report_draws_its_charts_offline_in_a_browser(clustered_report):
    browser = pytest.importorskip("test_browser")
    if not shutil.which("chromium") and not Path(browser.CHROMIUM).exists():
        pytest.skip("no chromium")
    path, _ = clustered_report
    page = browser.open_page(path)
    assert page.console == [], page.console
    assert 'data-rendered="true"' in page.dom
    assert page.dom.count('class="marks"') >= 3  # elbow, PCA map, profiles (and correlations)


def _browser():
    """tests/test_browser.py (its Chromium, flags and probe), or a skip without Chromium."""
    browser = pytest.importorskip("test_browser")
    if not os.access(browser.CHROMIUM, os.X_OK):
        pytest.skip("no chromium")
    return browser


def test_the_report_fits_every_width_and_names_every_cluster(clustered_report, query, tmp_path):
    """Opened at 1400, 900 and 600 px: every chart drawn with its marks, no console message,
    no element wider than the window, no empty view, and every cluster's name in the text a
    reader sees (scripts left out: the specs hold the names too)."""
    browser = _browser()
    path, db = clustered_report
    names = re.findall(r'<div class="chart" id="chart-([a-z_]+)"></div>', path.read_text())
    assert len(names) >= 3  # correlations, elbow, PCA map, profiles (as the run allows)
    specs = report_charts(db, 2, names)
    wanted = set().union(*(browser.expected_marks(spec) for spec in specs.values()))
    labels = [label for (label,) in query(db, "SELECT label FROM cluster_labels WHERE run_id = 2")]
    assert len(labels) == 3
    for width in browser.WIDTHS:
        shot = tmp_path / f"report-{width}.png"
        page = browser.open_probed(path, width, shot, height=3000 if width == 1400 else 1000)
        assert page.returncode == 0 and page.console == [], (width, page.console)
        assert 'data-rendered="true"' in page.dom, f"vega-embed did not finish at {width} px"
        assert page.dom.count('class="marks"') == len(names)
        items = page.items()
        assert all(items.get(mark, 0) > 0 for mark in wanted), (width, wanted, items)
        layout = page.layout()
        assert layout["innerWidth"] == width and layout["scrollWidth"] <= width, layout
        assert layout["outside"] == [] and layout["wide"] == [], (width, layout)
        assert layout["empty"] == [] and layout["views"] > 0, (width, layout)
        text = _text(re.sub(r"<script>.*?</script>", " ", page.dom, flags=re.S))
        missing = [label for label in labels if label not in text]
        assert not missing, f"at {width} px the page does not name {missing}"
        assert shot.stat().st_size > 10_000


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_readme_shows_a_screenshot_of_the_report(tmp_path):
    """docs/report.png: the first 3000 px of a report at 1400 px, shot by headless Chromium.
    It is made from a real run's report, not from this suite's small fixture: with
    SPOTCLUST_DOCS_REPORT=path/to/report.html (a `spotclust run --k 4` on the shipped data)
    this test checks that report as the others are checked and writes docs/report.png from
    it; without, it checks the committed PNG and that the README shows it."""
    source = os.environ.get("SPOTCLUST_DOCS_REPORT")
    if source:
        browser = _browser()
        shot = tmp_path / "report.png"
        page = browser.open_probed(Path(source), 1400, shot, height=3000)
        assert page.console == [] and 'data-rendered="true"' in page.dom, page.console
        layout = page.layout()
        assert layout["wide"] == [] and layout["empty"] == [], layout
        shutil.copyfile(shot, DOCS_PNG)
    data = DOCS_PNG.read_bytes()
    assert _png_size(data) == (1400, 3000)
    assert 100_000 < len(data) < 1_500_000
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "](docs/report.png)" in readme


@pytest.mark.parametrize("seed", range(40))
def test_the_agreement_scores_are_scikit_learns(seed):
    """The shuffled baseline's adjusted Rand, NMI and purity (computed from one contingency
    table, without scikit-learn) are scikit-learn's, to the last digits."""
    from sklearn import metrics as skm

    rng = np.random.default_rng(seed)
    n, k, genres = int(rng.integers(1, 4000)), int(rng.integers(1, 9)), int(rng.integers(1, 40))
    labels = rng.integers(0, k, n)
    truth = (
        rng.integers(0, genres, n) if seed % 2 else (labels * 3 + rng.integers(0, 2, n)) % genres
    )
    expected = (
        skm.adjusted_rand_score(truth, labels),
        skm.normalized_mutual_info_score(truth, labels),
        skm.cluster.contingency_matrix(truth, labels).max(axis=0).sum() / n,
    )
    assert agreement(truth, labels) == pytest.approx(expected, abs=1e-12)
    # the run's own purity, from the same table: exactly the share SQL counted before
    most_common = sum(int(np.bincount(truth[labels == c]).max()) for c in np.unique(labels))
    assert purity(truth, labels) == most_common / n
