"""report.html: one self-contained page telling a run's story with its numbers, written by
`report` and by `cluster`; and `run`'s default sweep draws what its pages show."""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path

import pytest
from support.processes import run_command

HOSTILE = "<script>alert(1)</script>"


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
    assert done.stdout.strip().splitlines()[-1].endswith("report.html")
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
