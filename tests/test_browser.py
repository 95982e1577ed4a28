"""The chart pages in a real browser: Debian's Chromium, headless, with no network.

Each page is opened from file:// with every request sent to a dead proxy (even loopback), so
a page that needed the network would fail. A page passes when vega-embed finished
(body[data-rendered]), the DOM holds the Vega SVG with items of every mark the chart's spec
asks for, and the browser logged nothing to the console: any console message, and any
uncaught exception (which Chromium logs as "Uncaught ..."), fails it. Two control pages
prove the checks work: one throws, one needs a CDN.

Every page is opened at 1400, 900 and 600 px: at each width nothing may be wider than the
window (no horizontal scrolling, every chart's SVG inside it) and no view of a chart may be
empty. A copy of each page with a probe script (PROBE) records those measurements in the DOM.

Chromium is not downloaded here: .ci/run installs Debian's package when it is missing. The
tests skip without it, except on CI (CI=true), where they fail.

Screenshots (NAME-WIDTH.png) of index.html and every chart at every width go to
$SPOTCLUST_SHOTS when set, else to a pytest temporary directory; never into the repository.
"""

from __future__ import annotations

import html
import json
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
WIDTHS = (1400, 900, 600)  # a desktop window, a small laptop's half, a phone on its side

# Appended to a copy of a page: once the chart is drawn (body[data-rendered]; at once on a
# page without one), writes what the layout checks need as JSON in <pre id="probe">.
PROBE = r"""<script>
(function () {
  function measure() {
    const width = window.innerWidth;
    const outside = [];
    for (const el of document.querySelectorAll(".vega-embed svg, .vega-embed canvas")) {
      const box = el.getBoundingClientRect();
      if (box.left < -0.5 || box.right > width + 0.5) outside.push([el.tagName, box.right]);
    }
    // the views: the items of Vega-Lite's facet cells and concat groups, else the root frame
    const panels = [...document.querySelectorAll("svg.marks g.role-scope")].filter((g) =>
      /(^| )(cell|concat_[0-9]+_group)( |$)/.test(g.getAttribute("class")));
    let views = panels.flatMap((g) => [...g.children].filter((c) => c.tagName === "g"));
    if (!views.length) views = [...document.querySelectorAll("svg.marks g.role-frame")];
    const empty = [];
    for (const view of views) {
      if (!view.querySelector("g.role-mark > *")) empty.push(view.getAttribute("class"));
    }
    // any element reaching past the window's right edge (tag#id.class, its right edge)
    const wide = [...document.body.querySelectorAll("*")]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .map((el) => [el.tagName + (el.id ? "#" + el.id : ""), el.getBoundingClientRect().right]);
    const svg = document.querySelector("svg.marks");
    // a view's place in its grid: the x of its translate (its box varies with its labels)
    const gridX = (v) => (/translate\(([^,]*)/.exec(v.getAttribute("transform")) || [])[1];
    const probe = document.createElement("pre");
    probe.id = "probe";
    probe.hidden = true; // in the DOM dump, not in the screenshot
    probe.textContent = JSON.stringify({
      innerWidth: width,
      scrollWidth: document.documentElement.scrollWidth,
      scrollHeight: document.documentElement.scrollHeight,
      outside: outside,
      wide: wide,
      empty: empty,
      views: views.length,
      columns: new Set(views.map(gridX)).size,
      drawnWidth: svg ? Number(svg.getAttribute("width")) : null,
      shownWidth: svg ? svg.getBoundingClientRect().width : null,
    });
    document.body.appendChild(probe);
  }
  function wait() {
    // a chart page (#vis) or the report (.chart places) waits for vega-embed to finish
    if (!document.querySelector("#vis, .chart") || document.body.dataset.rendered) measure();
    else setTimeout(wait, 50);
  }
  window.addEventListener("load", wait);
})();
</script>"""
PROBED = re.compile(r'<pre id="probe"[^>]*>(.*?)</pre>', re.S)


@dataclass
class Page:
    dom: str
    console: list[str]  # every console message, exceptions included
    returncode: int
    stderr: str

    def layout(self) -> dict:
        """The probe's measurements (see PROBE)."""
        found = PROBED.search(self.dom)
        assert found, f"the probe did not run: {self.console}"
        return json.loads(html.unescape(found.group(1)))

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


def open_page(
    path: Path, screenshot: Path | None = None, width: int = 1280, height: int = 1000
) -> Page:
    """Load path from file:// in headless Chromium, in a window width x height px; return the
    DOM after scripts ran (the screenshot shows the window: height px of the page)."""
    with tempfile.TemporaryDirectory(prefix="spotclust-chromium-") as profile:
        args = [CHROMIUM, *FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"]
        args.append("--dump-dom")
        if screenshot is not None:
            args.append(f"--screenshot={screenshot}")
        done = run_command(
            [*args, path.resolve().as_uri()], env={**os.environ, "HOME": profile}, timeout=90
        )
    console = [m.group("message") for m in CONSOLE.finditer(done.stderr)]
    return Page(done.stdout, console, done.exit_code, done.stderr)


def open_probed(path: Path, width: int, screenshot: Path | None = None, height: int = 1000) -> Page:
    """open_page on a copy of path (beside it, so its relative links work) with PROBE."""
    probed = path.with_name(f".probe-{width}-{path.name}")
    head, end, tail = path.read_text().rpartition("</body>")  # the last: scripts hold others
    probed.write_text(head + PROBE + "\n" + end + tail)
    try:
        return open_page(probed, screenshot, width, height)
    finally:
        probed.unlink()


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


NAMES = ["index", *(entry.name for entry in charts.CHARTS)]


@pytest.fixture(scope="module")
def rendered(site, shots) -> dict[tuple[str, int], Page]:
    """{(name, width): page}: every page of the site opened in Chromium at every width (a few
    at a time), with a screenshot each."""
    out, _ = site
    keys = [(name, width) for width in WIDTHS for name in NAMES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = pool.map(
            lambda key: open_probed(
                out / f"{key[0]}.html", key[1], shots / f"{key[0]}-{key[1]}.png"
            ),
            keys,
        )
        return dict(zip(keys, pages, strict=True))


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
    """A chart page that loads vega-embed from a CDN instead of the bundle beside it draws
    nothing."""
    out, _ = site
    source = (out / "sizes.html").read_text()
    local = f'<script src="{charts.pages.BUNDLE}"></script>'
    assert source.count(local) == 1
    cdn = '<script src="https://cdn.jsdelivr.net/npm/vega-embed@7"></script>'
    page = out / "cdn.html"  # beside the bundle: only the CDN keeps it from drawing
    page.write_text(
        source.replace(
            local,
            cdn + "<script>fetch('https://example.com/').then(() => document.title = 'online',"
            " () => document.title = 'offline');</script>",
        )
    )
    try:
        result = open_page(page)
    finally:
        page.unlink()
    assert "<title>offline</title>" in result.dom
    assert 'data-rendered="true"' not in result.dom and 'class="marks"' not in result.dom
    assert any("vegaEmbed is not defined" in m for m in result.console), result.console


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", [entry.name for entry in charts.CHARTS])
def test_every_chart_page_draws_its_chart_offline_without_errors(
    name, width, site, rendered, shots
):
    page = rendered[name, width]
    _, specs = site
    assert page.returncode == 0, page.stderr[-2000:]
    assert page.console == [], f"{name}.html logged: {page.console}"
    assert 'data-rendered="true"' in page.dom, f"vega-embed did not finish on {name}.html"
    assert page.dom.count('class="marks"') == 1  # one Vega SVG (renderer svg)
    items = page.items()
    for mark in expected_marks(specs[name]):
        assert items.get(mark, 0) > 0, f"{name}.html drew no {mark} items: {items}"
    assert not re.search(r'<div[^>]*class="error"', page.dom)  # the page's own error box
    assert (shots / f"{name}-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", NAMES)
def test_every_page_fits_the_window_and_has_no_empty_view(name, width, rendered):
    layout = rendered[name, width].layout()
    assert layout["innerWidth"] == width
    assert layout["scrollWidth"] <= width, f"{name}.html scrolls sideways at {width} px"
    assert layout["outside"] == [], f"{name}.html at {width} px: {layout}"
    assert layout["empty"] == [], f"{name}.html at {width} px has empty views: {layout}"
    assert (layout["views"] > 0) == (name != "index")


# side-by-side panels and facets -> their columns in a wide window (this site: 3 clusters)
PANELS = {"elbow": 2, "top_genres": 3, "pca_loadings": 2}  # (stability: no gap, 1 panel)


@pytest.mark.parametrize("name", PANELS)
def test_panels_wrap_into_fewer_columns_in_a_narrow_window(name, rendered):
    columns = [rendered[name, width].layout()["columns"] for width in WIDTHS]
    assert columns[0] == PANELS[name]
    assert columns[-1] == 1 and columns == sorted(columns, reverse=True), columns


def test_single_views_fill_the_window(rendered):
    for width in WIDTHS:
        for name in ("pca_map", "sizes"):
            layout = rendered[name, width].layout()
            room = min(width - 2 * 32, 1200) - 38  # style.css's margins, the actions menu
            assert layout["drawnWidth"] > room - 50, (name, width, layout)


def test_pca_map_draws_one_square_per_bin(site, rendered):
    _, specs = site
    bins = [ds for ds in specs["pca_map"]["datasets"].values() if ds and "x0" in ds[0]]
    # the bins' rects, plus the legend-free rect items of nothing else
    assert rendered["pca_map", WIDTHS[0]].items()["rect"] == len(bins[0])


def test_index_page_links_to_every_chart(site, rendered, shots):
    out, _ = site
    page = rendered["index", WIDTHS[0]]
    assert page.returncode == 0 and page.console == []
    links = re.findall(r'<a href="([^"]+)">', page.dom)
    assert links == [f"{entry.name}.html" for entry in charts.CHARTS]
    assert all((out / link).is_file() for link in links)
    assert "k = 3" in page.dom
    assert (shots / f"index-{WIDTHS[0]}.png").stat().st_size > 10_000


def test_every_chart_page_links_back_to_an_index_that_exists(site):
    out, _ = site
    for entry in charts.CHARTS:
        links = re.findall(r'<a href="([^"]+)">', (out / f"{entry.name}.html").read_text())
        assert links == ["index.html"] and (out / "index.html").is_file()


@pytest.mark.parametrize("beside_index", [False, True], ids=["alone", "in-run-folder"])
def test_the_compare_page_works_alone_and_links_back_only_to_an_index_beside_it(
    site, tmp_path, beside_index
):
    out, _ = site
    folder = out if beside_index else tmp_path / "elsewhere"
    page_path = folder / "compare_1_1.html"
    try:
        spotclust.compare_chart(spotclust.compare(1, 1, out.parent / "w.duckdb"), page_path)
        source = page_path.read_text()
        links = re.findall(r'<a href="([^"]+)">', source)
        assert links == (["index.html"] if beside_index else [])
        assert "<script src" not in source  # works alone: the libraries are inside
        page = open_probed(page_path, 600)
    finally:
        page_path.unlink(missing_ok=True)
    assert page.console == [] and 'data-rendered="true"' in page.dom
    layout = page.layout()
    assert layout["scrollWidth"] <= 600 and layout["outside"] == [] and layout["empty"] == []
