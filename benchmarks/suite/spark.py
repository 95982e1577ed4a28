"""Section spark: the local engine against Spark local[2], on the scale section's synthetic
data (1M and 10M rows): `spotclust cluster --k 4 --n-init 1`, each engine a fresh process on
the same warehouse. Wall time, the driver's peak memory (the Python process's ru_maxrss,
which Spark's JVM, a child it never reaps, is not part of), Spark's own peak JVM memory
(from its event log: per-stage executor metrics, with the JVM's resident set read from
/proc), the stage times from `runs`, and from them the per-row costs that say where a real
cluster would overtake this machine."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .harness import OUT, check, child_env, log, process_outcome, run_process
from .markdown import fmt_mb, fmt_s, heading, pct, table
from .scale import ingest, synthesize
from .spotclust_cli import (
    has_command,
    python_json,
    remove_warehouse,
    run_stages,
    safe_query,
    spotclust_cmd,
)

ENGINES = ("local", "spark")
CLUSTER = ["cluster", "--k", "4", "--n-init", "1", "--no-charts", "-q"]
DRIVER_MEMORY = "6g"  # local[2] runs its executor inside the driver's JVM
# The JVM figures Spark's event log records (bytes), and how the report names them.
JVM_FIGURES = {
    "ProcessTreeJVMRSSMemory": "JVM resident",
    "JVMHeapMemory": "heap",
    "JVMOffHeapMemory": "off-heap",
}
STAGES = ("engine_start", "load", "scale", "pca", "kmeans", "silhouette", "metrics", "write")
# Spark's stages that run on the executors (they divide among a cluster's workers); the rest
# run on the driver: staging by DuckDB (load without engine_start), DuckDB's load (write).
PARALLEL = ("scale", "pca", "kmeans", "silhouette", "metrics")
RAM_GIB = 24  # this machine's memory (environment.machine() records it)


def spark_options(events: Path) -> list:
    """--engine spark on local[2], with the event log that records the JVM's memory."""
    settings = {
        "spark.driver.memory": DRIVER_MEMORY,
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": events.as_uri(),
        "spark.eventLog.rolling.enabled": "false",  # one plain JSON file to read
        "spark.eventLog.compress": "false",
        "spark.eventLog.logStageExecutorMetrics": "true",
        "spark.executor.processTreeMetrics.enabled": "true",
    }
    conf = [arg for key, value in settings.items() for arg in ("--spark-conf", f"{key}={value}")]
    return ["--engine", "spark", "--spark-master", "local[2]", *conf]


def jvm_figures(events: Path) -> dict:
    """From Spark's event log: the largest value of each JVM_FIGURES metric (bytes), and the
    CPU seconds its tasks took (the harness counts the JVM, a process it does not wait for,
    as foreign CPU: this is how much of that was Spark's own work)."""
    figures: dict = {"task_cpu_seconds": 0.0}
    for log_file in (path for path in events.rglob("*") if path.is_file()):
        with log_file.open() as lines:
            for line in lines:
                event = json.loads(line)
                for key in ("Executor Metrics", "Task Executor Metrics"):
                    for name, value in (event.get(key) or {}).items():
                        if name in JVM_FIGURES:
                            figures[name] = max(figures.get(name, 0), int(value))
                task = event.get("Task Metrics") or {}
                cpu_ns = task.get("Executor CPU Time", 0) + task.get(
                    "Executor Deserialize CPU Time", 0
                )
                figures["task_cpu_seconds"] += cpu_ns / 1e9
    return figures


def _foreign(p: dict) -> float | None:
    """Other processes' share of the machine's CPU while p ran, less Spark's own tasks."""
    share = p.get("foreign_cpu")
    if share is None or "jvm" not in p:
        return share
    cores = p.get("cores") or 2
    return max(0.0, share - p["jvm"].get("task_cpu_seconds", 0) / (p["wall"] * cores))


def _cluster(args, cli: list, db: Path, engine: str, work: Path, rows: int) -> dict:
    events = work / f"events_{rows}"
    shutil.rmtree(events, ignore_errors=True)
    events.mkdir(parents=True)
    extra = spark_options(events) if engine == "spark" else []
    log(f"spark: cluster --engine {engine} on {rows:,} rows")
    result = run_process(
        [*cli, *CLUSTER, "--db", db, *extra],
        env=child_env(),
        label=f"cluster {engine} {rows:,}",
        timeout=args.timeout * 4,
    )
    record = {**process_outcome(result), "run": run_stages(db) if result["returncode"] == 0 else {}}
    if engine == "spark":
        record["jvm"] = jvm_figures(events)
        record["cores"] = os.cpu_count()
    shutil.rmtree(events, ignore_errors=True)
    return record


_AGREEMENT = """
import json, sys, spotclust
runs = dict(spotclust.query("SELECT engine, run_id FROM runs", db=sys.argv[1])[1])
print(json.dumps(spotclust.compare(runs["local"], runs["spark"], sys.argv[1]).adjusted_rand))
"""


def _agreement(db: Path) -> float | None:
    """The adjusted Rand index between the local run and the Spark run."""
    try:
        return python_json(_AGREEMENT, db)
    except (RuntimeError, KeyError) as exc:
        log(f"  (no agreement: {exc})")
        return None


def _measure_size(args, cli: list, synth_help: str | None, rows: int) -> dict:
    # The scale section's files (shared with --reuse-synth), warehouses of this section's own.
    path = OUT / "scale" / f"synth_{rows}_seed{args.seed}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    work = OUT / "spark"
    work.mkdir(parents=True, exist_ok=True)
    entry: dict = {"rows": rows, "synth": synthesize(args, cli, synth_help, path, rows)}
    db = work / f"w_{rows}.duckdb"
    remove_warehouse(db)
    log(f"spark: ingest {rows:,} rows")
    check(ingest(args, cli, path, db, f"ingest {rows:,}"))
    counts = safe_query(db, "SELECT count(*) AS clean_tracks FROM tracks")
    entry["clean_tracks"] = counts[0]["clean_tracks"] if counts else None
    for engine in ENGINES:
        entry[engine] = _cluster(args, cli, db, engine, work, rows)
    entry["adjusted_rand"] = _agreement(db)
    if not args.keep:
        remove_warehouse(db)
    return entry


def run(args, dataset: Path) -> dict:
    """Every size in --scale-rows (the shipped dataset is not used: the data are synthetic)."""
    cli = spotclust_cmd()
    out: dict = {"sizes": {}, "driver_memory": DRIVER_MEMORY}
    for rows in args.scale_rows:
        out["sizes"][str(rows)] = _measure_size(args, cli, has_command("synth"), rows)
    return out


# --------------------------------------------------------------------------- report


def _ok(p: dict | None) -> bool:
    return bool(p) and p.get("returncode") == 0 and not p.get("timed_out")


def _jvm_mb(p: dict, name: str) -> str:
    value = (p.get("jvm") or {}).get(name)
    return fmt_mb(value / 2**20) if value else "–"


def _process_rows(sizes: dict) -> list[list]:
    rows = []
    for key, e in sizes.items():
        for engine in ENGINES:
            p = e.get(engine) or {}
            if not p:
                continue
            state = "" if _ok(p) else f" (failed: exit {p.get('returncode')})"
            run = p.get("run") or {}
            rows.append(
                [
                    f"{int(key):,}",
                    engine + state,
                    fmt_s(p.get("wall"), 1),
                    fmt_mb(p.get("max_rss_mb")),
                    *(_jvm_mb(p, name) for name in JVM_FIGURES),
                    "–" if run.get("silhouette") is None else f"{run['silhouette']:.4f}",
                    _rand(e) if engine == "spark" else "",
                    pct(_foreign(p)),
                ]
            )
    return rows


def _rand(entry: dict) -> str:
    rand = entry.get("adjusted_rand")
    return "–" if rand is None else f"{rand:.3f}"


def _stage_rows(sizes: dict) -> list[list]:
    rows = []
    for key, e in sizes.items():
        for engine in ENGINES:
            p = e.get(engine) or {}
            seconds = (p.get("run") or {}).get("seconds") or {}
            if seconds:
                outside = p["wall"] - seconds["total"] if seconds.get("total") else None
                cells = [fmt_s(seconds.get(name), 1) for name in (*STAGES, "total")]
                rows.append([f"{int(key):,}", engine, *cells, fmt_s(outside, 1)])
    return rows


def _seconds(p: dict, names: tuple[str, ...]) -> float:
    """A process's seconds in the named stages of `runs` ('wall': its wall time; a stage
    named '-stage' is taken away)."""
    stages = p["run"]["seconds"]
    total = 0.0
    for name in names:
        sign, name = (-1, name[1:]) if name.startswith("-") else (1, name)
        total += sign * (p["wall"] if name == "wall" else stages.get(name) or 0)
    return total


def per_row_costs(small: dict, big: dict, n_small: int, n_big: int) -> dict | None:
    """Seconds per row (the slope between the two sizes, so that fixed costs drop out) of
    each engine's process, Spark's JVM start aside (a fixed cost, however long it took); of
    Spark's executor stages (parallel: they divide among a cluster's workers) and of what
    its driver does per row (serial: DuckDB staging the rows and loading the assignments)."""
    if not all(_ok(e.get(engine)) for e in (small, big) for engine in ENGINES):
        return None

    def slope(engine: str, *names: str) -> float:
        return (_seconds(big[engine], names) - _seconds(small[engine], names)) / (n_big - n_small)

    local_rss = (big["local"]["max_rss_mb"] - small["local"]["max_rss_mb"]) * 2**20
    local_rss /= n_big - n_small
    return {
        "local": slope("local", "wall"),
        "spark": slope("spark", "wall", "-engine_start"),
        "spark_parallel": slope("spark", *PARALLEL),
        "spark_serial": slope("spark", "load", "-engine_start", "write"),
        "local_bytes_per_row": local_rss,
        "local_row_limit": RAM_GIB * 2**30 / local_rss,
    }


def _crossover(costs: dict) -> str:
    """Where Spark on a real cluster of W such 2-core workers would overtake this machine,
    per row: serial + parallel / W < local."""
    local, serial, parallel = costs["local"], costs["spark_serial"], costs["spark_parallel"]
    us = {name: value * 1e6 for name, value in costs.items() if not name.startswith("local_")}
    limit = costs["local_row_limit"]
    head = (
        f"Per row (the slope from the smaller to the larger size, so start-up costs drop "
        f"out), the local engine costs {us['local']:.2f} µs and Spark local[2] "
        f"{us['spark']:.2f} µs: {us['spark_parallel']:.2f} µs in Spark's stages (they divide "
        f"among a cluster's workers) and {us['spark_serial']:.2f} µs on the driver (DuckDB "
        "staging the rows and loading the assignments back; the rest is the process). "
    )
    if serial >= local:
        where = (
            "The driver's share alone costs more per row than the whole local run, so no "
            "number of workers makes Spark faster here: what it buys is memory. "
        )
    else:
        workers = parallel / (local - serial)
        where = (
            f"With W workers like this machine, Spark's time per row is {us['spark_serial']:.2f}"
            f" + {us['spark_parallel']:.2f} / W µs: it overtakes the local engine from W ≈ "
            f"{workers:.1f} workers, on data large enough for start-up to be negligible. "
        )
    return (
        head
        + where
        + f"The local engine's peak memory grows by {costs['local_bytes_per_row']:.0f} bytes a "
        f"row, which caps it at about {limit / 1e6:.0f}M rows on this {RAM_GIB} GiB machine; "
        "Spark's driver holds no per-row arrays (the rows stay in Parquet and in the executors)."
    )


def render(section: dict, claims: list) -> list[str]:
    """The report's part: processes, stages, per-row costs and the crossover."""
    sizes = section["sizes"]
    jvm_names = [f"Spark {label} peak" for label in JVM_FIGURES.values()]
    body = [
        heading("9. Local engine against Spark local[2]: 1M and 10M rows", section),
        "The scale section's synthetic data, ingested once; then `spotclust cluster --k 4 "
        "--n-init 1 --no-charts` on each engine, each a fresh process on the same warehouse "
        "(one k-means fit each: k-means++ locally, k-means|| on Spark). Spark: `--spark-master "
        f"local[2] --spark-conf spark.driver.memory={section.get('driver_memory')}`, with "
        "its event log on (per-stage executor metrics, process-tree memory). *driver peak "
        "RSS*: the spotclust (Python) process's ru_maxrss; Spark's JVM is a child process it "
        "never reaps, so its memory is in the Spark columns (largest value the event log "
        "recorded; in local mode the one JVM is driver and executor). *foreign CPU*: the "
        "share of the machine's CPU other processes took meanwhile (for Spark, less the CPU "
        "time of Spark's tasks, from the event log: what is left also holds the JVM's own "
        "garbage collection, compilation and scheduling). *adjusted Rand vs local*: between the "
        "two runs' assignments (`spotclust compare`).\n",
        table(
            [
                "rows",
                "engine",
                "wall",
                "driver peak RSS",
                *jvm_names,
                "silhouette",
                "adjusted Rand vs local",
                "foreign CPU",
            ],  # fmt: skip
            _process_rows(sizes),
        ),
        "\nStage seconds (from `runs`; Spark's *load* includes *engine_start* and DuckDB "
        "staging the rows as Parquet; *outside*: wall time minus `seconds_total`):\n",
        table(["rows", "engine", *STAGES, "total", "outside"], _stage_rows(sizes)),
        "",
    ]
    keys = sorted(sizes, key=int)
    if len(keys) >= 2:
        small, big = sizes[keys[0]], sizes[keys[-1]]
        costs = per_row_costs(small, big, int(keys[0]), int(keys[-1]))
        if costs:
            body.append(_crossover(costs) + "\n")
            ratio = big["spark"]["wall"] / big["local"]["wall"]
            claims.append(
                [
                    f"Spark local[2] / local engine, wall time at {int(keys[-1]):,} rows",
                    "(report)",
                    f"{ratio:.1f}x",
                    "",
                ]
            )
    return body
