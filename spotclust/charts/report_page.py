"""A run's report as one self-contained HTML page: the sections of runs/report.py (title,
sentences, table) with a few of the run's charts, and ONE inlined copy of the Vega scripts,
so that the single file works offline from file://.

Every value is escaped (html.escape, as pages.render does); the scripts and specs are made
safe inside <script> by script_json and the bundle's own escaping.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from spotclust.charts.pages import (
    EMBED_OPTIONS,
    Markup,
    _template_text,
    _vega_bundle,
    default_folder,
    render,
)
from spotclust.charts.registry import chart_specs
from spotclust.charts.spec import json_text
from spotclust.errors import ConfigError
from spotclust.whole_file import write_whole

REPORT = "report.html"


def report_charts(db, run_id: int, names: Sequence[str]) -> dict[str, dict]:
    """name -> Vega-Lite spec of each named chart of the run (the latest sweep for the elbow)."""
    _, specs = chart_specs(db, run_id, names=set(names))
    return {entry.name: spec for entry, spec in specs}


def _script_json(value) -> Markup:
    """JSON safe inside <script>: every '<' as \\u003c, so no data (a genre named
    '<script>...') reads as markup there either."""
    return Markup(json_text(value).replace("<", "\\u003c"))


def _escaped(tag: str, text: str) -> str:
    return f"<{tag}>{html.escape(str(text))}</{tag}>"


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return ""
    head = "<tr>" + "".join(_escaped("th", c) for c in columns) + "</tr>"
    body = ["<tr>" + "".join(_escaped("td", v) for v in row) + "</tr>" for row in rows]
    return "<table>\n" + "\n".join([head, *body]) + "\n</table>"


def _section(section, drawn: dict[str, dict]) -> str:
    charts = [
        f'<div class="chart" id="chart-{html.escape(name)}"></div>'
        for name in section.charts
        if name in drawn
    ]
    return render(
        "report_section.html",
        key=section.key,
        title=section.title,
        sentences=Markup("\n".join(_escaped("p", s) for s in section.sentences)),
        table=Markup(_table(section.columns, section.rows)),
        charts=Markup("\n".join(charts)),
    )


def report_page(run: dict, sections: Sequence, specs: dict[str, dict]) -> str:
    """The whole page: every section, then the charts drawn into their places."""
    return render(
        REPORT,
        run_id=run["run_id"],
        k=run["k"],
        style=Markup(_template_text("style.css")),
        bundle=Markup(_vega_bundle()),  # made script-safe when it was built
        sections=Markup("\n".join(_section(s, specs) for s in sections)),
        specs=_script_json({f"chart-{name}": spec for name, spec in specs.items()}),
        options=_script_json(EMBED_OPTIONS),
    )


def write_report(db, run: dict, sections: Sequence, out: str | Path | None = None) -> Path:
    """Write the report (out: a file, or None for report.html in the run's charts folder);
    the charts the sections name and hold no spec for are read here."""
    path = Path(out) if out is not None else default_folder(db, run["run_id"]) / REPORT
    specs = {name: spec for s in sections for name, spec in s.specs.items()}
    missing = [name for s in sections for name in s.charts if name not in specs]
    if missing:
        specs |= report_charts(db, run["run_id"], missing)
    page = report_page(run, sections, specs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {path.parent}: {exc.strerror}; pass --out") from exc
    write_whole(path, lambda partial: partial.write_text(page, "utf-8"), "; pass --out")
    return path
