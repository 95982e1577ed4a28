"""Section scale: synthetic data (spotclust.synth) at 1M and 10M rows: ingest (Parquet and
CSV), cluster (k-means and MiniBatchKMeans), time and peak memory, large/small ratios."""

from __future__ import annotations

import json
from pathlib import Path

from .environment import source_sha256
from .harness import (
    OUT,
    PYTHON,
    check,
    child_env,
    log,
    process_outcome,
    process_summary,
    run_process,
)
from .markdown import fmt_mb, fmt_s, heading, met, pct, ratio, table
from .spotclust_cli import (
    has_command,
    ingest_seconds,
    module_source,
    remove_warehouse,
    run_stages,
    safe_query,
    spotclust_cmd,
)

ALGORITHMS = ("kmeans", "minibatch")
STEPS = ("synth", "ingest", "ingest_csv", *ALGORITHMS)
# How the steps are named in the report.
STEP_NAMES = {"ingest": "ingest (Parquet)", "ingest_csv": "ingest, CSV"}
STAGES = ("load", "scale", "pca", "kmeans", "silhouette", "metrics", "write", "total")
SYNTH_MODULE = "spotclust.files.synth"


def synthesize(args, cli: list, synth_help: str | None, path: Path, rows: int) -> dict:
    """The synth process record; with --reuse-synth, that of the run that made the file if
    the synthesizer's source has not changed since."""
    stamp = path.with_suffix(".json")
    source = module_source(SYNTH_MODULE)
    synth_sha = source_sha256(source) if source else None  # None: never reuse
    previous = json.loads(stamp.read_text()) if stamp.exists() else {}
    if (
        args.reuse_synth
        and synth_sha
        and path.exists()
        and previous.get("rows") == rows
        and previous.get("synth_sha256") == synth_sha
    ):
        log(f"scale: reusing {path.name}")
        return previous["synth"]
    log(f"scale: synthesize {rows:,} rows")
    if synth_help is not None:
        cmd = [*cli, "synth", "--rows", rows, "--out", path, "--seed", args.seed]
    else:
        cmd = [PYTHON, "-m", SYNTH_MODULE, rows, path, args.seed]
    synth = check(
        run_process(cmd, env=child_env(), label=f"synth {rows:,}", timeout=args.timeout * 4)
    )
    record = {**process_summary(synth), "bytes": path.stat().st_size}
    stamp.write_text(json.dumps({"rows": rows, "synth_sha256": synth_sha, "synth": record}))
    return record


def ingest(args, cli: list, source: Path, db: Path, label: str) -> dict:
    """`spotclust ingest source` into db (may fail: the record says how)."""
    return run_process(
        [*cli, "ingest", source, "--db", db],
        env=child_env(),
        label=label,
        timeout=args.timeout * 4,
    )


def _cluster_all(args, cli: list, db: Path, rows: int, entry: dict) -> None:
    """Record counts, then one `cluster --k 4` per algorithm, in entry."""
    counts = safe_query(
        db,
        "SELECT (SELECT count(*) FROM raw_tracks) AS raw_rows, "
        "(SELECT count(*) FROM tracks) AS clean_tracks",
    )
    entry["counts"] = counts[0] if counts else {}
    for algorithm in ALGORITHMS:
        log(f"scale: cluster --k 4 --algorithm {algorithm} on {rows:,} rows")
        cmd = [*cli, "cluster", "--k", "4", "--algorithm", algorithm, "--db", db, "-q"]
        result = run_process(
            cmd,
            env=child_env(),
            label=f"cluster {algorithm} {rows:,}",
            timeout=args.timeout * 4,
        )
        entry[algorithm] = {
            **process_outcome(result),
            "run": run_stages(db) if result["returncode"] == 0 else {},
        }


def _csv_ingest(args, cli: list, parquet: Path, rows: int) -> dict:
    """The same rows ingested from CSV (the format most users have), in a fresh warehouse.

    The CSV is written from the Parquet file by DuckDB first (not timed) and removed after.
    """
    csv_path = parquet.with_suffix(".csv")
    db = parquet.with_name(f"w_{rows}_csv.duckdb")
    csv_path.unlink(missing_ok=True)
    remove_warehouse(db)
    log(f"scale: write {rows:,} rows as CSV (not timed)")
    copy = (
        "import duckdb, sys; duckdb.connect().execute("
        "f\"COPY (SELECT * FROM read_parquet('{sys.argv[1]}')) TO '{sys.argv[2]}' (HEADER)\")"
    )
    check(run_process([PYTHON, "-c", copy, parquet, csv_path], env=child_env(), label="to CSV"))
    csv_bytes = csv_path.stat().st_size
    log(f"scale: ingest {rows:,} rows from CSV")
    result = ingest(args, cli, csv_path, db, f"ingest CSV {rows:,}")
    csv_path.unlink(missing_ok=True)
    if not args.keep:
        remove_warehouse(db)
    return {**process_outcome(result), "csv_bytes": csv_bytes}


def _measure_size(args, cli: list, synth_help: str | None, work: Path, rows: int) -> dict:
    path = work / f"synth_{rows}_seed{args.seed}.parquet"
    entry: dict = {"rows": rows, "file": str(path)}
    entry["synth"] = synthesize(args, cli, synth_help, path, rows)
    db = work / f"w_{rows}.duckdb"
    remove_warehouse(db)
    log(f"scale: ingest {rows:,} rows")
    ingested = ingest(args, cli, path, db, f"ingest {rows:,}")
    entry["ingest"] = {
        **process_outcome(ingested),
        "seconds_reported": ingest_seconds(ingested["stdout"]),
    }
    if ingested["returncode"] == 0:
        _cluster_all(args, cli, db, rows, entry)
        entry["warehouse_bytes"] = db.stat().st_size if db.exists() else None
        entry["ingest_csv"] = _csv_ingest(args, cli, path, rows)
    if not args.keep:
        remove_warehouse(db)
    return entry


def run(args, dataset: Path) -> dict:
    """Every size in --scale-rows (the shipped dataset is not used: the data are synthetic)."""
    work = OUT / "scale"
    work.mkdir(parents=True, exist_ok=True)
    cli = spotclust_cmd()
    synth_help = has_command("synth")
    out: dict = {"sizes": {}, "synth_command": synth_help is not None}
    for rows in args.scale_rows:
        out["sizes"][str(rows)] = _measure_size(args, cli, synth_help, work, rows)
    return out


# --------------------------------------------------------------------------- report


def _failed(p: dict) -> bool:
    return p.get("returncode", 0) != 0 or bool(p.get("timed_out"))


def _process_rows(sizes: dict) -> list[list]:
    rows = []
    for key, e in sizes.items():
        clean = e.get("counts", {}).get("clean_tracks")
        for step in STEPS:
            p = e.get(step)
            if not p:
                continue
            state = ""
            if p.get("timed_out"):
                state = " (timed out)"
            elif p.get("returncode", 0) != 0:
                state = f" (failed: exit {p['returncode']})"
            rows.append(
                [
                    f"{int(key):,}",
                    STEP_NAMES.get(step, step) + state,
                    fmt_s(p["wall"], 1),
                    fmt_mb(p["max_rss_mb"]),
                    "yes" if p["max_rss_mb"] < 4096 else "**no**",
                    pct(p.get("foreign_cpu")),
                    f"{clean:,}" if clean and step in ALGORITHMS else "",
                ]
            )
    return rows


def _growth_rows(small: dict, big: dict) -> list[list]:
    rows = []
    for step in STEPS:
        a, b = small.get(step), big.get(step)
        if a and b and a.get("returncode", 0) == 0 and b.get("returncode", 0) == 0:
            rows.append(
                [
                    STEP_NAMES.get(step, step),
                    fmt_s(a["wall"], 1),
                    fmt_s(b["wall"], 1),
                    f"{b['wall'] / a['wall']:.1f}",
                    f"{b['max_rss_mb'] / a['max_rss_mb']:.1f}",
                ]
            )
    return rows


def _growth_claims(small: dict, big: dict, n_small: int, n_big: int) -> list[list]:
    factor = n_big / n_small
    big_rss = max((big.get(k) or {}).get("max_rss_mb", 0) for k in ("ingest", "kmeans"))
    t_small = sum((small.get(k) or {}).get("wall", 0) for k in ("ingest", "kmeans"))
    t_big = sum((big.get(k) or {}).get("wall", 0) for k in ("ingest", "kmeans"))
    ok = all((big.get(k) or {}).get("returncode", 1) == 0 for k in ("ingest", "kmeans"))
    mb = big.get("minibatch") or {}
    return [
        [
            f"{n_big:,} rows: peak memory (ingest, cluster)",
            "< 4 GB",
            fmt_mb(big_rss),
            met(4096 - big_rss if ok else None, 0),
        ],
        [
            f"ingest + cluster time, {n_big:,} / {n_small:,} rows",
            f"<= {factor:.0f} (linear)",
            f"{ratio(t_big, t_small) or 0:.1f}",
            met(factor - (ratio(t_big, t_small) or 1e9) if ok else None, 0),
        ],
        [
            f"{n_big:,} rows, `--algorithm minibatch` peak memory",
            "(report)",
            fmt_mb(mb.get("max_rss_mb")),
            "",
        ],
    ]


def _growth(sizes: dict, claims: list) -> list[str]:
    """Smallest against largest size, if there are two; adds the scale claims."""
    keys = sorted(sizes, key=int)
    if len(keys) < 2:
        return []
    n_small, n_big = int(keys[0]), int(keys[-1])
    small, big = sizes[keys[0]], sizes[keys[-1]]
    factor = n_big / n_small
    claims += _growth_claims(small, big, n_small, n_big)
    growth_rows = _growth_rows(small, big)
    return [
        f"\nGrowth from {n_small:,} to {n_big:,} rows ({factor:.0f}x the rows; linear growth "
        f"is a time ratio of {factor:.0f}):\n",
        table(["process", "small", "large", "time ratio", "memory ratio"], growth_rows),
    ]


def _stage_rows(sizes: dict) -> list[list]:
    rows = []
    for key, e in sizes.items():
        for algorithm in ALGORITHMS:
            proc = e.get(algorithm) or {}
            secs = (proc.get("run") or {}).get("seconds") or {}
            if secs:
                outside = proc["wall"] - secs["total"] if secs.get("total") else None
                rows.append(
                    [f"{int(key):,}", algorithm]
                    + [fmt_s(secs.get(n), 1) for n in STAGES]
                    + [fmt_s(outside, 1)]
                )
    return rows


def _failures(sizes: dict) -> list[str]:
    body = []
    for key, e in sizes.items():
        ing = e.get("ingest") or {}
        if _failed(ing):
            body.append(f"Ingest of {int(key):,} rows failed: `{ing.get('stderr', '')[-300:]}`\n")
        for algorithm in ALGORITHMS:
            p = e.get(algorithm) or {}
            if p and _failed(p):
                body.append(
                    f"`cluster --algorithm {algorithm}` on {int(key):,} rows failed: "
                    f"`{p.get('stderr', '')[-300:]}`\n"
                )
    return body


def render(sc: dict, claims: list) -> list[str]:
    """The report's section 4; adds its lines to claims (the summary table)."""
    sizes = sc["sizes"]
    header = ["rows", "process", "wall", "peak RSS", "< 4 GB", "foreign CPU", "tracks clustered"]
    body = [
        heading("4. Scale: synthetic data, 1M and 10M rows", sc),
        "`spotclust.synth` (distributions fitted per genre to the shipped data; Parquet; "
        "seed 0), then `spotclust ingest FILE` and `spotclust cluster --k 4` (default "
        "options: one row per track; above 250,000 rows the silhouette is estimated from a "
        "5,000-row sample) with `--algorithm kmeans` and `minibatch`, each a separate process "
        "in a fresh warehouse. *ingest, CSV*: the same rows written as CSV by DuckDB (not "
        "timed), ingested into another fresh warehouse.\n",
        table(header, _process_rows(sizes)),
        *_growth(sizes, claims),
        "\nWhere the time goes (stage seconds from the `runs` table; *outside* is the "
        "process wall time minus `seconds_total`: interpreter start-up, imports, opening "
        "the warehouse, the cluster summary query and exit):\n",
    ]
    stage_rows = _stage_rows(sizes)
    if stage_rows:
        body.append(table(["rows", "algorithm", *STAGES, "outside"], stage_rows))
    body.append("")
    return body + _failures(sizes)
