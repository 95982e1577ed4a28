"""The plans of the charts for choosing k from a sweep (elbow and silhouette; stability and
gap statistic), and of the message a page shows instead of an empty chart."""

from __future__ import annotations

import polars as pl

from spotclust.charts import common
from spotclust.charts.spec import Plan, rows

RUN_K = "k of this run"
STABILITY = "stability (mean adjusted Rand)"
GAP = "gap statistic"
ELBOW_COLOURS = {"inertia": "#4c78a8", "silhouette": "#e45756", RUN_K: "#888"}


def message(lines: list[str], height: int, title) -> Plan:
    """A page that says what to run instead of an empty chart (one text line per row);
    title: a string or common.title(...)."""
    lines_rows = [{"line": line, "n": n} for n, line in enumerate(lines)]
    return Plan("message", "", {"height": height, "title": title}, {"message": lines_rows})


def in_sweep(run_k: int | None, ks: list[int]) -> bool:
    """Whether the run's k is drawn: only inside the sweep's range of k."""
    return run_k is not None and min(ks) <= run_k <= max(ks)


def _k_values(ks: list[int], run_k: int | None) -> tuple[dict, dict]:
    """(values of the k axis, the run's k as a dataset when it is drawn)."""
    drawn = {"run_k": [{"k": run_k, "series": RUN_K}]} if in_sweep(run_k, ks) else {}
    return {"ks": ks, "k_domain": [min(ks), max(ks)]}, drawn


def with_marks(frame: pl.DataFrame) -> pl.DataFrame:
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


def elbow_subtitle(frame: pl.DataFrame) -> str:
    sweep_id = frame["sweep_id"][0] if "sweep_id" in frame.columns else "?"
    used = frame["rows_used"][0] if "rows_used" in frame.columns else None
    methods = (
        ", ".join(sorted(set(frame["silhouette_method"].to_list())))
        if "silhouette_method" in frame.columns
        else "?"
    )
    return (
        f"Sweep {sweep_id}"
        + (f" over {used:,} rows" if used else "")
        + f" (silhouette {methods}). Circled: the knee of the inertia curve and the "
        "k with the best silhouette; dashed: the k of this run."
    )


NO_SWEEP = [
    "No sweep yet.",
    "Run: spotclust sweep --k 2..12,",
    "then: spotclust charts, to draw the elbow",
    "and silhouette curves.",
]


def elbow(data: common.Data, run_k: int | None = None) -> Plan:
    """Inertia and silhouette against k from a sweep (see selection.elbow_chart)."""
    frame = common.as_frame(data)
    if frame.height == 0:
        return message(
            NO_SWEEP,
            height=200,
            title=common.title(
                "Elbow and silhouette against k",
                "There is no sweep in this warehouse: run spotclust sweep to make one.",
            ),
        )
    frame = with_marks(frame)
    # A sweep without silhouette draws the inertia panel alone and says why, never an empty
    # grid with a silhouette legend.
    scored = frame["silhouette"].drop_nulls().len() > 0
    domain = ["inertia", "silhouette", RUN_K] if scored else ["inertia", RUN_K]
    values, run_k_rows = _k_values(frame["k"].to_list(), run_k)
    values["series_domain"] = domain
    values["series_range"] = [ELBOW_COLOURS[name] for name in domain]
    if scored:
        values["title"] = common.title("Choosing k: elbow and silhouette", [elbow_subtitle(frame)])
    else:
        why = "This sweep did not score silhouette (--no-silhouette); sweep again without it."
        values["title"] = common.title("Choosing k: the elbow", [elbow_subtitle(frame), why])
    variant = "+".join(
        ["inertia", *(["silhouette"] if scored else []), *(["run_k"] if run_k_rows else [])]
    )
    return Plan("elbow", variant, values, {"sweep": rows(frame), **run_k_rows})


def threshold_name(stable: float) -> str:
    return f"stable from {stable}"


def with_bars(frame: pl.DataFrame) -> pl.DataFrame:
    """The ends of the bars: stability ± its std (at most 1), gap ± s_k."""
    return frame.with_columns(
        (pl.col("stability_mean") - pl.col("stability_std")).alias("stability_mean_low"),
        (pl.col("stability_mean") + pl.col("stability_std"))
        .clip(upper_bound=1)
        .alias("stability_mean_high"),
        (pl.col("gap") - pl.col("gap_se")).alias("gap_low"),
        (pl.col("gap") + pl.col("gap_se")).alias("gap_high"),
    )


def _series(stable: float, drawn: dict[str, bool]) -> dict:
    """The colour scale's domain and range for the series drawn."""
    colours = {  # legend entry -> (colour, whether it is drawn)
        STABILITY: ("#4c78a8", drawn["stability"]),
        threshold_name(stable): ("#e45756", drawn["stability"]),
        GAP: ("#54a24b", drawn["gap"]),
        RUN_K: ("#888", drawn["run_k"]),
    }
    shown = [name for name, (_, is_drawn) in colours.items() if is_drawn]
    return {"series_domain": shown, "series_range": [colours[name][0] for name in shown]}


def stability_title(frame: pl.DataFrame) -> dict:
    suggested = frame.filter(pl.col("is_suggested"))
    reason = suggested["suggestion_reason"][0] if suggested.height else ""
    return common.title(
        "Choosing k: stability and gap statistic",
        [
            f"Sweep {frame['sweep_id'][0]}: bars are ± one standard deviation (stability) and "
            "± s_k (gap); circled: the suggested k and the gap rule's k.",
            *([f"Suggested: {reason}"] if reason else []),
        ],
    )


def stability(data: common.Data, run_k: int | None = None, stable: float = 0.8) -> Plan:
    """Stability and the gap statistic against k (see selection.stability_chart)."""
    frame = common.as_frame(data)
    has_stability = frame.height > 0 and frame["stability_mean"].drop_nulls().len() > 0
    has_gap = frame.height > 0 and frame["gap"].drop_nulls().len() > 0
    if not (has_stability or has_gap):
        swept = f"sweep {frame['sweep_id'][0]}" if frame.height else "the latest sweep"
        return message(
            [
                f"No stability or gap statistic in {swept}.",
                "Run: spotclust sweep --k 2..12 (stability is on by default;",
                "add --gap for the gap statistic), then: spotclust charts",
            ],
            height=160,
            title=common.title("Stability and gap statistic against k", "Nothing measured yet."),
        )
    values, run_k_rows = _k_values(frame["k"].to_list(), run_k)
    drawn = {"stability": has_stability, "gap": has_gap, "run_k": bool(run_k_rows)}
    values |= _series(stable, drawn) | {"title": stability_title(frame)}
    datasets = {"sweep": rows(with_bars(frame)), **run_k_rows}
    if has_stability:
        datasets["threshold"] = [{"stable": stable, "series": threshold_name(stable)}]
    variant = "+".join(name for name, is_drawn in drawn.items() if is_drawn)
    return Plan("stability", variant, values, datasets)
