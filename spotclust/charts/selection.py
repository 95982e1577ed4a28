"""Charts for choosing k from a sweep: elbow and silhouette, stability and gap statistic.

Both draw metrics against k in panels that share the k axis, the dashed k of the run, and
the circled and named k that a rule picked; _SweepPanels holds what they share.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt

from spotclust.charts import theme
from spotclust.charts.authoring import drawing, drawn
from spotclust.charts.plans import selection as plan
from spotclust.charts.plans.selection import GAP, RUN_K, STABILITY, in_sweep  # noqa: F401

ELBOW_FLAGS = {"is_knee": "knee", "is_best_silhouette": "best silhouette"}
ELBOW_TITLES = {
    "inertia": "Elbow: inertia (within-cluster sum of squares) by k",
    "silhouette": "Silhouette by k (higher is better)",
}
STABILITY_AXIS = "adjusted Rand between resamples (0 to 1)"


@drawing("message")
def draw_message(v, flags) -> alt.Chart:
    return theme.finish(
        alt.Chart(alt.NamedData("message"))
        .mark_text(align="left", fontSize=20)
        .encode(
            x=alt.value(20),
            y=alt.Y("n:O", axis=None),
            text="line:N",
            tooltip=[alt.Tooltip("line:N", title="to do")],
        )
        .properties(width=theme.WIDTH, height=v.height, title=v.title)
    )


def message_chart(lines: list[str], height: int, title) -> alt.Chart:
    """A page that says what to run instead of an empty chart (one text line per row)."""
    return drawn(plan.message(lines, height, title))


@dataclass(frozen=True)
class _SweepPanels:
    """What the panels of one chart against k share."""

    x: alt.X
    series: alt.Color  # the colour of each named series, with the legend
    tooltip: list[alt.Tooltip]
    run_k: bool  # whether the k of the run is drawn (a dashed rule)

    def marked_line(self, base: alt.Chart, y, flag: str, flag_name: str, mark_y=None) -> list:
        """The line with its points, and the k where flag is set circled and named.

        mark_y: the y of the circle and the name, when not the line's."""
        mark_y = y if mark_y is None else mark_y
        flagged = base.transform_filter(f"datum.{flag}")
        return [
            base.mark_line(point=alt.OverlayMarkDef(size=70, filled=True)).encode(
                x=self.x, y=y, color=self.series, tooltip=self.tooltip
            ),
            flagged.mark_point(
                size=260, shape="circle", filled=False, strokeWidth=2.5, color="black"
            ).encode(x=self.x, y=mark_y, tooltip=self.tooltip),
            flagged.transform_calculate(what=f"'{flag_name} (k = ' + datum.k + ')'")
            .mark_text(align="left", dx=10, dy=-14, fontSize=12, fontWeight="bold")
            .encode(x=self.x, y=mark_y, text="what:N"),
        ]

    def panel(self, layers: list) -> alt.LayerChart:
        """The layers, under the dashed k of the run when it is drawn."""
        if self.run_k:
            rule = (
                alt.Chart(alt.NamedData("run_k"))
                .mark_rule(strokeDash=[5, 4], strokeWidth=1.5)
                .encode(x=self.x, color=self.series, tooltip=[alt.Tooltip("k:Q", title=RUN_K)])
            )
            layers = [rule, *layers]
        return alt.layer(*layers)


def _k_axis(v) -> alt.X:
    """x: every k of the sweep, as whole numbers."""
    return alt.X(
        "k:Q",
        title="k (number of clusters)",
        scale=alt.Scale(domain=v.k_domain),
        axis=alt.Axis(values=v.ks, format="d"),
    )


def _series(v) -> alt.Color:
    return alt.Color(
        "series:N",
        scale=alt.Scale(domain=v.series_domain, range=v.series_range),
        legend=alt.Legend(title=None, orient="top"),
    )


def _elbow_panel(
    shared: _SweepPanels, field: str, axis_title: str, flag: str, fmt: str
) -> alt.LayerChart:
    """field against k; the series is named after the field."""
    base = alt.Chart(alt.NamedData("sweep")).transform_calculate(series=f"'{field}'")
    y = alt.Y(
        f"{field}:Q", title=axis_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=fmt)
    )
    layers = shared.marked_line(base, y, flag, ELBOW_FLAGS[flag], mark_y=f"{field}:Q")
    return shared.panel(layers).properties(
        width=430,
        height=360,
        title=alt.TitleParams(ELBOW_TITLES[field], fontSize=14, anchor="start"),
    )


ELBOW_VARIANTS = ("inertia", "inertia+run_k", "inertia+silhouette", "inertia+silhouette+run_k")


@drawing("elbow", variants=ELBOW_VARIANTS)
def draw_elbow(v, flags):
    shared = _SweepPanels(
        x=_k_axis(v),
        series=_series(v),
        tooltip=[
            alt.Tooltip("k:O", title="k"),
            alt.Tooltip("inertia:Q", title="inertia", format=",.0f"),
            alt.Tooltip("silhouette:Q", title="silhouette", format=".4f"),
            alt.Tooltip("calinski_harabasz:Q", title="Calinski-Harabasz", format=",.0f"),
            alt.Tooltip("davies_bouldin:Q", title="Davies-Bouldin", format=".3f"),
            alt.Tooltip("marks:N", title="marked as"),
        ],
        run_k="run_k" in flags,
    )
    inertia = _elbow_panel(
        shared, "inertia", "inertia (squared standardised units)", "is_knee", "~s"
    )
    if "silhouette" not in flags:
        return theme.finish(inertia.properties(title=v.title))
    silhouette = _elbow_panel(
        shared, "silhouette", "silhouette (-1 to 1)", "is_best_silhouette", ".3f"
    )
    return theme.finish(alt.hconcat(inertia, silhouette, spacing=40).properties(title=v.title))


def elbow_chart(data: theme.Data, run_k: int | None = None) -> alt.HConcatChart | alt.Chart:
    """Inertia and silhouette against k from a sweep, knee and best silhouette marked.

    data: k, inertia, silhouette, calinski_harabasz, davies_bouldin, is_knee,
    is_best_silhouette, sweep_id, rows_used (see elbow_data). With no rows, a page that says
    how to make a sweep.
    """
    return drawn(plan.elbow(data, run_k))


def _bar_panel(
    shared: _SweepPanels,
    field: str,
    name: str,
    axis_title: str,
    flag: str,
    flag_name: str,
    extra: tuple = (),
) -> alt.LayerChart:
    """field against k with field_low..field_high as a bar, where it was measured."""
    base = (
        alt.Chart(alt.NamedData("sweep"))
        .transform_filter(f"isValid(datum.{field})")
        .transform_calculate(series=f"'{name}'")
    )
    bar = base.mark_rule(strokeWidth=2).encode(
        x=shared.x,
        y=alt.Y(f"{field}_low:Q", title=axis_title),
        y2=f"{field}_high:Q",
        color=shared.series,
        tooltip=shared.tooltip,
    )
    y = alt.Y(f"{field}:Q", title=axis_title, scale=alt.Scale(zero=False))
    layers = [*extra, bar, *shared.marked_line(base, y, flag, flag_name)]
    return shared.panel(layers).properties(width=430, height=360)


def _threshold_rule(shared: _SweepPanels) -> alt.Chart:
    """The dashed line from which the suggestion counts a k as stable."""
    return (
        alt.Chart(alt.NamedData("threshold"))
        .mark_rule(strokeDash=[6, 4])
        .encode(
            y=alt.Y("stable:Q", title=STABILITY_AXIS),
            color=shared.series,
            tooltip=[alt.Tooltip("stable:Q", title="stable from")],
        )
    )


STABILITY_VARIANTS = tuple(
    "+".join(panels + run_k)
    for panels in (["stability"], ["gap"], ["stability", "gap"])
    for run_k in ([], ["run_k"])
)


@drawing("stability", variants=STABILITY_VARIANTS)
def draw_stability(v, flags):
    shared = _SweepPanels(
        x=_k_axis(v),
        series=_series(v),
        tooltip=[
            alt.Tooltip("k:O", title="k"),
            alt.Tooltip("stability_mean:Q", title="stability (mean ARI)", format=".3f"),
            alt.Tooltip("stability_std:Q", title="stability std", format=".3f"),
            alt.Tooltip("gap:Q", title="gap", format=".3f"),
            alt.Tooltip("gap_se:Q", title="gap s_k", format=".3f"),
        ],
        run_k="run_k" in flags,
    )
    panels = []
    if "stability" in flags:
        stability = ("stability_mean", STABILITY, STABILITY_AXIS, "is_suggested", "suggested")
        panels.append(_bar_panel(shared, *stability, (_threshold_rule(shared),)))
    if "gap" in flags:
        gap = ("gap", GAP, "gap statistic (log units)", "is_gap_choice", "gap rule")
        panels.append(_bar_panel(shared, *gap))
    return theme.finish(alt.hconcat(*panels, spacing=40).properties(title=v.title))


def stability_chart(data: theme.Data, run_k: int | None = None, stable: float = 0.8):
    """Stability (mean adjusted Rand between resamples, ± std) and, when measured, the gap
    statistic (± s_k) against k; the suggested k and the gap rule's k circled.

    data: k, stability_mean, stability_std, gap, gap_se, is_suggested, is_gap_choice,
    sweep_id, suggestion_reason, ... (see stability_data). stable: the threshold the
    suggestion uses (model.selection.STABLE_ARI), drawn as a dashed line.
    """
    return drawn(plan.stability(data, run_k, stable))
