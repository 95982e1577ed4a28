"""Weighing the evidence for k: each k's scores, what each kind of evidence picks, and the
suggested k.

Every k gets, in `sweeps`:

* inertia, and whether it is the knee of the inertia curve (Kneedle);
* silhouette, Calinski-Harabasz and Davies-Bouldin of the fitted model;
* stability (``stability_pairs``, default 10; 0 skips it): for each pair, two random
  subsamples of the rows (80% of them, at most RESAMPLE_ROWS) are clustered independently,
  both models label the same fixed sample of rows, and the adjusted Rand index between the
  two labelings says how reproducible the clustering is. Mean and standard deviation over
  the pairs. Near 1: the same partition every time; a k that cuts a real group in two at
  an arbitrary place scores lower;
* the gap statistic (optional, ``gap_refs`` reference datasets; Tibshirani, Walther and
  Hastie 2001): log W_k, the log within-cluster sum of squares, of a fixed sample of the
  rows against its mean over reference datasets drawn uniformly in the sample's bounding
  box aligned with its principal axes. gap_k and s_k = sd * sqrt(1 + 1/B); the gap rule
  picks the smallest k with gap_k >= gap_{k+1} - s_{k+1} (k+1: the next k swept). Sweep
  from k = 1 (--k 1..12) to let it say that there is no cluster structure at all.

Resampling costs are bounded whatever the size of the data: subsamples, the labelled
sample and the gap's sample have at most RESAMPLE_ROWS rows, and the fits on them use full
k-means with at most RESAMPLE_N_INIT restarts. The scaling and PCA are fitted once on all
rows; only k-means is refitted. Every random draw is seeded from (seed, k, pair), so a sweep
with the same seed gives the same numbers.

How the suggested k is chosen
-----------------------------
The knee of the inertia curve stays the default: it is the elbow the original analysis
looked for, and it is what most readers expect. Stability serves as a check, not as a
picker: two clusters are nearly always the easiest to reproduce, so "the most stable k"
alone would mostly say k = 2 (it is reported, but never suggested for that reason alone).

1. The candidates, in this order: the knee, the k with the best silhouette, the gap rule's
   k (each when it was measured).
2. Without stability, the first candidate.
3. With stability, the first candidate whose mean adjusted Rand between resamples is at
   least STABLE_ARI (0.8: the clusterings of two resamples mostly agree).
4. If no candidate is that stable, the first candidate all the same, and the reason says so.

The reason is returned in SweepResult.suggestion_reason and stored with the sweep.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spotclust.model import metrics
from spotclust.model.config import ClusterConfig
from spotclust.model.kmeans import best_restart, fit_task, restart_rows, restart_tasks
from spotclust.model.parallel import map_fits, workers_for
from spotclust.model.projection import Projection
from spotclust.model.resampling import (
    RESAMPLE_N_INIT,
    gap_from,
    gap_inertia,
    gap_rule,
    has_stability,
    stability_pair,
    summarise,
)

DEFAULT_STABILITY = 10  # resample pairs per k: ~10 s in all for k = 2..12 on the shipped data
DEFAULT_GAP_REFS = 5  # reference datasets per k for the gap statistic
STABLE_ARI = 0.8  # a candidate k is stable when its mean adjusted Rand reaches this


def knee(ks: list[int], inertias: list[float]) -> int | None:
    """The k where the inertia curve bends most (Kneedle: furthest above the chord)."""
    if len(ks) < 3:
        return None
    x = (np.array(ks, dtype=float) - ks[0]) / (ks[-1] - ks[0])
    y = np.array(inertias, dtype=float)
    span = y.max() - y.min()
    if span == 0:
        return None
    gain = (y[0] - y) / span  # 0 at the first k, rising to about 1 at the last
    return ks[int(np.argmax(gain - x))]


def suggest(
    knee_k: int | None,
    best_silhouette_k: int | None,
    gap_k: int | None,
    stabilities: dict[int, tuple[float, float]],
) -> tuple[int | None, str]:
    """(suggested k, why): the rule of the module docstring."""
    names: dict[int, list[str]] = {}  # k -> what picks it, in candidate order
    for k, name in (
        (knee_k, "the knee of inertia"),
        (best_silhouette_k, "the best silhouette"),
        (gap_k, "the gap rule"),
    ):
        if k is not None:
            names.setdefault(k, []).append(name)
    candidates = [(k, _and(picked)) for k, picked in names.items()]
    if not candidates:
        return None, "no evidence: sweep at least 3 values of k, or score the silhouette"
    first_k, first_name = candidates[0]
    if not stabilities:
        return first_k, first_name

    def ari(k: int) -> str:
        mean, std = stabilities[k]
        return f"adjusted Rand {mean:.2f} ± {std:.2f} between resamples"

    measured = [(k, name) for k, name in candidates if k in stabilities]
    unstable = []
    for k, name in measured:
        if stabilities[k][0] >= STABLE_ARI:
            if not unstable:
                return k, f"{name}, stable ({ari(k)})"
            rejected = "; ".join(f"{n} (k = {u}) is unstable ({ari(u)})" for u, n in unstable)
            return k, f"{name}, stable ({ari(k)}): {rejected}"
        unstable.append((k, name))
    detail = "; ".join(f"k = {u}: {ari(u)}" for u, _ in measured) or "none measured"
    return first_k, f"{first_name}, but no candidate is stable (mean >= {STABLE_ARI}): {detail}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class SweepResult:
    sweep_id: int
    rows: list[dict]  # one per k
    knee_k: int | None
    best_silhouette_k: int | None
    most_stable_k: int | None = None  # None: stability not measured
    gap_k: int | None = None  # None: gap not measured, or no k met the rule
    suggested_k: int | None = None
    suggestion_reason: str = ""
    stability_pairs: int = 0
    gap_refs: int = 0

    def picks(self, k: int) -> list[str]:
        """What picks k: e.g. ['knee', 'most stable', 'suggested']."""
        picked = [
            ("knee", self.knee_k),
            ("best silhouette", self.best_silhouette_k),
            ("most stable", self.most_stable_k),
            ("gap rule", self.gap_k),
            ("suggested", self.suggested_k),
        ]
        return [name for name, chosen in picked if chosen == k]

    @property
    def evidence(self) -> str:
        """What each kind of evidence picks, e.g. 'knee of inertia: 4; best silhouette: 3'
        (and, where it picks nothing, why: 'not scored', 'none (no bend)')."""
        flat = "none (fewer than 3 k swept)" if len(self.rows) < 3 else "none (no bend)"
        parts = [
            f"knee of inertia: {_or(self.knee_k, flat)}",
            f"best silhouette: {_or(self.best_silhouette_k, 'not scored')}",
        ]
        if self.stability_pairs:
            parts.append(f"most stable: {_or(self.most_stable_k, 'not measured')}")
        if self.gap_refs:
            parts.append(f"gap rule: {_or(self.gap_k, 'none')}")
        return "; ".join(parts)


def _or(k: int | None, otherwise: str) -> str:
    return otherwise if k is None else str(k)


def weigh(ks: list[int], rows: list[dict], stability_pairs: int, gap_refs: int) -> SweepResult:
    """What each kind of evidence picks, and the suggestion (sweep_id is set once written)."""
    knee_k = knee(ks, [r["inertia"] for r in rows])
    scored = [r for r in rows if r["silhouette"] is not None]
    best_k = max(scored, key=lambda r: r["silhouette"])["k"] if scored else None
    stabilities = {
        r["k"]: (r["stability_mean"], r["stability_std"])
        for r in rows
        if r["stability_mean"] is not None
    }
    # max() keeps the first of equals: the smallest k among equally stable ones
    most_stable_k = max(stabilities, key=lambda k: stabilities[k][0]) if stabilities else None
    gap_k = (
        gap_rule(ks, [r["gap"] for r in rows], [r["gap_se"] for r in rows]) if gap_refs else None
    )
    suggested_k, reason = suggest(knee_k, best_k, gap_k, stabilities)
    return SweepResult(
        sweep_id=0,
        rows=rows,
        knee_k=knee_k,
        best_silhouette_k=best_k,
        most_stable_k=most_stable_k,
        gap_k=gap_k,
        suggested_k=suggested_k,
        suggestion_reason=reason,
        stability_pairs=stability_pairs,
        gap_refs=gap_refs,
    )


def score_ks(
    projection: Projection,
    config: ClusterConfig,
    ks: list[int],
    sample: np.ndarray,
    box: tuple[np.ndarray, np.ndarray] | None,
    score_silhouette: bool,
    stability_pairs: int,
    gap_refs: int,
    on_k: Callable[[int], None] | None = None,
) -> list[dict]:
    """Every k of a sweep, one row each: its k-means fit and every score.

    All fits of all k (restarts, stability pairs, gap sets) run side by side on every core
    (model/parallel.py); then each k's silhouette, itself on every core. on_k(k) is called
    as the fits of k are done.
    """
    space = projection.model_space
    resample_n_init = min(config.n_init, RESAMPLE_N_INIT)
    rows = restart_rows(space, config)
    tasks = []  # (k, kind, what): every fit of the sweep
    for k in ks:
        tasks += [(k, "restart", task) for task in restart_tasks(config, k)]
        if stability_pairs and has_stability(len(space), k):
            tasks += [(k, "stability", pair) for pair in range(stability_pairs)]
        if gap_refs and k <= len(sample):
            tasks += [(k, "gap", ref) for ref in [None, *range(gap_refs)]]

    def run(task: tuple) -> tuple[object, float]:
        k, kind, what = task
        t = time.perf_counter()
        if kind == "restart":
            result = fit_task(rows, config, k, what)
        elif kind == "stability":
            result = stability_pair(space, sample, k, what, resample_n_init, config.seed)
        else:
            result = gap_inertia(sample, box, k, what, resample_n_init, config.seed)
        return result, time.perf_counter() - t

    left = {k: sum(task[0] == k for task in tasks) for k in ks}

    def done(task: tuple) -> None:
        left[task[0]] -= 1
        if on_k and not left[task[0]]:
            on_k(task[0])

    results = map_fits(run, tasks, workers_for(space.nbytes), on_done=done)
    found: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    seconds: dict[int, float] = defaultdict(float)  # each k's fits, on one core
    for (k, kind, _), (result, spent) in zip(tasks, results, strict=True):
        found[k][kind].append(result)
        seconds[k] += spent
    return [_scores(space, config, k, found[k], seconds[k], score_silhouette, gap_refs) for k in ks]


def _scores(
    space: np.ndarray,
    config: ClusterConfig,
    k: int,
    found: dict[str, list],
    seconds: float,
    score_silhouette: bool,
    gap_refs: int,
) -> dict:
    """One k's row of `sweeps` from its fits."""
    t = time.perf_counter()
    model = best_restart(found["restart"])
    silhouette = (
        metrics.silhouette(
            space,
            model.labels_,
            sample_size=sweep_silhouette_sample(config),
            seed=config.seed,
            force_exact=config.exact_silhouette,
        )
        if score_silhouette
        else metrics.Silhouette(value=None, method="skipped")
    )
    stable = summarise(found["stability"]) if found["stability"] else None
    gap = gap_from(found["gap"][0], found["gap"][1:]) if gap_refs and found["gap"] else None
    return {
        "k": k,
        "inertia": float(model.inertia_),
        "silhouette": silhouette.value,
        "silhouette_method": silhouette.method,
        **metrics.separation(space, model.labels_),
        "stability_mean": stable[0] if stable else None,
        "stability_std": stable[1] if stable else None,
        "gap": gap[0] if gap else None,
        "gap_se": gap[1] if gap else None,
        "seconds": seconds + time.perf_counter() - t,
    }


def sweep_silhouette_sample(config: ClusterConfig) -> int | None:
    """Rows whose silhouette a sweep scores for each k: all of them with --exact-silhouette,
    else --silhouette-sample, else metrics.DEFAULT_SILHOUETTE_SAMPLE (all rows if fewer).
    A sweep compares k values: a sample with its 95% CI tells them apart at a fraction of
    the cost (the run itself scores exactly up to metrics.EXACT_SILHOUETTE_MAX_ROWS)."""
    if config.exact_silhouette:
        return None
    return config.silhouette_sample or metrics.DEFAULT_SILHOUETTE_SAMPLE
