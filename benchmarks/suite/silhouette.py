"""Section silhouette: sklearn.metrics.silhouette_score against
spotclust.model.silhouette.silhouette_score on the baseline's own 2-D PCA points and k=4 labels
(timed by benchmarks/silhouette_bench.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .harness import BENCHMARKS, OUT, PYTHON, child_env, log, run_script
from .markdown import fmt_s, fmt_x, heading, met, pct, ratio, summary, table

SCRIPT = BENCHMARKS / "silhouette_bench.py"


def run(args, dataset: Path) -> dict:
    work = OUT / "silhouette"
    work.mkdir(parents=True, exist_ok=True)
    data = work / "baseline_pca_k4.npz"
    log("silhouette: the baseline's PCA points and k=4 labels")
    prepare = [PYTHON, SCRIPT, "prepare", dataset, data]
    if args.sil_rows:
        prepare += ["--rows", args.sil_rows]
    prepared = run_script(prepare, "prepare")
    del prepared["process"]  # only the data's shape is kept
    log("silhouette: spotclust (warm numba disk cache; first call + warm calls)")
    spot = run_script(
        [PYTHON, SCRIPT, "spotclust", data, "--repeats", args.sil_repeats],
        "spotclust silhouette",
        env=child_env(),
    )
    with tempfile.TemporaryDirectory() as empty_cache:
        log("silhouette: spotclust with an empty numba cache (first call compiles)")
        cold = run_script(
            [PYTHON, SCRIPT, "spotclust", data, "--repeats", "1"],
            "spotclust silhouette, compiling",
            env=child_env(NUMBA_CACHE_DIR=empty_cache),
        )
    log("silhouette: scikit-learn (about 2 minutes on 2 cores)")
    sk = run_script(
        [PYTHON, SCRIPT, "sklearn", data],
        "sklearn silhouette",
        env=child_env(),
        timeout=args.timeout,
    )
    return {"data": prepared, "spotclust": spot, "spotclust_compiling": cold, "sklearn": sk}


def _timings_table(sk: dict, sp: dict, cold: dict) -> str:
    warm = summary(sp["seconds_warm"])
    sk_s = sk["seconds"]
    rows = [
        [
            "`sklearn.metrics.silhouette_score` (one call)",
            fmt_s(sk_s),
            f"{sk['value']:.15f}",
            "1.0x",
        ],
        [
            f"`spotclust.model.silhouette.silhouette_score`, warm (min of {warm['n']})",
            fmt_s(warm["min"], 3),
            f"{sp['value']:.15f}",
            fmt_x(ratio(sk_s, warm["min"])),
        ],
        [
            f"same, warm (median of {warm['n']})",
            fmt_s(warm["median"], 3),
            "",
            fmt_x(ratio(sk_s, warm["median"])),
        ],
        [
            "same, first call in a fresh process (loads numba's disk cache)",
            fmt_s(sp["seconds_first_call"], 3),
            "",
            fmt_x(ratio(sk_s, sp["seconds_first_call"])),
        ],
        [
            "same, first call with an empty numba cache (compiles)",
            fmt_s(cold["seconds_first_call"], 3),
            f"{cold['value']:.15f}",
            fmt_x(ratio(sk_s, cold["seconds_first_call"])),
        ],
        [
            "importing `spotclust.model.silhouette` (numba)",
            fmt_s(sp["seconds_import"], 3),
            "",
            "",
        ],
    ]
    return table(["", "seconds", "value", "vs scikit-learn"], rows)


def render(sil: dict, claims: list) -> list[str]:
    """The report's section 2; adds its line to claims (the summary table)."""
    sk, sp = sil["sklearn"], sil["spotclust"]
    r_median = ratio(sk["seconds"], summary(sp["seconds_warm"])["median"])
    diff = abs(sk["value"] - sp["value"])
    claims.append(
        [
            "exact silhouette vs sklearn.metrics.silhouette_score (warm, median)",
            ">= 20x, equal",
            f"{fmt_x(r_median)}, abs diff {diff:.1e}",
            met(r_median, 20) if diff < 1e-9 else "no (values differ)",
        ]
    )
    d = sil["data"]
    return [
        heading("2. Exact silhouette", sil),
        f"Same data and labels for both: the baseline's own {d['rows']:,} points in "
        f"{d['dims']} PCA dimensions and its k={d['k']} labels (pandas, StandardScaler, "
        "PCA(2), KMeans(4, random_state=0)), saved once and loaded by each timing process.\n",
        _timings_table(sk, sp, sil["spotclust_compiling"]),
        f"\nAbsolute difference of the values: {diff:.2e}. numba threads: "
        f"{sp.get('threads')} ({sp.get('threading_layer')}). Foreign CPU during the "
        f"scikit-learn call: {pct(sk['process']['foreign_cpu'])}, during the "
        f"spotclust calls: {pct(sp['process']['foreign_cpu'])}.\n",
        *_limit(sp, d["rows"]),
    ]


def _limit(sp: dict, rows: int) -> list[str]:
    """How far the warm exact silhouette is from the arithmetic limit of the machine."""
    peak, pairs = sp.get("peak_pairs_per_second_per_core"), sp.get("pairs_computed")
    if not peak or not pairs:
        return []
    warm = summary(sp["seconds_warm"])["median"]
    rate = pairs / warm / sp["threads"]
    every = rows * (rows - 1) / 2
    return [
        "### Distance from the arithmetic limit\n",
        table(
            ["", "pair distances", "per second per core", "share of the limit"],
            [
                [
                    "the method's inner loop on 1,024 columns in L1 (one core): the limit",
                    "",
                    f"{peak:.3g}",
                    "100%",
                ],
                [
                    f"exact silhouette, warm (median), on {sp['threads']} threads",
                    f"{pairs:,} ({pairs / every:.0%} of the {every:,.0f} pairs)",
                    f"{rate:.3g}",
                    pct(rate / peak),
                ],
            ],
        ),
        "\nThe limit is the method's own inner loop (2-D distance, a float32-seeded square root "
        "with one float64 Newton step, row and column sums) running with no memory traffic "
        "and no planning; the rest of the gap is gathering tile columns, thread start-up and "
        "imbalance, the pruning bounds and the final pass. Pruning (section 2's method) also "
        "means fewer pairs than scikit-learn computes (it computes every pair twice).\n",
    ]
