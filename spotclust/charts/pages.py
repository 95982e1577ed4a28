"""Writing a run's charts: one page per chart (or a PNG/SVG image) and index.html. The
pages of a run share one copy of the Vega, Vega-Lite and vega-embed scripts (one bundle from
vl-convert), vega-bundle.js beside them, so they render from file:// with no network; a page
written alone (compare's) inlines it instead. A run's pages are filled templates
(registry.chart_specs): writing them imports no Altair.

The HTML is in templates/ (string.Template). Every value is escaped with html.escape, except
Markup: the pages' own fragments, the style sheet, and the scripts, which script_json makes
safe inside <script> (where HTML escaping would break them).
"""

from __future__ import annotations

import functools
import html
import math
import os
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from string import Template

from spotclust.charts.registry import ChartEntry, chart_specs, sweep_specs
from spotclust.charts.spec import json_text, vega_lite_version
from spotclust.errors import ConfigError
from spotclust.warehouse import default_db_path
from spotclust.whole_file import write_whole

FORMATS = ("html", "png", "svg")
EMBED_OPTIONS = {
    "renderer": "svg",  # marks end up in the DOM: accessible, and checkable by the browser test
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}


class Markup(str):
    """Text that is already safe where it goes: never escaped again by render."""


@functools.cache
def _template_text(name: str) -> str:
    return (resources.files("spotclust.charts") / "templates" / name).read_text(encoding="utf-8")


def render(name: str, /, **values) -> str:
    """templates/NAME with its $fields filled; every value escaped unless it is Markup."""
    return Template(_template_text(name)).substitute(
        {k: v if isinstance(v, Markup) else html.escape(str(v)) for k, v in values.items()}
    )


def _fragment(name: str, /, **values) -> str:
    """A one-line template (a table row, a list item) without its file's final newline."""
    return render(name, **values).removesuffix("\n")


@functools.cache
def _vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script.

    vl-convert takes seconds to build it, so it is kept on disk per library version
    (in $XDG_CACHE_HOME/spotclust, or ~/.cache/spotclust) and read back in milliseconds.
    """
    import vl_convert

    vl_version = _vl_version()
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spotclust"
    cached = cache_dir / f"vega-bundle-{vl_version}-vlconvert-{vl_convert.__version__}.js"
    try:
        return cached.read_text()
    except OSError:
        pass
    bundle = vl_convert.javascript_bundle(vl_version=vl_version).replace("</script", "<\\/script")
    try:  # best effort: an unwritable cache only costs the next run its seconds
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(bundle)
        partial.replace(cached)  # atomic: a concurrent reader never sees half a file
    except OSError:
        pass
    return bundle


def _vl_version() -> str:
    """vl-convert's name of the templates' Vega-Lite version: 'v6.4.1' -> 'v6_4'."""
    return "_".join(vega_lite_version().split(".")[:2])


def script_json(value) -> Markup:
    """JSON safe inside a <script> element."""
    text = json_text(value)
    return Markup(text.replace("</", "<\\/").replace("<!--", "<\\!--"))


BUNDLE = "vega-bundle.js"  # the scripts every page of a run's folder loads


def write_bundle(folder: Path) -> Path:
    """folder/vega-bundle.js, written only when it is missing or holds another bundle."""
    path, bundle = folder / BUNDLE, _vega_bundle()
    try:
        if path.stat().st_size == len(bundle.encode()) and path.read_text("utf-8") == bundle:
            return path
    except (OSError, UnicodeDecodeError):
        pass  # missing or unreadable: write it
    write_whole(path, lambda partial: partial.write_text(bundle, "utf-8"), "; pass --out")
    return path


def _encodings(spec: dict, channel: str) -> list[dict]:
    """The channel's field encodings in a single view and in its layers."""
    views = [spec, *(v for v in spec.get("layer", []) if isinstance(v, dict))]
    found = [(v.get("encoding") or {}).get(channel) for v in views]
    return [e for e in found if isinstance(e, dict) and "field" in e]


def _fixed_height(spec: dict) -> int | float | None:
    """The height in pixels: a number as it is, a step times the categories its y sorts by,
    None when unknown (Vega-Lite cannot fit the width of a chart with a step height)."""
    height = spec.get("height")
    if isinstance(height, int | float):
        return height
    step = height.get("step") if isinstance(height, dict) else None
    sorts = [e["sort"] for e in _encodings(spec, "y") if isinstance(e.get("sort"), list)]
    if not isinstance(step, int | float) or not sorts:
        return None
    return step * max(len(s) for s in sorts)


def responsive(spec: dict) -> dict:
    """The spec with the width of the page where the chart allows it: a single view (or layer)
    whose x is continuous, or that has no x field, fills its container ('container' width,
    autosize fit-x). Heatmaps, facets and side-by-side panels keep their widths: the page
    wraps and scales them (chart.html)."""
    composite = {"facet", "hconcat", "vconcat", "concat", "repeat"} & spec.keys()
    if composite or not isinstance(spec.get("width"), int | float):
        return spec
    if {e.get("type", "quantitative") for e in _encodings(spec, "x")} - {
        "quantitative",
        "temporal",
    }:
        return spec
    height = _fixed_height(spec)
    if height is None:
        return spec
    fit = {"type": "fit-x", "contains": "padding"}
    return {**spec, "width": "container", "height": height, "autosize": fit}


def chart_page(
    chart,
    title: str,
    caption: str,
    run_id: int,
    *,
    bundle: str | None = None,
    back: tuple[str, str] | None = ("index.html", "all charts of run {run_id}"),
) -> str:
    """A complete HTML page for one chart (its Vega-Lite spec, or an Altair chart).

    bundle: the relative URL of the scripts (write_bundle), or None to inline them (a page
    that works alone). back: (href, text) of the link at the top, None for no link.
    """
    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    libraries = (
        _fragment("chart_libraries_file.html", src=bundle)
        if bundle is not None
        else render("chart_libraries_inline.html", bundle=Markup(_vega_bundle()))
    )  # the inline bundle was made script-safe when it was built
    nav = (
        _fragment("chart_nav.html", href=back[0], text=back[1].format(run_id=run_id))
        if back is not None
        else ""
    )
    return render(
        "chart.html",
        title=title,
        caption=caption,
        run_id=run_id,
        style=Markup(_template_text("style.css")),
        libraries=Markup(libraries),
        nav=Markup(nav),
        spec=script_json(responsive(spec)),
        options=script_json(EMBED_OPTIONS),
    )


def _format_value(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _silhouette_fact(run: dict) -> str:
    silhouette = _format_value(run.get("silhouette"))
    if run.get("silhouette_method") == "sampled":
        return silhouette + (
            f" (sampled from {_format_value(run.get('silhouette_sample_size'))} rows, 95% CI "
            f"{_format_value(run.get('silhouette_ci_low'))}.."
            f"{_format_value(run.get('silhouette_ci_high'))})"
        )
    return silhouette + f" ({run.get('silhouette_method')})"


def _run_facts(run: dict) -> list[tuple[str, str]]:
    pca = run.get("pca_components")
    explained = run.get("explained_variance")
    features = run.get("features") or []
    return [
        ("run", f"{run['run_id']}"),
        ("date", _format_value(run.get("created_at"))),
        ("k", _format_value(run.get("k"))),
        ("features", f"{len(features)}: {', '.join(features)}"),
        ("rows", f"{_format_value(run.get('rows_used'))} ({run.get('row_rule')})"),
        (
            "model",
            f"{run.get('algorithm')}, "
            + (f"on {pca} PCA components" if pca else "on the scaled features (no PCA)")
            + (f" keeping {explained:.1%} of the variance" if explained else "")
            + f", seed {run.get('seed')}, n_init {run.get('n_init')}",
        ),
        ("silhouette", _silhouette_fact(run)),
        ("Calinski-Harabasz", _format_value(run.get("calinski_harabasz"))),
        ("Davies-Bouldin", _format_value(run.get("davies_bouldin"))),
        ("inertia", _format_value(run.get("inertia"))),
        (
            "agreement with genres",
            f"adjusted Rand {_format_value(run.get('adjusted_rand'))}, NMI "
            f"{_format_value(run.get('normalized_mutual_info'))}, purity "
            f"{_format_value(run.get('purity'))}",
        ),
        ("spotclust", _format_value(run.get("spotclust_version"))),
    ]


def _link_item(entry: ChartEntry, filename: str, fmt: str) -> str:
    """The index's list item for one page: a link, its caption and, for images, a preview."""
    preview = (
        Markup(_fragment("index_preview.html", src=filename, alt=entry.title))
        if fmt in ("png", "svg")
        else ""
    )
    return _fragment(
        "index_link.html", href=filename, title=entry.title, caption=entry.caption, preview=preview
    )


def index_page(run: dict, pages: Sequence[tuple[ChartEntry, str]], fmt: str = "html") -> str:
    """index.html: the run's metadata and a link (with a caption) to every chart page."""
    facts = [_fragment("index_fact.html", name=k, value=v) for k, v in _run_facts(run)]
    clusters = [
        _fragment(
            "index_cluster.html",
            cluster=c,
            size=f"{size:,}",
            share=f"{share:.1%}",
            label=label or "",
        )
        for c, size, share, label in run.get("clusters", [])
    ]
    links = [_link_item(entry, filename, fmt) for entry, filename in pages]
    return render(
        "index.html",
        run_id=run["run_id"],
        k=run["k"],
        style=Markup(_template_text("style.css")),
        facts=Markup("\n".join(facts)),
        clusters=Markup("\n".join(clusters)),
        links=Markup("\n".join(links)),
    )


def _write_chart(spec: dict, entry: ChartEntry, path: Path, fmt: str, run_id: int) -> None:
    def write(partial: Path) -> None:
        if fmt == "html":
            page = chart_page(spec, entry.title, entry.caption, run_id, bundle=BUNDLE)
            partial.write_text(page, encoding="utf-8")
        else:
            import vl_convert

            if fmt == "svg":
                svg = vl_convert.vegalite_to_svg(spec, vl_version=_vl_version())
                partial.write_text(svg, encoding="utf-8")
            else:
                png = vl_convert.vegalite_to_png(spec, vl_version=_vl_version(), scale=2)
                partial.write_bytes(png)

    write_whole(path, write, "; pass --out")


CHARTS_ROOT = Path("charts")  # relative: beside where the command runs


def default_folder(db: str | Path | None, run_id: int) -> Path:
    """charts/<the warehouse file's stem>/run-<id>/: a folder per warehouse and run, so that
    the pages of two warehouses, or of two runs, never overwrite each other."""
    return _warehouse_folder(db) / f"run-{run_id}"


def _warehouse_folder(db: str | Path | None) -> Path:
    return CHARTS_ROOT / Path(db if db is not None else default_db_path()).stem


def save_all(
    db: str | Path | None = None,
    run_id: int | None = None,
    out_dir: str | Path | None = None,
    fmt: str = "html",
    sweep_id: int | None = None,
) -> Path:
    """Write every chart of a run (latest when run_id is None) and index.html; return its path.

    out_dir: where (None: default_folder). fmt: 'html' (pages sharing vega-bundle.js), 'png'
    or 'svg' (static images, for reports). sweep_id: the sweep the elbow and stability charts draw
    (None: the latest).
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: use one of {', '.join(FORMATS)}")
    run, specs = chart_specs(db, run_id, sweep_id)
    out = Path(out_dir) if out_dir is not None else default_folder(db, run["run_id"])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out}: {exc.strerror}; pass --out") from exc
    if fmt == "html":
        write_bundle(out)
    pages = []
    for entry, spec in specs:
        filename = f"{entry.name}.{fmt}"
        _write_chart(spec, entry, out / filename, fmt, run["run_id"])
        pages.append((entry, filename))
    index = out / "index.html"
    page = index_page(run, pages, fmt)
    write_whole(index, lambda partial: partial.write_text(page, "utf-8"), "; pass --out")
    return index


def refresh_sweep_pages(
    db: str | Path | None, sweep_id: int, out_dir: str | Path | None = None
) -> list[Path]:
    """Rewrite the latest run's elbow and stability pages, drawing sweep_id, where they were
    written (in out_dir, or in the run's default_folder), in the format they were written in
    -> the pages rewritten: none when there is no run, no such page, or the run clustered
    other data than the warehouse holds now."""
    if out_dir is None and not _warehouse_folder(db).is_dir():
        return []  # no page of this warehouse anywhere: no need to open it
    drawn = sweep_specs(db, sweep_id)
    if drawn is None:
        return []
    run, specs = drawn
    out = Path(out_dir) if out_dir is not None else default_folder(db, run["run_id"])
    written = []
    for entry, spec in specs:
        for fmt in FORMATS:
            if (out / f"{entry.name}.{fmt}").is_file():
                if fmt == "html":
                    write_bundle(out)  # pages written before the bundle was shared
                _write_chart(spec, entry, out / f"{entry.name}.{fmt}", fmt, run["run_id"])
                written.append(out / f"{entry.name}.{fmt}")
    return written
