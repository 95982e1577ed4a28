"""The charts as Altair draws them: each drawing, registered by name with its variants, reads
its values as attributes of v (v.clusters, v.width) and its data from named datasets.

Drawn with a Plan's values, a drawing is the Altair chart (what notebooks and the unit tests
get); drawn with slots for values, it is the chart's template (spec.py), which
`python -m spotclust.charts.authoring` writes to templates/vega-lite/ after a drawing
changes (tests/test_charts.py fails while a template differs from its drawing).

A drawing only places its values: everything computed from the data is computed before, by
the chart's plan (plans/), so that the template holds exactly what the drawing does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import altair as alt
from altair.utils import schemapi

from spotclust.charts.spec import SLOT, TEMPLATES, Plan

DRAWINGS: dict[str, tuple[Callable, tuple[str, ...]]] = {}  # name -> (draw(v, flags), variants)


def drawing(name: str, variants: tuple[str, ...] = ("",)):
    """Register draw(v, flags) as the drawing NAME; a variant is its flags joined by '+'
    ('inertia+silhouette+run_k'), and flags the set of them."""

    def register(draw: Callable) -> Callable:
        DRAWINGS[name] = (draw, variants)
        return draw

    return register


def flags(variant: str) -> frozenset[str]:
    return frozenset(variant.split("+")) - {""}


def _registered() -> dict[str, tuple[Callable, tuple[str, ...]]]:
    """Every drawing: the modules that draw register them when imported."""
    from spotclust.charts import clusters, diagnostics, features, genres, map, selection  # noqa: F401

    return DRAWINGS


def drawings() -> list[str]:
    """The name of every drawing (of every template file)."""
    return sorted(_registered())


def drawn(plan: Plan) -> alt.TopLevelMixin:
    """The plan as an Altair chart, its datasets included."""
    draw, variants = _registered()[plan.drawing]
    if plan.variant not in variants:
        raise ValueError(f"{plan.drawing} has no variant {plan.variant!r}")
    chart = draw(SimpleNamespace(**plan.values), flags(plan.variant))
    chart.datasets = plan.datasets  # set, not validated row by row: rows are data
    return chart


class _Slots:
    """Values that are slots: v.width is {"$slot": "width"}."""

    def __getattr__(self, name: str) -> dict:
        return {SLOT: name}


@contextmanager
def _unchecked():
    """Altair without its schema checks, which a slot (a dict where a number goes) fails."""
    saved = schemapi.SchemaBase.__dict__["validate_property"]
    debug = schemapi.DEBUG_MODE
    schemapi.SchemaBase.validate_property = classmethod(lambda cls, *args, **kwargs: None)
    schemapi.DEBUG_MODE = False
    try:
        yield
    finally:
        schemapi.SchemaBase.validate_property = saved
        schemapi.DEBUG_MODE = debug


def template(name: str) -> dict[str, dict]:
    """{variant: the drawing's Vega-Lite spec with slots for values} of drawing NAME."""
    draw, variants = _registered()[name]
    with _unchecked():
        return {v: draw(_Slots(), flags(v)).to_dict(validate=False) for v in variants}


def template_text(name: str) -> str:
    """The template file of drawing NAME, as written: sorted keys, one level indented."""
    return json.dumps(template(name), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_templates(folder: Path | None = None) -> list[Path]:
    """Write every drawing's template file (default: the package's templates/vega-lite/)."""
    folder = folder or Path(__file__).parent / "templates" / TEMPLATES
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in drawings():
        path = folder / f"{name}.json"
        path.write_text(template_text(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    from spotclust.charts import authoring  # the module the drawings register in, not __main__

    for path in authoring.write_templates():
        print(path)
