"""The elbow step: fit k-means for a range of k and weigh the evidence for each k.

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

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from spotclust import metrics, warehouse
from spotclust.clustering import ClusterConfig, check_shape, current_ingest, fit_kmeans, project
from spotclust.errors import ConfigError
from spotclust.features import feature_source, resolve_features

DEFAULT_STABILITY = 10  # resample pairs per k: ~10 s in all for k = 2..12 on the shipped data
DEFAULT_GAP_REFS = 5  # reference datasets per k for the gap statistic
RESAMPLE_FRACTION = 0.8  # share of the rows in each stability subsample
RESAMPLE_ROWS = 20_000  # cap on every resampled set: the cost stays flat at 10M rows
RESAMPLE_N_INIT = 3  # k-means restarts on resamples (fewer if the sweep's --n-init is lower)
STABLE_ARI = 0.8  # a candidate k is stable when its mean adjusted Rand reaches this
# Labels of the independent random streams, so that no two uses share draws.
_SAMPLE, _STABILITY, _GAP, _REFERENCE = 0, 1, 2, 3


def parse_k_range(text: str) -> list[int]:
    """'2..12', '2-12' or '2,4,8' -> sorted distinct ks."""
    text = text.strip()
    if match := re.fullmatch(r"(\d+)\s*(?:\.\.|-)\s*(\d+)", text):
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise ConfigError(f"--k {text}: the range is empty; write it low..high, e.g. 2..12")
        ks = list(range(low, high + 1))
    elif re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
        ks = sorted({int(part) for part in text.split(",")})
    else:
        raise ConfigError(f"--k {text!r}: write a range like 2..12 or a list like 2,4,8")
    if ks[0] < 1:
        raise ConfigError(f"--k {text}: every k must be at least 1")
    return ks


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


# --------------------------------------------------------------------------- resampling


def _rng(seed: int, *keys: int) -> np.random.Generator:
    """A random stream of its own for each (seed, purpose, k, pair)."""
    return np.random.default_rng([seed, *keys])


def _kmeans(X: np.ndarray, k: int, n_init: int, rng: np.random.Generator) -> KMeans:
    """Full k-means, whatever the sweep's algorithm: resampled sets are small.

    On one thread: on sets this small, starting and synchronising threads costs more than
    it saves (measured 17x slower with 2 threads on a busy 2-core machine, 20,000 rows).
    """
    with threadpool_limits(1):
        return KMeans(n_clusters=k, n_init=n_init, random_state=int(rng.integers(2**31))).fit(X)


def fixed_sample(space: np.ndarray, seed: int) -> np.ndarray:
    """At most RESAMPLE_ROWS rows, the same for every k: what stability labels, what gap uses."""
    if len(space) <= RESAMPLE_ROWS:
        return space
    rows = _rng(seed, _SAMPLE).choice(len(space), RESAMPLE_ROWS, replace=False)
    return space[np.sort(rows)]


def stability(
    space: np.ndarray, sample: np.ndarray, k: int, pairs: int, n_init: int, seed: int
) -> tuple[float, float] | None:
    """Mean and std of the adjusted Rand index between clusterings of `pairs` subsample pairs.

    Both models of a pair label the same rows (sample), so their labelings can be compared
    even though they were fitted on different rows. None when k < 2 or the subsamples are
    too small for k.
    """
    n = len(space)
    size = min(round(RESAMPLE_FRACTION * n), RESAMPLE_ROWS)
    if k < 2 or size < k:
        return None
    scores = []
    for pair in range(pairs):
        rng = _rng(seed, _STABILITY, k, pair)
        labelings = [
            _kmeans(space[rng.choice(n, size, replace=False)], k, n_init, rng).predict(sample)
            for _ in range(2)
        ]
        scores.append(adjusted_rand_score(*labelings))
    return float(np.mean(scores)), float(np.std(scores))


def principal_box(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sample on its principal axes, and that box's (low, high) corners.

    Within-cluster sums of squares do not change under rotation, so the references can be
    drawn and clustered in the rotated space directly (Tibshirani et al.'s method b).
    """
    centred = sample - sample.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    return rotated.min(axis=0), rotated.max(axis=0)


def gap_statistic(
    sample: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    k: int,
    refs: int,
    n_init: int,
    seed: int,
) -> tuple[float, float] | None:
    """(gap_k, s_k) of the sample against `refs` uniform reference datasets in box.

    The reference datasets depend on (seed, ref) only, so every k is measured against the
    same ones, as in the paper. None when a sum of squares is 0 (k >= distinct rows).
    """
    if k > len(sample):
        return None
    data_w = _kmeans(sample, k, n_init, _rng(seed, _GAP, k)).inertia_
    reference_w = []
    for ref in range(refs):
        uniform = _rng(seed, _REFERENCE, ref).uniform(*box, size=(len(sample), len(box[0])))
        reference_w.append(_kmeans(uniform, k, n_init, _rng(seed, _GAP, k, ref)).inertia_)
    if data_w <= 0 or min(reference_w) <= 0:
        return None
    log_w = np.log(reference_w)
    gap = float(log_w.mean() - math.log(data_w))
    return gap, float(log_w.std() * math.sqrt(1 + 1 / refs))


def gap_rule(ks: list[int], gaps: list[float | None], errors: list[float | None]) -> int | None:
    """The smallest k with gap_k >= gap_next - s_next (next: the next k swept), or None."""
    for i in range(len(ks) - 1):
        if gaps[i] is None or gaps[i + 1] is None:
            continue
        if gaps[i] >= gaps[i + 1] - errors[i + 1]:
            return ks[i]
    return None


# --------------------------------------------------------------------------- the suggestion


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
        """What each kind of evidence picks, e.g. 'knee of inertia: 4; best silhouette: 3'."""
        parts = [f"knee of inertia: {self.knee_k}", f"best silhouette: {self.best_silhouette_k}"]
        if self.stability_pairs:
            parts.append(f"most stable: {self.most_stable_k}")
        if self.gap_refs:
            parts.append(f"gap rule: {self.gap_k if self.gap_k is not None else 'none'}")
        return "; ".join(parts)


# --------------------------------------------------------------------------- the sweep


def sweep(
    ks: list[int],
    config: ClusterConfig | None = None,
    db: str | Path | None = None,
    on_k: Callable[[int], None] | None = None,
    score_silhouette: bool = True,
    stability_pairs: int = DEFAULT_STABILITY,
    gap_refs: int = 0,
) -> SweepResult:
    """Fit and score k-means for every k; write all rows to `sweeps` in one transaction.

    config gives everything but k. k = 1 is allowed (the start of an elbow curve); its
    silhouette, Calinski-Harabasz, Davies-Bouldin and stability are undefined (NULL).
    score_silhouette=False records inertia and the cheap scores only.
    stability_pairs: resample pairs per k for stability (0: skip it).
    gap_refs: reference datasets per k for the gap statistic (0: skip it; else at least 2).
    """
    config = replace(config or ClusterConfig(), k=max(2, ks[0]))
    config.check()
    if stability_pairs < 0:
        raise ConfigError(f"--stability {stability_pairs}: use 0 (skip) or more pairs")
    if gap_refs < 0 or gap_refs == 1:
        raise ConfigError(f"--gap-refs {gap_refs}: use at least 2 reference datasets")
    resample_n_init = min(config.n_init, RESAMPLE_N_INIT)
    con = warehouse.connect(db)
    try:
        warehouse.ensure_schema(con)
        ingest_id, _ = current_ingest(con)
        features = resolve_features(con, list(config.features) if config.features else None)
        source = feature_source(con, features, config.row_rule)
        check_shape(replace(config, k=ks[-1]), source.rows, len(features))
        projection = project(source.load().matrix, config, timings={})  # once for every k
        space = projection.model_space
        sample = fixed_sample(space, config.seed)
        box = principal_box(sample) if gap_refs else None
        rows = []
        for k in ks:
            if on_k:
                on_k(k)
            t = time.perf_counter()
            model = fit_kmeans(projection, replace(config, k=k))
            silhouette = (
                metrics.silhouette(
                    space,
                    model.labels,
                    sample_size=config.silhouette_sample,
                    seed=config.seed,
                    force_exact=config.exact_silhouette,
                )
                if score_silhouette
                else metrics.Silhouette(value=None, method="skipped")
            )
            stable = (
                stability(space, sample, k, stability_pairs, resample_n_init, config.seed)
                if stability_pairs
                else None
            )
            gap = (
                gap_statistic(sample, box, k, gap_refs, resample_n_init, config.seed)
                if gap_refs
                else None
            )
            rows.append(
                {
                    "k": k,
                    "inertia": float(model.kmeans.inertia_),
                    "silhouette": silhouette.value,
                    "silhouette_method": silhouette.method,
                    **metrics.separation(space, model.labels),
                    "stability_mean": stable[0] if stable else None,
                    "stability_std": stable[1] if stable else None,
                    "gap": gap[0] if gap else None,
                    "gap_se": gap[1] if gap else None,
                    "seconds": time.perf_counter() - t,
                }
            )
        result = _weigh(ks, rows, stability_pairs, gap_refs)
        sweep_id = _write(con, result, config, features, source.rows, ingest_id)
    finally:
        con.close()
    return replace(result, sweep_id=sweep_id)


def _weigh(ks: list[int], rows: list[dict], stability_pairs: int, gap_refs: int) -> SweepResult:
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


def _write(
    con, result: SweepResult, config: ClusterConfig, features: list[str], rows_used: int,
    ingest_id: int,
) -> int:  # fmt: skip
    """All rows of the sweep in one transaction; returns the new sweep_id."""
    created = datetime.now(UTC)
    with warehouse.transaction(con):
        sweep_id = con.execute("SELECT nextval('sweep_id_seq')").fetchone()[0]
        records = [
            {
                **r,
                "sweep_id": sweep_id,
                "created_at": created,
                "features": features,
                "pca_components": config.pca_components,
                "seed": config.seed,
                "n_init": config.n_init,
                "row_rule": config.row_rule,
                "rows_used": rows_used,
                "ingest_id": ingest_id,
                "is_knee": r["k"] == result.knee_k,
                "is_best_silhouette": r["k"] == result.best_silhouette_k,
                "stability_pairs": result.stability_pairs or None,
                "gap_refs": result.gap_refs or None,
                "is_most_stable": r["k"] == result.most_stable_k,
                "is_gap_choice": r["k"] == result.gap_k,
                "is_suggested": r["k"] == result.suggested_k,
                "suggestion_reason": result.suggestion_reason,
            }
            for r in result.rows
        ]
        # Named columns: an upgraded warehouse may hold them in another order.
        columns = list(records[0])
        con.executemany(
            f"INSERT INTO sweeps ({', '.join(columns)}) "
            f"VALUES ({', '.join('$' + c for c in columns)})",
            records,
        )
    return sweep_id
