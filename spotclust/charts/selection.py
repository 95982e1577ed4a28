"""Charts for choosing k from a sweep: elbow and silhouette, stability and gap statistic.

Both draw metrics against k in panels that share the k axis, the dashed k of the run, and
the circled and named k that a rule picked; _SweepPanels holds what they share.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import polars as pl

from spotclust.charts import theme

ELBOW_FLAGS = {"is_knee": "knee", "is_best_silhouette": "best silhouette"}
ELBOW_TITLES = {
    "inertia": "Elbow: inertia (within-cluster sum of squares) by k",
    "silhouette": "Silhouette by k (higher is better)",
}
RUN_K = "k of this run"


def message_chart(lines: list[str], height: int, title) -> alt.Chart:
    """A page that says what to run instead of an empty chart (one text line per row)."""
    message = alt.Chart(pl.DataFrame({"line": lines, "n": list(range(len(lines)))}))
    return theme.finish(
        message.mark_text(align="left", fontSize=20)
        .encode(
            x=alt.value(20),
            y=alt.Y("n:O", axis=None),
            text="line:N",
            tooltip=[alt.Tooltip("line:N", title="to do")],
        )
        .properties(width=theme.WIDTH, height=height, title=title)
    )


def k_axis(ks: list[int]) -> alt.X:
    """x: every k of the sweep, as whole numbers."""
    return alt.X(
        "k:Q",
        title="k (number of clusters)",
        scale=alt.Scale(domain=[min(ks), max(ks)]),
        axis=alt.Axis(values=ks, format="d"),
    )


def in_sweep(run_k: int | None, ks: list[int]) -> bool:
    """Whether the run's k is drawn: only inside the sweep's range of k."""
    return run_k is not None and min(ks) <= run_k <= max(ks)


@dataclass(frozen=True)
class _SweepPanels:
    """What the panels of one chart against k share."""

    x: alt.X
    series: alt.Color  # the colour of each named series, with the legend
    tooltip: list[alt.Tooltip]
    run_k: int | None  # drawn as a dashed rule; None when it is not drawn

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
        if self.run_k is not None:
            rule = (
                alt.Chart(pl.DataFrame({"k": [self.run_k], "series": [RUN_K]}))
                .mark_rule(strokeDash=[5, 4], strokeWidth=1.5)
                .encode(x=self.x, color=self.series, tooltip=[alt.Tooltip("k:Q", title=RUN_K)])
            )
            layers = [rule, *layers]
        return alt.layer(*layers)


def _with_marks(frame: pl.DataFrame) -> pl.DataFrame:
    """A 'marks' column naming what each k is marked as, for the tooltip."""
    return frame.with_columns(
        pl.when(pl.col("is_knee") & pl.col("is_best_silhouette"))
        .then(pl.lit("knee of inertia, best silhouette"))
        .when(pl.col("is_knee"))
        .then(pl.lit("knee of inertia"))
        .when(pl.col("is_best_silhouette"))
        .then(pl.lit("best silhouette"))
        .otherwise(pl.lit("-"))
        .alias("marks"),
    )


def _elbow_panel(
    shared: _SweepPanels, frame: pl.DataFrame, field: str, axis_title: str, flag: str, fmt: str
) -> alt.LayerChart:
    """field against k; the series is named after the field."""
    base = alt.Chart(frame).transform_calculate(series=f"'{field}'")
    y = alt.Y(
        f"{field}:Q", title=axis_title, scale=alt.Scale(zero=False), axis=alt.Axis(format=fmt)
    )
    layers = shared.marked_line(base, y, flag, ELBOW_FLAGS[flag], mark_y=f"{field}:Q")
    return shared.panel(layers).properties(
        width=430,
        height=360,
        title=alt.TitleParams(ELBOW_TITLES[field], fontSize=14, anchor="start"),
    )


def _elbow_subtitle(frame: pl.DataFrame) -> str:
    sweep_id = frame["sweep_id"][0] if "sweep_id" in frame.columns else "?"
    rows = frame["rows_used"][0] if "rows_used" in frame.columns else None
    methods = (
        ", ".join(sorted(set(frame["silhouette_method"].to_list())))
        if "silhouette_method" in frame.columns
        else "?"
    )
    return (
        f"Sweep {sweep_id}"
        + (f" over {rows:,} rows" if rows else "")
        + f" (silhouette {methods}). Circled: the knee of the inertia curve and the "
        "k with the best silhouette; dashed: the k of this run."
    )


_ELBOW_COLOURS = {"inertia": "#4c78a8", "silhouette": "#e45756", RUN_K: "#888"}


def elbow_chart(data: theme.Data, run_k: int | None = None) -> alt.HConcatChart | alt.Chart:
    """Inertia and silhouette against k from a sweep, knee and best silhouette marked.

    data: k, inertia, silhouette, calinski_harabasz, davies_bouldin, is_knee,
    is_best_silhouette, sweep_id, rows_used (see elbow_data). With no rows, a page that says
    how to make a sweep.
    """
    frame = theme.as_frame(data)
    if frame.height == 0:
        return message_chart(
            [
                "No sweep yet.",
                "Run: spotclust sweep --k 2..12,",
                "then: spotclust charts, to draw the elbow",
                "and silhouette curves.",
            ],
            height=200,
            title=theme.title(
                "Elbow and silhouette against k",
                "There is no sweep in this warehouse: run spotclust sweep to make one.",
            ),
        )
    frame = _with_marks(frame)
    ks = frame["k"].to_list()
    # A sweep without silhouette draws the inertia panel alone and says why, never an empty
    # grid with a silhouette legend.
    scored = frame["silhouette"].drop_nulls().len() > 0
    domain = ["inertia", "silhouette", RUN_K] if scored else ["inertia", RUN_K]
    shared = _SweepPanels(
        x=k_axis(ks),
        series=alt.Color(
            "series:N",
            scale=alt.Scale(domain=domain, range=[_ELBOW_COLOURS[name] for name in domain]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        tooltip=[
            alt.Tooltip("k:O", title="k"),
            alt.Tooltip("inertia:Q", title="inertia", format=",.0f"),
            alt.Tooltip("silhouette:Q", title="silhouette", format=".4f"),
            alt.Tooltip("calinski_harabasz:Q", title="Calinski-Harabasz", format=",.0f"),
            alt.Tooltip("davies_bouldin:Q", title="Davies-Bouldin", format=".3f"),
            alt.Tooltip("marks:N", title="marked as"),
        ],
        run_k=run_k if in_sweep(run_k, ks) else None,
    )
    inertia = _elbow_panel(
        shared, frame, "inertia", "inertia (squared standardised units)", "is_knee", "~s"
    )
    if not scored:
        why = "This sweep did not score silhouette (--no-silhouette); sweep again without it."
        chart = inertia.properties(
            title=theme.title("Choosing k: the elbow", [_elbow_subtitle(frame), why])
        )
        return theme.finish(chart)
    chart = alt.hconcat(
        inertia,
        _elbow_panel(
            shared, frame, "silhouette", "silhouette (-1 to 1)", "is_best_silhouette", ".3f"
        ),
        spacing=40,
    ).properties(title=theme.title("Choosing k: elbow and silhouette", [_elbow_subtitle(frame)]))
    return theme.finish(chart)


STABILITY = "stability (mean adjusted Rand)"
GAP = "gap statistic"
STABILITY_AXIS = "adjusted Rand between resamples (0 to 1)"


def _threshold_name(stable: float) -> str:
    return f"stable from {stable}"


def _with_bars(frame: pl.DataFrame) -> pl.DataFrame:
    """The ends of the bars: stability ± its std (at most 1), gap ± s_k."""
    return frame.with_columns(
        (pl.col("stability_mean") - pl.col("stability_std")).alias("stability_mean_low"),
        (pl.col("stability_mean") + pl.col("stability_std"))
        .clip(upper_bound=1)
        .alias("stability_mean_high"),
        (pl.col("gap") - pl.col("gap_se")).alias("gap_low"),
        (pl.col("gap") + pl.col("gap_se")).alias("gap_high"),
    )


def _stability_series(stable: float, drawn: dict[str, bool]) -> alt.Color:
    """Colours for the series drawn (drawn: 'stability', 'gap', 'run_k' -> whether)."""
    colours = {  # legend entry -> (colour, whether it is drawn)
        STABILITY: ("#4c78a8", drawn["stability"]),
        _threshold_name(stable): ("#e45756", drawn["stability"]),
        GAP: ("#54a24b", drawn["gap"]),
        RUN_K: ("#888", drawn["run_k"]),
    }
    shown = [name for name, (_, is_drawn) in colours.items() if is_drawn]
    return alt.Color(
        "series:N",
        scale=alt.Scale(domain=shown, range=[colours[name][0] for name in shown]),
        legend=alt.Legend(title=None, orient="top"),
    )


def _bar_panel(
    shared: _SweepPanels,
    frame: pl.DataFrame,
    field: str,
    name: str,
    axis_title: str,
    flag: str,
    flag_name: str,
    extra: tuple = (),
) -> alt.LayerChart:
    """field against k with field_low..field_high as a bar, where it was measured."""
    base = (
        alt.Chart(frame)
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


def _threshold_rule(shared: _SweepPanels, stable: float) -> alt.Chart:
    """The dashed line from which the suggestion counts a k as stable."""
    return (
        alt.Chart(pl.DataFrame({"stable": [stable], "series": [_threshold_name(stable)]}))
        .mark_rule(strokeDash=[6, 4])
        .encode(
            y=alt.Y("stable:Q", title=STABILITY_AXIS),
            color=shared.series,
            tooltip=[alt.Tooltip("stable:Q", title="stable from")],
        )
    )


def _stability_title(frame: pl.DataFrame) -> alt.TitleParams:
    suggested = frame.filter(pl.col("is_suggested"))
    reason = suggested["suggestion_reason"][0] if suggested.height else ""
    return theme.title(
        "Choosing k: stability and gap statistic",
        [
            f"Sweep {frame['sweep_id'][0]}: bars are ± one standard deviation (stability) and "
            "± s_k (gap); circled: the suggested k and the gap rule's k.",
            *([f"Suggested: {reason}"] if reason else []),
        ],
    )


def stability_chart(data: theme.Data, run_k: int | None = None, stable: float = 0.8):
    """Stability (mean adjusted Rand between resamples, ± std) and, when measured, the gap
    statistic (± s_k) against k; the suggested k and the gap rule's k circled.

    data: k, stability_mean, stability_std, gap, gap_se, is_suggested, is_gap_choice,
    sweep_id, suggestion_reason, ... (see stability_data). stable: the threshold the
    suggestion uses (model.selection.STABLE_ARI), drawn as a dashed line.
    """
    frame = theme.as_frame(data)
    has_stability = frame.height > 0 and frame["stability_mean"].drop_nulls().len() > 0
    has_gap = frame.height > 0 and frame["gap"].drop_nulls().len() > 0
    if not (has_stability or has_gap):
        swept = f"sweep {frame['sweep_id'][0]}" if frame.height else "the latest sweep"
        return message_chart(
            [
                f"No stability or gap statistic in {swept}.",
                "Run: spotclust sweep --k 2..12 (stability is on by default;",
                "add --gap for the gap statistic), then: spotclust charts",
            ],
            height=160,
            title=theme.title("Stability and gap statistic against k", "Nothing measured yet."),
        )
    ks = frame["k"].to_list()
    frame = _with_bars(frame)
    drawn = {"stability": has_stability, "gap": has_gap, "run_k": in_sweep(run_k, ks)}
    shared = _SweepPanels(
        x=k_axis(ks),
        series=_stability_series(stable, drawn),
        tooltip=[
            alt.Tooltip("k:O", title="k"),
            alt.Tooltip("stability_mean:Q", title="stability (mean ARI)", format=".3f"),
            alt.Tooltip("stability_std:Q", title="stability std", format=".3f"),
            alt.Tooltip("gap:Q", title="gap", format=".3f"),
            alt.Tooltip("gap_se:Q", title="gap s_k", format=".3f"),
        ],
        run_k=run_k if drawn["run_k"] else None,
    )
    panels = []
    if has_stability:
        stability = ("stability_mean", STABILITY, STABILITY_AXIS, "is_suggested", "suggested")
        panels.append(_bar_panel(shared, frame, *stability, (_threshold_rule(shared, stable),)))
    if has_gap:
        gap = ("gap", GAP, "gap statistic (log units)", "is_gap_choice", "gap rule")
        panels.append(_bar_panel(shared, frame, *gap))
    return theme.finish(alt.hconcat(*panels, spacing=40).properties(title=_stability_title(frame)))
