"""Section sweep: k=2..12 with a silhouette for each k, `spotclust sweep` against the same
sweep done the notebook way (benchmarks/notebook_sweep.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .harness import (
    BENCHMARKS,
    OUT,
    PYTHON,
    check,
    child_env,
    log,
    process_summary,
    run_process,
    run_script,
)
from .markdown import fmt_mb, fmt_s, fmt_x, heading, median_pct, pct, ratio, shell, summary, table
from .spotclust_cli import MODEL_OPTIONS, has_command, spotclust_cmd, sweep_rows


def _spotclust_sweeps(args, cli: list[str], db: Path, variant: str) -> list[dict]:
    repeats = args.sweep_repeats if variant == "same_work" else 1
    runs = []
    for i in range(repeats):
        log(f"sweep: spotclust sweep --k 2..12 ({variant}) {i + 1}/{repeats}")
        cmd = [*cli, "sweep", "--k", "2..12", *MODEL_OPTIONS[variant], "--exact-silhouette"]
        cmd += ["--db", db, "-q"]
        if "--stability" in (has_command("sweep") or ""):
            cmd += ["--stability", "0"]  # the notebook way has no stability either
        result = check(
            run_process(
                cmd, env=child_env(), label=f"spotclust sweep {variant}", timeout=args.timeout
            )
        )
        runs.append({**process_summary(result), "per_k": sweep_rows(db)})
    return runs


def run(args, dataset: Path) -> dict:
    work = OUT / "sweep"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cli = spotclust_cmd()
    db = work / "w.duckdb"
    log("sweep: ingest the shipped dataset (not timed as part of the sweep)")
    check(run_process([*cli, "ingest", dataset, "--db", db], env=child_env(), label="ingest"))
    out: dict = {"spotclust": {v: _spotclust_sweeps(args, cli, db, v) for v in MODEL_OPTIONS}}
    notebook = [PYTHON, BENCHMARKS / "notebook_sweep.py", dataset, "--k", "2..12"]
    if args.sweep_sample:
        notebook += ["--sample", str(args.sweep_sample)]
    log("sweep: the notebook way (11 x scikit-learn silhouette on every row: ~20-25 minutes)")
    out["notebook"] = run_script(
        notebook, "notebook sweep", env=child_env(), timeout=args.timeout * 12
    )
    shutil.rmtree(work, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- report


def _speed_table(sw: dict) -> str:
    nb = sw["notebook"]
    nb_wall = nb["process"]["wall"]
    sample_note = (
        f" (silhouette on a sample of {nb['sample']} rows)"
        if nb.get("sample")
        else " (silhouette on every row)"
    )
    rows = [
        [
            f"notebook way: pandas + scikit-learn{sample_note}, {nb['rows']:,} rows",
            1,
            fmt_s(nb_wall, 1),
            fmt_s(nb_wall, 1),
            fmt_mb(nb["process"]["max_rss_mb"]),
            pct(nb["process"].get("foreign_cpu")),
            "1.0x",
        ]
    ]
    for variant in ("same_work", "defaults"):
        runs_v = sw["spotclust"].get(variant) or []
        if not runs_v:
            continue
        smv = summary([r["wall"] for r in runs_v])
        used = runs_v[0]["per_k"][0]["rows_used"] if runs_v[0]["per_k"] else "?"
        rows.append(
            [
                f"`spotclust sweep`, {variant.replace('_', ' ')}, {used:,} rows, exact",
                smv["n"],
                fmt_s(smv["min"], 1),
                fmt_s(smv["median"], 1),
                fmt_mb(max(r["max_rss_mb"] for r in runs_v)),
                median_pct([r.get("foreign_cpu") for r in runs_v]),
                fmt_x(ratio(nb_wall, smv["median"])),
            ]
        )
    return table(
        ["", "runs", "min", "median", "peak RSS", "foreign CPU", "speed-up (median)"], rows
    )


def _per_k_table(notebook_per_k: list[dict], spotclust_per_k: list[dict]) -> str:
    sp_k = {r["k"]: r for r in spotclust_per_k}
    krows = []
    for r in notebook_per_k:
        o = sp_k.get(r["k"], {})
        krows.append(
            [
                r["k"],
                f"{r['silhouette']:.4f}",
                fmt_s(r["seconds_kmeans"]),
                fmt_s(r["seconds_silhouette"]),
                f"{o['silhouette']:.4f}" if o.get("silhouette") is not None else "–",
                fmt_s(o.get("seconds")),
            ]
        )
    header = ["k", "notebook silhouette", "notebook k-means", "notebook silhouette time"]
    return table([*header, "spotclust silhouette", "spotclust seconds"], krows)


def render(sw: dict, claims: list) -> list[str]:
    """The report's section 3; adds its line to claims (the summary table)."""
    nb = sw["notebook"]
    same = sw["spotclust"]["same_work"]
    r_sw = ratio(nb["process"]["wall"], summary([r["wall"] for r in same])["median"])
    claims.append(
        ["sweep k=2..12 with silhouette, spotclust vs notebook way", "(report)", fmt_x(r_sw), ""]
    )
    body = [
        heading("3. Sweep k=2..12 with a silhouette for each k", sw),
        _speed_table(sw),
        "\nPer k (spotclust: the first same-work run; seconds = fit + all scores):\n",
        _per_k_table(nb["per_k"], same[0]["per_k"]),
        "\nThe two sides cluster slightly different rows (the notebook: every row "
        "without a missing value; spotclust: every clean genre listing), so the "
        "silhouettes are close, not equal.\n",
        "```sh",
        shell(nb["process"]["cmd"]),
    ]
    for variant in ("same_work", "defaults"):
        if sw["spotclust"].get(variant):
            body.append(shell(sw["spotclust"][variant][0]["cmd"]))
    body.append("```\n")
    return body
