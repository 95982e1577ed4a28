"""The chart pages in a real browser: Debian's Chromium, headless, with no network.

Each page is opened from file:// with every request sent to a dead proxy (even loopback), so
a page that needed the network would fail. A page passes when vega-embed finished
(body[data-rendered]), the DOM holds the Vega SVG with items of every mark the chart's spec
asks for, and the browser logged nothing to the console: any console message, and any
uncaught exception (which Chromium logs as "Uncaught ..."), fails it. Two control pages
prove the checks work: one throws, one needs a CDN.

Chromium is not downloaded here: .ci/run installs Debian's package when it is missing. The
tests skip without it, except on CI (CI=true), where they fail.

Screenshots (1280 px wide) of index.html and every chart go to $SPOTCLUST_SHOTS when set,
else to a pytest temporary directory; never into the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.grouped_data import write_tracks_csv
from support.processes import run_command

import spotclust
from spotclust import charts

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

if not os.access(CHROMIUM, os.X_OK):
    if ON_CI:
        pytest.fail(
            "chromium is missing on CI: .ci/run installs Debian's chromium package",
            pytrace=False,
        )
    pytestmark = pytest.mark.skip(
        reason="no chromium: install Debian's package (apt-get install chromium) to run these"
    )

# Flags: headless, no sandbox (containers run as root), no GPU; a fresh profile per page;
# no background traffic; every request goes to a dead proxy (port 9, discard), loopback
# included (<-loopback>), so the page has no network; virtual time lets Vega finish before
# the DOM is dumped; console messages go to stderr.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--virtual-time-budget=10000",
    "--hide-scrollbars",
    "--window-size=1280,1000",
    "--enable-logging=stderr",
    "--v=0",
]
# [pid:tid:time:INFO:CONSOLE:12] "message", source: file:///... (12)   (older: CONSOLE(12)])
CONSOLE = re.compile(r':CONSOLE[^\]]*\] "(?P<message>.*)", source: (?P<source>\S*)')

# Vega-Lite mark -> the Vega mark class it draws in the SVG
VEGA_MARK = {
    "bar": "rect",
    "rect": "rect",
    "point": "symbol",
    "line": "line",
    "text": "text",
    "rule": "rule",
}


@dataclass
class Page:
    dom: str
    console: list[str]  # every console message, exceptions included
    returncode: int
    stderr: str

    def items(self) -> dict[str, int]:
        """Drawn items per Vega mark type, in the chart's SVG (axes and legends left out)."""
        parser = _MarkCounter()
        parser.feed(self.dom)
        return parser.items


class _MarkCounter(HTMLParser):
    """Counts the children of <g class="mark-TYPE role-mark ..."> groups in svg.marks."""

    def __init__(self):
        super().__init__()
        self.items: dict[str, int] = {}
        self.stack: list[str | None] = []  # per open <g>: the mark type if a role-mark group
        self.in_svg = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "svg" and "marks" in classes:
            self.in_svg += 1
        if not self.in_svg:
            return
        if self.stack and self.stack[-1] is not None and tag in ("path", "text", "line"):
            self.items[self.stack[-1]] = self.items.get(self.stack[-1], 0) + 1
        if tag == "g":
            kind = None
            if "role-mark" in classes:
                kind = next((c[5:] for c in classes if c.startswith("mark-")), None)
            self.stack.append(kind)

    def handle_endtag(self, tag):
        if tag == "g" and self.in_svg and self.stack:
            self.stack.pop()
        if tag == "svg" and self.in_svg:
            self.in_svg -= 1


def open_page(path: Path, screenshot: Path | None = None) -> Page:
    """Load path from file:// in headless Chromium; return the DOM after scripts ran."""
    with tempfile.TemporaryDirectory(prefix="spotclust-chromium-") as profile:
        args = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom"]
        if screenshot is not None:
            args.append(f"--screenshot={screenshot}")
        done = run_command(
            [*args, path.resolve().as_uri()], env={**os.environ, "HOME": profile}, timeout=90
        )
    console = [m.group("message") for m in CONSOLE.finditer(done.stderr)]
    return Page(done.stdout, console, done.exit_code, done.stderr)


def expected_marks(spec: dict) -> set[str]:
    """The Vega mark types a Vega-Lite spec draws data with."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            mark = node.get("mark")
            kind = mark.get("type") if isinstance(mark, dict) else mark
            if isinstance(kind, str):
                found.add(VEGA_MARK[kind])
                if isinstance(mark, dict) and mark.get("point"):
                    found.add("symbol")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


# --------------------------------------------------------------------------- fixtures


def _write_csv(path: Path) -> Path:
    """A few kinds of track, enough for a 3-cluster run with genres (see test_charts)."""
    import numpy as np

    rng = np.random.default_rng(1)
    kinds = [("metal", 0.3, 0.95, 0.02), ("sleep", 0.15, 0.05, 0.95), ("dance", 0.85, 0.75, 0.1)]
    tracks = []
    for g, (genre, dance, energy, acoustic) in enumerate(kinds):
        for i in range(80 - 20 * g):
            tracks.append(
                {
                    "track_id": f"{genre}{i}",
                    "artists": "A",
                    "album_name": "B",
                    "track_name": f"S{i}",
                    "popularity": int(rng.integers(0, 100)),
                    "duration_ms": int(rng.integers(100_000, 300_000)),
                    "explicit": "False",
                    "danceability": dance + rng.normal(0, 0.02),
                    "energy": energy,
                    "key": int(rng.integers(0, 12)),
                    "loudness": -8 + rng.normal(0, 2),
                    "mode": i % 2,
                    "speechiness": 0.05,
                    "acousticness": acoustic,
                    "instrumentalness": rng.uniform(0, 0.5),
                    "liveness": 0.1,
                    "valence": rng.uniform(0, 1),
                    "tempo": 90 + 30 * g + rng.normal(0, 5),
                    "time_signature": 4,
                    "track_genre": genre if i % 4 else f"{genre}-2",
                }
            )
    return write_tracks_csv(path, tracks)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    target = os.environ.get("SPOTCLUST_SHOTS")
    directory = Path(target) if target else tmp_path_factory.mktemp("shots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """(out dir, {chart name: Vega-Lite spec}): the pages of a real run, written by save_all."""
    base = tmp_path_factory.mktemp("site")
    db = base / "w.duckdb"
    spotclust.ingest(_write_csv(base / "tracks.csv"), db)
    spotclust.cluster(k=3, db=db, n_init=2)
    spotclust.sweep(range(2, 6), db=db, n_init=2)
    out = base / "charts"
    charts.save_all(db, out_dir=out)
    _, built = charts.build_charts(db)
    return out, {entry.name: chart.to_dict() for entry, chart in built}


@pytest.fixture(scope="module")
def rendered(site, shots) -> dict[str, Page]:
    """Every page of the site opened in Chromium (a few at a time), with a screenshot each."""
    out, _ = site
    names = ["index", *(entry.name for entry in charts.CHARTS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = pool.map(lambda n: open_page(out / f"{n}.html", shots / f"{n}.png"), names)
        return dict(zip(names, pages, strict=True))


# --------------------------------------------------------------------------- the checks


def test_the_checks_catch_a_javascript_error(tmp_path):
    page = tmp_path / "throws.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p>drawn</p><script>"
        "setTimeout(() => { throw new Error('deliberate'); }, 50);"
        "</script></body></html>"
    )
    result = open_page(page)
    assert "<p>drawn</p>" in result.dom
    assert any("Uncaught" in m and "deliberate" in m for m in result.console), result.console


def test_the_page_has_no_network(site, tmp_path):
    """A chart page that loads vega-embed from a CDN instead of inlining it draws nothing."""
    out, _ = site
    source = (out / "sizes.html").read_text()
    start = source.index("<script>")
    end = source.index("</script>", start) + len("</script>")
    cdn = '<script src="https://cdn.jsdelivr.net/npm/vega-embed@7"></script>'
    page = tmp_path / "cdn.html"
    page.write_text(
        source[:start]
        + cdn
        + "<script>fetch('https://example.com/').then(() => document.title = 'online',"
        " () => document.title = 'offline');</script>" + source[end:]
    )
    result = open_page(page)
    assert "<title>offline</title>" in result.dom
    assert 'data-rendered="true"' not in result.dom and 'class="marks"' not in result.dom
    assert any("vegaEmbed is not defined" in m for m in result.console), result.console


@pytest.mark.parametrize("name", [entry.name for entry in charts.CHARTS])
def test_every_chart_page_draws_its_chart_offline_without_errors(name, site, rendered, shots):
    page = rendered[name]
    _, specs = site
    assert page.returncode == 0, page.stderr[-2000:]
    assert page.console == [], f"{name}.html logged: {page.console}"
    assert 'data-rendered="true"' in page.dom, f"vega-embed did not finish on {name}.html"
    assert page.dom.count('class="marks"') == 1  # one Vega SVG (renderer svg)
    items = page.items()
    for mark in expected_marks(specs[name]):
        assert items.get(mark, 0) > 0, f"{name}.html drew no {mark} items: {items}"
    assert not re.search(r'<div[^>]*class="error"', page.dom)  # the page's own error box
    assert (shots / f"{name}.png").stat().st_size > 10_000


def test_pca_map_draws_one_square_per_bin(site, rendered):
    _, specs = site
    bins = [ds for ds in specs["pca_map"]["datasets"].values() if ds and "x0" in ds[0]]
    # the bins' rects, plus the legend-free rect items of nothing else
    assert rendered["pca_map"].items()["rect"] == len(bins[0])


def test_index_page_links_to_every_chart(site, rendered, shots):
    out, _ = site
    page = rendered["index"]
    assert page.returncode == 0 and page.console == []
    links = re.findall(r'<a href="([^"]+)">', page.dom)
    assert links == [f"{entry.name}.html" for entry in charts.CHARTS]
    assert all((out / link).is_file() for link in links)
    assert "k = 3" in page.dom
    assert (shots / "index.png").stat().st_size > 10_000
