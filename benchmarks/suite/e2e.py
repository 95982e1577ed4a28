"""Section e2e: the baseline notebook against spotclust doing the same work as CLI
processes in a fresh warehouse, interleaved, several times each; stage timings for both."""

from __future__ import annotations

import re
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from .harness import BENCHMARKS, OUT, PYTHON, check, child_env, log, run_process
from .markdown import fmt_mb, fmt_s, fmt_x, heading, median_pct, met, ratio, shell, summary, table
from .spotclust_cli import (
    VARIANTS,
    has_command,
    ingest_seconds,
    run_stages,
    spotclust_cmd,
    sweep_accepts_k1,
    sweep_rows,
)

RETRIES = 2  # a failed spotclust sequence is retried (the code may be mid-edit)
VARIANT_LABELS = {
    "same_work": "spotclust, the notebook's work (its rows, restarts, inertia-only elbow)",
    "defaults": "spotclust, defaults (one row per track, 10 restarts, silhouette and "
    "stability for every k of the elbow)",
}
# Each variant's line in the summary: (claim, least speed-up over the notebook, median).
CLAIMS = {
    "same_work": ("end to end, the notebook's work, spotclust vs the notebook (median; range)", 20),
    "defaults": ("end to end, spotclust's defaults vs the notebook (median; range)", 15),
}


@dataclass
class Plan:
    """The data and what this spotclust version offers, probed once per section."""

    dataset: Path
    cli: list[str]
    sweep_has_no_silhouette: bool
    elbow_ks: str  # the notebook's elbow is k=1..10; older versions start at 2
    charts_help: str | None


def _probe(dataset: Path) -> Plan:
    cli = spotclust_cmd()
    sweep_help = has_command("sweep") or ""
    no_silhouette = "--no-silhouette" in sweep_help
    elbow_ks = "1..10" if sweep_accepts_k1() else "2..10"
    return Plan(dataset, cli, no_silhouette, elbow_ks, has_command("charts"))


def _spotclust_steps(plan: Plan, db: Path, charts_dir: Path, options: list[str]) -> list[tuple]:
    # The same work as the notebook in one process: ingest, the elbow over k=1..10
    # (inertia only, as the notebook), k=4 with exact silhouette, profiles, genre
    # breakdown, labels, and the chart pages on top.
    cli, dataset, elbow_ks = plan.cli, plan.dataset, plan.elbow_ks
    if has_command("run") is not None:
        return [
            (
                "run",
                [*cli, "run", dataset, "--k", "4", "--sweep", elbow_ks, *options,
                 "--charts-dir", charts_dir, "--db", db, "-q"],
            )
        ]  # fmt: skip
    sweep = [*cli, "sweep", "--k", elbow_ks, *options, "--db", db, "-q"]
    if plan.sweep_has_no_silhouette:
        sweep.append("--no-silhouette")
    steps = [
        ("ingest", [*cli, "ingest", dataset, "--db", db]),
        (f"sweep k={elbow_ks}", sweep),
        (
            "cluster k=4",
            [*cli, "cluster", "--k", "4", *options, "--exact-silhouette", "--db", db, "-q"],
        ),
    ]
    if plan.charts_help is not None:
        charts = [*cli, "charts", "--db", db]
        for flag in ("--out", "--output", "--dir", "--out-dir"):
            if re.search(rf"(^|\s){re.escape(flag)}[\s,=]", plan.charts_help):
                charts += [flag, charts_dir]
                break
        steps.append(("charts", charts))
    return steps


def _spotclust_sequence(plan: Plan, work: Path, variant: str, options: list[str], i: int) -> dict:
    run_dir = work / f"{variant}_{i}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    db = run_dir / "w.duckdb"
    steps = []
    t0 = time.perf_counter()
    for name, cmd in _spotclust_steps(plan, db, run_dir / "charts", options):
        result = run_process(cmd, cwd=run_dir, env=child_env(), label=f"spotclust {name}")
        steps.append({"step": name, **check(result)})
    total = time.perf_counter() - t0
    return {
        "wall": total,
        "sum_wall": sum(s["wall"] for s in steps),
        "max_rss_mb": max(s["max_rss_mb"] for s in steps),
        "steps": [
            {k: v for k, v in s.items() if k != "stdout"} | {"stdout_tail": s["stdout"][-1500:]}
            for s in steps
        ],
        "ingest_seconds": ingest_seconds(steps[0]["stdout"]),
        "sweep": sweep_rows(db),
        "cluster": run_stages(db),
    }


def _spotclust_once(plan: Plan, work: Path, variant: str, options: list[str], i: int) -> dict:
    # Other people may be editing the code while this runs: retry a failed sequence.
    for attempt in range(RETRIES + 1):
        try:
            return _spotclust_sequence(plan, work, variant, options, i)
        except RuntimeError as exc:
            if attempt == RETRIES:
                raise
            log(f"  failed ({str(exc).strip().splitlines()[-1][:200]}); retrying in 30 s")
            time.sleep(30)
    raise AssertionError("unreachable")


def parse_baseline(stdout: str) -> dict:
    """Rows, cluster sizes, silhouette and stage seconds that the baseline notebook printed."""
    out: dict = {}
    if m := re.search(r"rows=(\d+) sizes=\[([^\]]*)\] silhouette=(\S+)", stdout):
        out["rows"] = int(m.group(1))
        out["sizes"] = [int(x) for x in m.group(2).split(",") if x.strip()]
        out["silhouette"] = None if m.group(3) == "None" else float(m.group(3))
    for name, value in re.findall(r"(\w+)=([0-9.]+)s", stdout):
        out.setdefault("stages", {})[name] = float(value)
    return out


def _shown_cmds(plan: Plan, options: list[str]) -> list[list[str]]:
    """The spotclust commands as the report shows them (W.duckdb: a fresh warehouse)."""
    steps = _spotclust_steps(plan, Path("W.duckdb"), Path("charts"), options)
    return [[str(c) for c in cmd] for _, cmd in steps]


def run(args, dataset: Path) -> dict:
    """Baseline notebook vs spotclust CLI processes, interleaved, repeated."""
    work = OUT / "e2e"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    plan = _probe(dataset)
    baseline_cmd = [PYTHON, BENCHMARKS / "baseline_notebook.py", dataset]
    if args.baseline_sample:
        baseline_cmd += ["--sample", str(args.baseline_sample)]

    log("e2e: warm-up (spotclust once, untimed: warms the OS file cache and numba's disk cache)")
    _spotclust_once(plan, work, "warmup", VARIANTS["same_work"], 0)
    runs = {"baseline": [], **{v: [] for v in VARIANTS}}
    for i in range(args.repeats):
        log(f"e2e repeat {i + 1}/{args.repeats}: baseline notebook")
        base = check(
            run_process(
                baseline_cmd, cwd=work, env=child_env(), label="baseline", timeout=args.timeout
            )
        )
        base["parsed"] = parse_baseline(base["stdout"])
        runs["baseline"].append(base)
        for variant, options in VARIANTS.items():
            log(f"e2e repeat {i + 1}/{args.repeats}: spotclust ({variant})")
            runs[variant].append(_spotclust_once(plan, work, variant, options, i + 1))
    shutil.rmtree(work, ignore_errors=True)
    return {
        "dataset": str(dataset),
        "baseline_cmd": [str(c) for c in baseline_cmd],
        "spotclust_cmds": {v: _shown_cmds(plan, o) for v, o in VARIANTS.items()},
        "sweep_has_no_silhouette": plan.sweep_has_no_silhouette,
        "elbow_ks": plan.elbow_ks,
        "charts_command": plan.charts_help is not None,
        "runs": runs,
    }


# --------------------------------------------------------------------------- report


def _weighted_foreign(steps: list[dict]) -> float | None:
    pairs = [(st["foreign_cpu"], st["wall"]) for st in steps if st.get("foreign_cpu") is not None]
    total = sum(w for _, w in pairs)
    return sum(f * w for f, w in pairs) / total if total else None


def _pair_range(baseline: list[dict], spotclust: list[dict]) -> str:
    """The least and greatest speed-up of the alternating (baseline, spotclust) pairs."""
    pairs = [ratio(b["wall"], s["sum_wall"]) for b, s in zip(baseline, spotclust, strict=False)]
    return f"{fmt_x(min(pairs))}-{fmt_x(max(pairs))}"


def _speed_table(runs: dict, claims: list) -> str:
    base = summary([r["wall"] for r in runs["baseline"]])
    rows = [
        [
            "baseline notebook (pandas + scikit-learn, full silhouette)",
            base["n"],
            fmt_s(base["min"]),
            fmt_s(base["median"]),
            fmt_mb(max(r["max_rss_mb"] for r in runs["baseline"])),
            median_pct([r.get("foreign_cpu") for r in runs["baseline"]]),
            "1.0x / 1.0x",
        ]
    ]
    for variant, label in VARIANT_LABELS.items():
        if not runs.get(variant):
            continue
        sm = summary([r["sum_wall"] for r in runs[variant]])
        speedup = ratio(base["median"], sm["median"])
        rows.append(
            [
                label,
                sm["n"],
                fmt_s(sm["min"]),
                fmt_s(sm["median"]),
                fmt_mb(max(r["max_rss_mb"] for r in runs[variant])),
                median_pct([_weighted_foreign(r["steps"]) for r in runs[variant]]),
                f"{fmt_x(ratio(base['min'], sm['min']))} / {fmt_x(speedup)}",
            ]
        )
        claim, target = CLAIMS[variant]
        measured = f"{fmt_x(speedup)} (pairs {_pair_range(runs['baseline'], runs[variant])})"
        claims.append([claim, f">= {target}x", measured, met(speedup, target)])
    return table(
        ["", "runs", "min", "median", "peak RSS", "foreign CPU", "speed-up (min / median)"], rows
    )


def _commands(e2e: dict, single: bool) -> list[str]:
    body = ["\nCommands (W is a fresh warehouse per run):\n", "```sh", shell(e2e["baseline_cmd"])]
    for variant, cmds in e2e["spotclust_cmds"].items():
        body.append(f"# spotclust, {variant.replace('_', ' ')}")
        body += [shell(c) for c in cmds]
    body.append("```\n")
    if single:
        body.append(
            f"The notebook's work: the elbow inside `spotclust run` is `--sweep "
            f"{e2e.get('elbow_ks')} --no-sweep-silhouette --stability 0`: inertia (plus the "
            "cheap Calinski-Harabasz and Davies-Bouldin) for each k, as the notebook's elbow "
            "records inertia for k=1..10, then k=4 with the exact silhouette. The defaults do "
            "more than the notebook: 10 restarts for every k, a silhouette sampled from 5,000 "
            "rows and 3 stability pairs for each k of the elbow.\n"
        )
    elif e2e["sweep_has_no_silhouette"]:
        body.append(
            f"The elbow is `spotclust sweep --k {e2e.get('elbow_ks')} --no-silhouette`: inertia "
            "(plus the cheap Calinski-Harabasz and Davies-Bouldin) for each k, as the notebook's "
            "elbow records inertia for k=1..10.\n"
        )
    else:
        body.append(
            "**Not the same work:** the notebook's elbow fits k=1..10 and records only inertia; "
            "this `spotclust sweep` has no inertia-only mode, so it also scores an exact "
            "silhouette for each k, which the notebook does not do.\n"
        )
    if not e2e["charts_command"] and not single:
        body.append("`spotclust charts` did not exist when this ran: no charts were timed.\n")
    return body


def _baseline_stages(baseline_runs: list[dict]) -> list[str]:
    stages: dict[str, list] = {}
    for r in baseline_runs:
        for k, v in r["parsed"].get("stages", {}).items():
            stages.setdefault(k, []).append(v)
    parsed = baseline_runs[0]["parsed"]
    return [
        f"Baseline notebook (its own `perf_counter` stages; {parsed.get('rows')} rows, "
        f"silhouette {parsed.get('silhouette')}, cluster sizes {parsed.get('sizes')}):\n",
        table(
            ["stage", "min", "median"],
            [[k, fmt_s(min(v)), fmt_s(statistics.median(v))] for k, v in stages.items()],
        ),
        "",
    ]


def _spotclust_stage_rows(vr: list[dict]) -> list[list]:
    rows: list[list] = []

    def add(label: str, values: list, rss: str = "") -> None:
        values = [v for v in values if v is not None]
        if values:
            rows.append([label, fmt_s(min(values)), fmt_s(statistics.median(values)), rss])

    for j, step in enumerate(vr[0]["steps"]):
        add(
            f"process `{step['step']}`",
            [r["steps"][j]["wall"] for r in vr],
            fmt_mb(max(r["steps"][j]["max_rss_mb"] for r in vr)),
        )
    ingest = [r.get("ingest_seconds") for r in vr]
    add("ingest: load, cleaning tables and views, counts (printed by ingest)", ingest)
    sweep = [sum(x["seconds"] for x in r["sweep"]) if r["sweep"] else None for r in vr]
    if vr[0]["sweep"]:
        add(
            f"sweep: fit and score {len(vr[0]['sweep'])} values of k (sweeps.seconds: time on "
            "one core, summed; the fits run side by side)",
            sweep,
        )
    for name in vr[0]["cluster"].get("seconds", {}):
        add(
            f"cluster: {name} (runs.seconds_{name})",
            [r["cluster"].get("seconds", {}).get(name) for r in vr],
        )
    rest = []
    for r, i_s, s_s in zip(vr, ingest, sweep, strict=True):
        total = r["cluster"].get("seconds", {}).get("total")
        if total is not None:
            rest.append(r["sum_wall"] - (i_s or 0) - (s_s or 0) - total)
    add(
        "everything else (interpreter start-up, imports, summaries printed, charts, exit; "
        "less what the sweep's fits overlapped)",
        rest,
    )
    return rows


def _spotclust_stages(variant: str, vr: list[dict]) -> list[str]:
    c = vr[0]["cluster"]
    return [
        f"spotclust, {variant.replace('_', ' ')}: each process (wall: includes interpreter "
        "start-up and imports), then the stages inside, as spotclust records them:\n",
        table(["", "min", "median", "peak RSS"], _spotclust_stage_rows(vr)),
        f"\nRows clustered: {c.get('rows_used')}, silhouette {c.get('silhouette')} "
        f"({c.get('silhouette_method')}).\n",
    ]


def render(e2e: dict, claims: list) -> list[str]:
    """The report's section 1; adds its line to claims (the summary table)."""
    runs = e2e["runs"]
    single = runs["same_work"][0]["steps"][0]["step"] == "run"
    how = (
        "one `spotclust run` process (ingest, elbow, cluster, profiles, genre breakdown, charts)"
        if single
        else "the sum of its CLI processes, run one after another"
    )
    body = [
        heading("1. End to end: the notebook against spotclust", e2e),
        f"Each figure is a whole process timed from launch to exit: for spotclust, {how}, in a "
        "fresh warehouse. Peak memory is the largest `ru_maxrss` (from `os.wait4`). Baseline and "
        "spotclust runs alternate, so background load hits both alike; *foreign CPU* is the "
        "share of the machine other processes used meanwhile (0% on a quiet machine). One "
        "untimed spotclust warm-up runs first (it warms the OS file cache and numba's on-disk "
        "cache, as any second use would).\n",
        _speed_table(runs, claims),
    ]
    body += _commands(e2e, single)
    body.append("### Stage timings\n")
    body += _baseline_stages(runs["baseline"])
    for variant in VARIANT_LABELS:
        if runs.get(variant):
            body += _spotclust_stages(variant, runs[variant])
    return body
