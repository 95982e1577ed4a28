"""Section ingest: the shipped file's ingest against DuckDB's plain read_csv of the same file,
measured in the same run. Each round runs, in fresh child processes and in alternating order,
(a) DuckDB alone: `CREATE TABLE AS SELECT * FROM read_csv(file)` in a fresh database file,
(b) `spotclust.api.ingest(file)` into a fresh warehouse, both timed inside the child from
just before the call to just after it (imports excluded, the OS file cache warm), and (c) the
whole `spotclust ingest` process. The ratio is (b) / (a) of the same round."""

from __future__ import annotations

import shutil
from pathlib import Path

from .harness import OUT, PYTHON, check, child_env, log, parse_result, process_summary, run_process
from .markdown import fmt_s, fmt_x, heading, median_pct, shell, summary, table
from .spotclust_cli import ingest_seconds, spotclust_cmd

ROUNDS = 7  # at least 5 of each; --quick: 2
TARGET = 2.0  # spotclust's ingest at most this many times DuckDB's plain read_csv

# One measurement in a child process: the call alone is timed (wall and this process's CPU
# seconds, DuckDB's threads included), after every import it needs.
_CHILD = r"""
import json, sys, time
mode, path, db = sys.argv[1:4]
if mode == "duckdb":
    import duckdb
    wall, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(db)
    con.execute("CREATE TABLE tracks AS SELECT * FROM read_csv($path)", {"path": path})
    con.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = duckdb.connect(db, read_only=True).execute("SELECT count(*) FROM tracks").fetchone()[0]
else:
    import spotclust.api
    import spotclust.files.ingest  # what the call imports on its first use
    wall, cpu = time.perf_counter(), time.process_time()
    result = spotclust.api.ingest(path, db)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = result.rows
print("RESULT " + json.dumps({"seconds": wall, "cpu": cpu, "rows": rows}))
"""


def _in_child(mode: str, dataset: Path, db: Path, timeout: float) -> dict:
    label = "duckdb read_csv" if mode == "duckdb" else "spotclust.api.ingest"
    result = check(
        run_process([PYTHON, "-c", _CHILD, mode, dataset, db], env=child_env(), label=label,
                    timeout=timeout)
    )  # fmt: skip
    return {**parse_result(result["stdout"]), "process": process_summary(result)}


def _cli(dataset: Path, db: Path, timeout: float) -> dict:
    command = [*spotclust_cmd(), "ingest", dataset, "--db", db]
    result = check(run_process(command, env=child_env(), label="spotclust ingest", timeout=timeout))
    return {**process_summary(result), "printed_seconds": ingest_seconds(result["stdout"])}


def _round(i: int, dataset: Path, work: Path, timeout: float) -> dict:
    """One of each, the two in-process measurements in alternating order."""
    folder = work / f"round_{i}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    order = ["duckdb", "spotclust"] if i % 2 == 0 else ["spotclust", "duckdb"]
    out: dict = {"order": order}
    for mode in order:
        out[mode] = _in_child(mode, dataset, folder / f"{mode}.duckdb", timeout)
    out["cli"] = _cli(dataset, folder / "cli.duckdb", timeout)
    out["ratio"] = out["spotclust"]["seconds"] / out["duckdb"]["seconds"]
    out["cpu_ratio"] = out["spotclust"]["cpu"] / out["duckdb"]["cpu"]
    shutil.rmtree(folder, ignore_errors=True)
    return out


def run(args, dataset: Path) -> dict:
    work = OUT / "ingest"
    rounds = 2 if args.quick else max(ROUNDS, args.repeats)
    log(f"ingest: warm-up (not timed), then {rounds} rounds")
    _round(-1, dataset, work, args.timeout)  # warms the OS file cache and the imports
    runs = []
    for i in range(rounds):
        log(f"ingest: round {i + 1}/{rounds}")
        runs.append(_round(i, dataset, work, args.timeout))
    shutil.rmtree(work, ignore_errors=True)
    return {"dataset": str(dataset), "rounds": runs}


# --------------------------------------------------------------------------- report


def _x_range(values: list[float]) -> str:
    s = summary(values)
    return f"{fmt_x(s['median'])} ({fmt_x(s['min'])}-{fmt_x(s['max'])})"


def _row(label: str, values: list[float], foreign: list) -> list:
    s = summary(values)
    spread = f"{fmt_s(s['min'])} - {fmt_s(s['max'])}"
    return [label, fmt_s(s["median"]), spread, median_pct(foreign)]


def _table(rounds: list[dict]) -> str:
    rows = [
        _row(
            "DuckDB alone: `CREATE TABLE AS SELECT * FROM read_csv(file)`, the call",
            [r["duckdb"]["seconds"] for r in rounds],
            [r["duckdb"]["process"]["foreign_cpu"] for r in rounds],
        ),
        _row(
            "`spotclust.api.ingest(file)`, the call",
            [r["spotclust"]["seconds"] for r in rounds],
            [r["spotclust"]["process"]["foreign_cpu"] for r in rounds],
        ),
        _row(
            "DuckDB alone, whole process (with `import duckdb`)",
            [r["duckdb"]["process"]["wall"] for r in rounds],
            [r["duckdb"]["process"]["foreign_cpu"] for r in rounds],
        ),
        _row(
            "`spotclust ingest FILE`, whole process",
            [r["cli"]["wall"] for r in rounds],
            [r["cli"]["foreign_cpu"] for r in rounds],
        ),
        _row(
            "`spotclust ingest FILE`, the seconds it prints",
            [r["cli"]["printed_seconds"] for r in rounds],
            [r["cli"]["foreign_cpu"] for r in rounds],
        ),
    ]
    return table(["", "median", "range", "foreign CPU"], rows)


def render(section: dict, claims: list) -> list[str]:
    """The report's ingest section; adds its line to claims (the summary table)."""
    rounds = section["rounds"]
    ratios = [r["ratio"] for r in rounds]
    median = summary(ratios)["median"]
    claims.append(
        [
            "ingest of the shipped file vs DuckDB's plain read_csv (median; range)",
            f"<= {TARGET:g}x",
            _x_range(ratios),
            "yes" if median is not None and median <= TARGET else "**no**",
        ]
    )
    rows = rounds[0]["spotclust"]["rows"]
    same = all(r["duckdb"]["rows"] == r["spotclust"]["rows"] for r in rounds)
    return [
        heading("6. Ingest: the shipped file against DuckDB reading it alone", section),
        f"{len(rounds)} rounds after an untimed warm-up. Each round runs DuckDB alone and "
        "spotclust's ingest in fresh child processes, in alternating order, each into a fresh "
        "database file, and times the call inside the child (imports excluded; DuckDB's "
        "threads count in the CPU figure); then the whole `spotclust ingest` process. "
        "*Foreign CPU* is the share of the machine other processes used meanwhile.\n",
        _table(rounds),
        f"\nspotclust's ingest / DuckDB alone, the same round: **{_x_range(ratios)}** wall "
        f"(median; range), {_x_range([r['cpu_ratio'] for r in rounds])} CPU. Rows: {rows:,} "
        f"{'in both' if same else '**differ**'}. Beyond DuckDB's read, the ingest works out "
        "the file's dialect from the whole file (DuckDB's sniffer decompresses all of it), on "
        "the other core while it loads the rows as the file's first 256 KiB say (committed "
        "only if both agree); then it records the ingest, builds the cleaning tables "
        "(row_checks, tracks, track_genres, feature_correlations) and commits them with the "
        "rows in one transaction, where compressing the three tables' text dominates. With "
        "the other core busy (*foreign CPU* near 50%), the sniff no longer overlaps.\n",
        "```sh",
        shell(rounds[0]["cli"]["cmd"]),
        "```\n",
    ]
