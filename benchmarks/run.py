"""The spotclust benchmark: one command, one run, every figure in benchmarks/RESULTS.md.

usage: .venv/bin/python benchmarks/run.py [--repeats N] [--quick] [--skip-scale] ...
       (`--help` lists every option)

Sections, run in this order in one process tree (each measured process is a child of this one;
its wall time comes from the clock, its CPU time and peak memory from os.wait4's rusage):

  e2e         the baseline notebook (benchmarks/baseline_notebook.py, full silhouette) against
              spotclust doing the same work as separate CLI processes in a fresh warehouse
              (ingest, the elbow sweep, cluster --k 4 with exact silhouette, charts if the
              command exists), interleaved, several times each; stage timings for both
  silhouette  sklearn.metrics.silhouette_score against spotclust.silhouette.silhouette_score
              on the baseline's own 2-D PCA points and k=4 labels
  sweep       k=2..12 with a silhouette for each k: `spotclust sweep` against the same sweep
              done the notebook way (benchmarks/notebook_sweep.py)
  scale       synthetic data (spotclust.synth) at 1M and 10M rows: ingest, cluster (k-means
              and MiniBatchKMeans), time and peak memory, 10M/1M ratios

Raw results go to benchmarks/out/results.json (ignored by git), the report to
benchmarks/RESULTS.md. With --quick everything is smaller and the report goes to
benchmarks/out/RESULTS.quick.md instead (a smoke test of this script, not a measurement).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PYTHON = sys.executable
SHARED_BASELINE = Path("/work/shared/bench/baseline_notebook.py")  # where the copy came from
SECTIONS = ("e2e", "silhouette", "sweep", "scale")
LIBRARIES = (
    "duckdb",
    "polars",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "numpy",
    "numba",
    "llvmlite",
    "pandas",
    "click",
)


# --------------------------------------------------------------------------- measuring


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def _cpu_busy_seconds() -> float | None:
    """Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    busy = sum(ticks[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def run_process(
    cmd: list,
    *,
    cwd: Path | None = None,
    env: dict | None = None,
    timeout: float | None = None,
    label: str = "",
) -> dict:
    """Run cmd as a child; its wall time, CPU time, peak RSS (os.wait4) and output.

    foreign_cpu is the share of the machine's CPU capacity that other processes used while
    it ran (from /proc/stat): near 0 on a quiet machine.
    """
    cmd = [str(c) for c in cmd]
    wait_for_quiet()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy0 = _cpu_busy_seconds()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        wall = time.perf_counter() - t0
        busy1 = _cpu_busy_seconds()
        proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it was reaped
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    foreign = None
    if busy0 is not None and busy1 is not None and wall > 0:
        foreign = max(0.0, (busy1 - busy0 - cpu) / (wall * (os.cpu_count() or 1)))
    result = {
        "label": label,
        "cmd": cmd,
        "returncode": proc.returncode,
        "timed_out": killed.is_set(),
        "wall": wall,
        "cpu": cpu,
        "max_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "foreign_cpu": foreign,
        "stdout": stdout,
        "stderr": stderr[-4000:],
    }
    note = f"  foreign CPU {foreign:.0%}" if foreign is not None and foreign > 0.05 else ""
    state = "TIMED OUT" if killed.is_set() else f"exit {proc.returncode}"
    log(
        f"  {label or cmd[-1]}: {wall:.2f} s, peak RSS {result['max_rss_mb']:.0f} MB, {state}{note}"
    )
    return result


def check(result: dict) -> dict:
    if result["returncode"] != 0 or result["timed_out"]:
        raise RuntimeError(
            f"{' '.join(result['cmd'])} failed ({result['returncode']}):\n"
            f"{result['stdout'][-2000:]}\n{result['stderr']}"
        )
    return result


def parse_result(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"no RESULT line in output:\n{stdout[-2000:]}")


def summary(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {
        "n": len(values),
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
    }


def child_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SPOTCLUST_DB"}
    env.update(extra)
    return env


def spotclust_cmd() -> list[str]:
    script = Path(PYTHON).parent / "spotclust"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [PYTHON, "-m", "spotclust.cli"]


def has_command(*args: str) -> str | None:
    """The --help text of `spotclust ARGS`, or None if that command does not exist."""
    done = subprocess.run(
        [*spotclust_cmd(), *args, "--help"], capture_output=True, text=True, env=child_env()
    )
    return done.stdout if done.returncode == 0 else None


# This process stays small (no duckdb, numpy or spotclust imports): Linux counts a child's
# pre-exec copy of its parent in the child's ru_maxrss, so a big parent would inflate every
# peak-memory figure. Queries and probes run in short helper processes instead.


def python_json(code: str, *args) -> object:
    done = subprocess.run(
        [PYTHON, "-c", code, *map(str, args)], capture_output=True, text=True, env=child_env()
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return json.loads(done.stdout)


_QUERY = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
cur = con.execute(sys.argv[2])
names = [d[0] for d in cur.description]
print(json.dumps([dict(zip(names, r)) for r in cur.fetchall()], default=str))
"""


def sweep_accepts_k1() -> bool:
    code = "from spotclust.sweeps import parse_k_range as p; print(p('1..10')[0])"
    try:
        return python_json(code) == 1
    except RuntimeError:
        return False


def shipped_dataset() -> Path:
    code = (
        "import json; from spotclust.ingest import shipped_dataset as s; "
        "print(json.dumps(str(s())))"
    )
    return Path(python_json(code))


def query_db(db: Path, sql: str) -> list[dict]:
    return python_json(_QUERY, db, sql)


def safe_query(db: Path, sql: str) -> list[dict]:
    try:
        return query_db(db, sql)
    except Exception as exc:  # a column another version does not have: report, do not fail
        log(f"  (query failed: {exc})")
        return []


def run_stages(db: Path) -> dict:
    """Stage seconds and metrics of the latest run in a warehouse (the runs table)."""
    rows = safe_query(db, "SELECT * FROM runs ORDER BY run_id DESC LIMIT 1")
    if not rows:
        return {}
    row = rows[0]
    keep = (
        "rows_used",
        "silhouette",
        "silhouette_method",
        "silhouette_sample_size",
        "inertia",
        "algorithm",
        "n_init",
        "row_rule",
        "k",
    )
    out = {k: row.get(k) for k in keep if k in row}
    out["seconds"] = {k[len("seconds_") :]: v for k, v in row.items() if k.startswith("seconds_")}
    return out


def sweep_rows(db: Path) -> list[dict]:
    return safe_query(
        db,
        "SELECT k, inertia, silhouette, silhouette_method, seconds, rows_used FROM sweeps "
        "WHERE sweep_id = (SELECT max(sweep_id) FROM sweeps) ORDER BY k",
    )


def ingest_seconds(stdout: str) -> float | None:
    match = re.search(r"seconds\s*\S\s*([0-9.]+)", stdout)
    return float(match.group(1)) if match else None


# --------------------------------------------------------------------------- environment


def machine() -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for key in (
            "Model name",
            "Thread(s) per core",
            "Core(s) per socket",
            "Socket(s)",
            "Hypervisor vendor",
            "L3 cache",
        ):
            if m := re.search(rf"^{re.escape(key)}:\s*(.+)$", lscpu, re.M):
                info[key] = m.group(1).strip()
    with contextlib.suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text()
        if m := re.search(r"MemTotal:\s*(\d+) kB", meminfo):
            info["ram_gib"] = round(int(m.group(1)) / 1024**2, 1)
    return info


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("spotclust", *LIBRARIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        out["git"] = head + (" (with uncommitted changes)" if dirty else "")
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def loadavg() -> list[float] | None:
    with contextlib.suppress(OSError):
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    return None


WAIT_QUIET = 0.0  # seconds to wait, at most, for a quiet machine before each measurement
QUIET_SHARE = 0.25  # "quiet": other processes use under a quarter of the machine's CPU
RETRIES = 2  # a failed spotclust sequence is retried (the code may be mid-edit)


def foreign_share(window: float = 2.0) -> float | None:
    """Share of the machine's CPU that other processes use now (this one is asleep)."""
    busy0 = _cpu_busy_seconds()
    time.sleep(window)
    busy1 = _cpu_busy_seconds()
    if busy0 is None or busy1 is None:
        return None
    return (busy1 - busy0) / (window * (os.cpu_count() or 1))


def wait_for_quiet(max_wait: float | None = None) -> float | None:
    """Wait (up to max_wait s, default WAIT_QUIET) until other processes leave the CPU."""
    max_wait = WAIT_QUIET if max_wait is None else max_wait
    if max_wait <= 0:
        return None
    deadline = time.monotonic() + max_wait
    share = foreign_share()
    while share is not None and share > QUIET_SHARE and time.monotonic() < deadline:
        log(f"  waiting for a quiet machine (others use {share:.0%} of the CPU)")
        share = foreign_share(5.0)
    return share


# --------------------------------------------------------------------------- sections


def section_e2e(args, dataset: Path) -> dict:
    """Baseline notebook vs spotclust CLI processes, interleaved, repeated."""
    work = OUT / "e2e"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cli = spotclust_cmd()
    sweep_help = has_command("sweep") or ""
    no_silhouette = "--no-silhouette" in sweep_help
    elbow_ks = "1..10" if sweep_accepts_k1() else "2..10"  # the notebook's elbow: k=1..10
    charts_help = has_command("charts")
    baseline_cmd = [PYTHON, HERE / "baseline_notebook.py", dataset]
    if args.baseline_sample:
        baseline_cmd += ["--sample", str(args.baseline_sample)]

    variants = {
        # the notebook's rows (every clean genre listing) and restarts (one k-means++ run)
        "same_work": ["--rows", "listings", "--n-init", "1"],
        # what `spotclust cluster` does by default: one row per track, 10 restarts
        "defaults": [],
    }

    def spotclust_steps(db: Path, charts_dir: Path, options: list[str]) -> list[tuple]:
        # The same work as the notebook in one process: ingest, the elbow over k=1..10
        # (inertia only, as the notebook), k=4 with exact silhouette, profiles, genre
        # breakdown, labels, and the chart pages on top.
        if has_command("run") is not None:
            return [
                (
                    "run",
                    [*cli, "run", dataset, "--k", "4", "--sweep", elbow_ks, *options,
                     "--exact-silhouette", "--charts-dir", charts_dir, "--db", db, "-q"],
                )
            ]  # fmt: skip
        sweep = [*cli, "sweep", "--k", elbow_ks, *options, "--db", db, "-q"]
        if no_silhouette:
            sweep.append("--no-silhouette")
        steps = [
            ("ingest", [*cli, "ingest", dataset, "--db", db]),
            (f"sweep k={elbow_ks}", sweep),
            (
                "cluster k=4",
                [*cli, "cluster", "--k", "4", *options, "--exact-silhouette", "--db", db, "-q"],
            ),
        ]
        if charts_help is not None:
            charts = [*cli, "charts", "--db", db]
            for flag in ("--out", "--output", "--dir", "--out-dir"):
                if re.search(rf"(^|\s){re.escape(flag)}[\s,=]", charts_help):
                    charts += [flag, charts_dir]
                    break
            steps.append(("charts", charts))
        return steps

    def spotclust_once(variant: str, options: list[str], i: int) -> dict:
        # Other people may be editing the code while this runs: retry a failed sequence.
        for attempt in range(RETRIES + 1):
            try:
                return spotclust_sequence(variant, options, i)
            except RuntimeError as exc:
                if attempt == RETRIES:
                    raise
                log(f"  failed ({str(exc).strip().splitlines()[-1][:200]}); retrying in 30 s")
                time.sleep(30)
        raise AssertionError("unreachable")

    def spotclust_sequence(variant: str, options: list[str], i: int) -> dict:
        run_dir = work / f"{variant}_{i}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir()
        db = run_dir / "w.duckdb"
        steps = []
        t0 = time.perf_counter()
        for name, cmd in spotclust_steps(db, run_dir / "charts", options):
            steps.append(
                {
                    "step": name,
                    **check(
                        run_process(cmd, cwd=run_dir, env=child_env(), label=f"spotclust {name}")
                    ),
                }
            )
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

    log("e2e: warm-up (spotclust once, untimed: warms the OS file cache and numba's disk cache)")
    spotclust_once("warmup", variants["same_work"], 0)
    results = {"baseline": [], **{v: [] for v in variants}}
    for i in range(args.repeats):
        log(f"e2e repeat {i + 1}/{args.repeats}: baseline notebook")
        base = check(
            run_process(
                baseline_cmd, cwd=work, env=child_env(), label="baseline", timeout=args.timeout
            )
        )
        base["parsed"] = parse_baseline(base["stdout"])
        results["baseline"].append(base)
        for variant, options in variants.items():
            log(f"e2e repeat {i + 1}/{args.repeats}: spotclust ({variant})")
            results[variant].append(spotclust_once(variant, options, i + 1))
    shutil.rmtree(work, ignore_errors=True)
    return {
        "dataset": str(dataset),
        "baseline_cmd": [str(c) for c in baseline_cmd],
        "spotclust_cmds": {
            v: [
                [str(c) for c in cmd]
                for _, cmd in spotclust_steps(Path("W.duckdb"), Path("charts"), o)
            ]
            for v, o in variants.items()
        },
        "sweep_has_no_silhouette": no_silhouette,
        "elbow_ks": elbow_ks,
        "charts_command": charts_help is not None,
        "runs": results,
    }


def parse_baseline(stdout: str) -> dict:
    out: dict = {}
    if m := re.search(r"rows=(\d+) sizes=\[([^\]]*)\] silhouette=(\S+)", stdout):
        out["rows"] = int(m.group(1))
        out["sizes"] = [int(x) for x in m.group(2).split(",") if x.strip()]
        out["silhouette"] = None if m.group(3) == "None" else float(m.group(3))
    for name, value in re.findall(r"(\w+)=([0-9.]+)s", stdout):
        out.setdefault("stages", {})[name] = float(value)
    return out


def section_silhouette(args, dataset: Path) -> dict:
    work = OUT / "silhouette"
    work.mkdir(parents=True, exist_ok=True)
    data = work / "baseline_pca_k4.npz"
    script = HERE / "silhouette_bench.py"
    log("silhouette: the baseline's PCA points and k=4 labels")
    prepare = [PYTHON, script, "prepare", dataset, data]
    if args.sil_rows:
        prepare += ["--rows", args.sil_rows]
    prepared = parse_result(check(run_process(prepare, label="prepare"))["stdout"])
    log("silhouette: spotclust (warm numba disk cache; first call + warm calls)")
    spot = check(
        run_process(
            [PYTHON, script, "spotclust", data, "--repeats", args.sil_repeats],
            env=child_env(),
            label="spotclust silhouette",
        )
    )
    with tempfile.TemporaryDirectory() as empty_cache:
        log("silhouette: spotclust with an empty numba cache (first call compiles)")
        cold = check(
            run_process(
                [PYTHON, script, "spotclust", data, "--repeats", "1"],
                env=child_env(NUMBA_CACHE_DIR=empty_cache),
                label="spotclust silhouette, compiling",
            )
        )
    log("silhouette: scikit-learn (about 2 minutes on 2 cores)")
    sk = check(
        run_process(
            [PYTHON, script, "sklearn", data],
            env=child_env(),
            label="sklearn silhouette",
            timeout=args.timeout,
        )
    )
    return {
        "data": prepared,
        "spotclust": {**parse_result(spot["stdout"]), "process": _proc_summary(spot)},
        "spotclust_compiling": {**parse_result(cold["stdout"]), "process": _proc_summary(cold)},
        "sklearn": {**parse_result(sk["stdout"]), "process": _proc_summary(sk)},
    }


def _proc_summary(result: dict) -> dict:
    return {k: result[k] for k in ("wall", "cpu", "max_rss_mb", "foreign_cpu", "cmd")}


def _proc_outcome(result: dict) -> dict:
    """The summary of a process that may fail, with how it ended and its last stderr."""
    return {
        **_proc_summary(result),
        "returncode": result["returncode"],
        "timed_out": result["timed_out"],
        "stderr": result["stderr"][-1500:],
    }


def section_sweep(args, dataset: Path) -> dict:
    work = OUT / "sweep"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cli = spotclust_cmd()
    db = work / "w.duckdb"
    log("sweep: ingest the shipped dataset (not timed as part of the sweep)")
    check(run_process([*cli, "ingest", dataset, "--db", db], env=child_env(), label="ingest"))
    variants = {
        "same_work": ["--rows", "listings", "--n-init", "1"],
        "defaults": [],
    }
    out: dict = {"spotclust": {}}
    for variant, options in variants.items():
        repeats = args.sweep_repeats if variant == "same_work" else 1
        runs = []
        for i in range(repeats):
            log(f"sweep: spotclust sweep --k 2..12 ({variant}) {i + 1}/{repeats}")
            cmd = [*cli, "sweep", "--k", "2..12", *options, "--exact-silhouette", "--db", db, "-q"]
            if "--stability" in (has_command("sweep") or ""):
                cmd += ["--stability", "0"]  # the notebook way has no stability either
            result = check(
                run_process(
                    cmd, env=child_env(), label=f"spotclust sweep {variant}", timeout=args.timeout
                )
            )
            runs.append({**_proc_summary(result), "per_k": sweep_rows(db)})
        out["spotclust"][variant] = runs
    notebook = [PYTHON, HERE / "notebook_sweep.py", dataset, "--k", "2..12"]
    if args.sweep_sample:
        notebook += ["--sample", str(args.sweep_sample)]
    log("sweep: the notebook way (11 x scikit-learn silhouette on every row: ~20-25 minutes)")
    result = check(
        run_process(notebook, env=child_env(), label="notebook sweep", timeout=args.timeout * 12)
    )
    out["notebook"] = {**parse_result(result["stdout"]), "process": _proc_summary(result)}
    shutil.rmtree(work, ignore_errors=True)
    return out


def section_scale(args) -> dict:
    work = OUT / "scale"
    work.mkdir(parents=True, exist_ok=True)
    cli = spotclust_cmd()
    synth_help = has_command("synth")
    out: dict = {"sizes": {}, "synth_command": synth_help is not None}
    for rows in args.scale_rows:
        path = work / f"synth_{rows}_seed{args.seed}.parquet"
        stamp = path.with_suffix(".json")
        entry: dict = {"rows": rows, "file": str(path)}
        synth_sha = sha256(ROOT / "spotclust" / "synth.py")
        previous = json.loads(stamp.read_text()) if stamp.exists() else {}
        if (
            args.reuse_synth
            and path.exists()
            and previous.get("rows") == rows
            and previous.get("synth_sha256") == synth_sha
        ):
            log(f"scale: reusing {path.name}")
            entry["synth"] = json.loads(stamp.read_text())["synth"]
        else:
            log(f"scale: synthesize {rows:,} rows")
            if synth_help is not None:
                cmd = [*cli, "synth", "--rows", rows, "--out", path, "--seed", args.seed]
            else:
                cmd = [PYTHON, "-m", "spotclust.synth", rows, path, args.seed]
            synth = check(
                run_process(cmd, env=child_env(), label=f"synth {rows:,}", timeout=args.timeout * 4)
            )
            entry["synth"] = {**_proc_summary(synth), "bytes": path.stat().st_size}
            stamp.write_text(
                json.dumps({"rows": rows, "synth_sha256": synth_sha, "synth": entry["synth"]})
            )
        db = work / f"w_{rows}.duckdb"
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        log(f"scale: ingest {rows:,} rows")
        ingest = run_process(
            [*cli, "ingest", path, "--db", db],
            env=child_env(),
            label=f"ingest {rows:,}",
            timeout=args.timeout * 4,
        )
        entry["ingest"] = {
            **_proc_outcome(ingest),
            "seconds_reported": ingest_seconds(ingest["stdout"]),
        }
        if ingest["returncode"] == 0:
            counts = safe_query(
                db,
                "SELECT (SELECT count(*) FROM raw_tracks) AS raw_rows, "
                "(SELECT count(*) FROM tracks) AS clean_tracks",
            )
            entry["counts"] = counts[0] if counts else {}
            for algorithm in ("kmeans", "minibatch"):
                log(f"scale: cluster --k 4 --algorithm {algorithm} on {rows:,} rows")
                cmd = [*cli, "cluster", "--k", "4", "--algorithm", algorithm, "--db", db, "-q"]
                result = run_process(
                    cmd,
                    env=child_env(),
                    label=f"cluster {algorithm} {rows:,}",
                    timeout=args.timeout * 4,
                )
                entry[algorithm] = {
                    **_proc_outcome(result),
                    "run": run_stages(db) if result["returncode"] == 0 else {},
                }
            entry["warehouse_bytes"] = db.stat().st_size if db.exists() else None
            entry["ingest_csv"] = scale_csv_ingest(args, cli, path, rows)
        if not args.keep:
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
        out["sizes"][str(rows)] = entry
    return out


def scale_csv_ingest(args, cli: list, parquet: Path, rows: int) -> dict:
    """The same rows ingested from CSV (the format most users have), in a fresh warehouse.

    The CSV is written from the Parquet file by DuckDB first (not timed) and removed after.
    """
    csv_path = parquet.with_suffix(".csv")
    db = parquet.with_name(f"w_{rows}_csv.duckdb")
    for leftover in (csv_path, db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    log(f"scale: write {rows:,} rows as CSV (not timed)")
    copy = (
        "import duckdb, sys; duckdb.connect().execute("
        "f\"COPY (SELECT * FROM read_parquet('{sys.argv[1]}')) TO '{sys.argv[2]}' (HEADER)\")"
    )
    check(run_process([PYTHON, "-c", copy, parquet, csv_path], env=child_env(), label="to CSV"))
    csv_bytes = csv_path.stat().st_size
    log(f"scale: ingest {rows:,} rows from CSV")
    result = run_process(
        [*cli, "ingest", csv_path, "--db", db],
        env=child_env(),
        label=f"ingest CSV {rows:,}",
        timeout=args.timeout * 4,
    )
    for leftover in (csv_path, db, db.with_name(db.name + ".wal")):
        if not args.keep or leftover == csv_path:
            leftover.unlink(missing_ok=True)
    return {**_proc_outcome(result), "csv_bytes": csv_bytes}


# --------------------------------------------------------------------------- report


# How the scale section's steps are named in the report.
STEP_NAMES = {"ingest": "ingest (Parquet)", "ingest_csv": "ingest, CSV"}


def fmt_s(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f} s"


def fmt_mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


def fmt_x(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}x"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def table(header: list[str], rows: list[list]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def shell(cmd: list[str]) -> str:
    parts = []
    for c in cmd:
        c = str(c)
        with contextlib.suppress(ValueError):
            c = str(Path(c).relative_to(ROOT)) if c.startswith("/") else c
        if c == PYTHON or c.endswith("/python") or c.endswith("/python3"):
            c = ".venv/bin/python"
        elif c.endswith("/spotclust") and "/bin/" in c:
            c = "spotclust"
        parts.append(c)
    return " ".join(parts)


def render(results: dict) -> str:
    meta = results["meta"]
    s = results.get("sections", {})
    claims: list[list] = []
    body: list[str] = []

    # ---- end to end
    e2e = s.get("e2e")
    if e2e:
        body += render_e2e(e2e, claims)

    # ---- silhouette
    sil = s.get("silhouette")
    if sil:
        sk, sp, cold = sil["sklearn"], sil["spotclust"], sil["spotclust_compiling"]
        warm = summary(sp["seconds_warm"])
        r_min = ratio(sk["seconds"], warm["min"])
        diff = abs(sk["value"] - sp["value"])
        claims.append(
            [
                "exact silhouette vs sklearn.metrics.silhouette_score",
                ">= 20x, equal",
                f"{fmt_x(r_min)}, abs diff {diff:.1e}",
                _met(r_min, 20) if diff < 1e-9 else "no (values differ)",
            ]
        )
        body.append(heading("2. Exact silhouette", sil))
        d = sil["data"]
        body.append(
            f"Same data and labels for both: the baseline's own {d['rows']:,} points in "
            f"{d['dims']} PCA dimensions and its k={d['k']} labels (pandas, StandardScaler, "
            "PCA(2), KMeans(4, random_state=0)), saved once and loaded by each timing process.\n"
        )
        body.append(
            table(
                ["", "seconds", "value", "vs scikit-learn"],
                [
                    [
                        "`sklearn.metrics.silhouette_score` (one call)",
                        fmt_s(sk["seconds"]),
                        f"{sk['value']:.15f}",
                        "1.0x",
                    ],
                    [
                        f"`spotclust.silhouette.silhouette_score`, warm (min of {warm['n']})",
                        fmt_s(warm["min"], 3),
                        f"{sp['value']:.15f}",
                        fmt_x(r_min),
                    ],
                    [
                        f"same, warm (median of {warm['n']})",
                        fmt_s(warm["median"], 3),
                        "",
                        fmt_x(ratio(sk["seconds"], warm["median"])),
                    ],
                    [
                        "same, first call in a fresh process (loads numba's disk cache)",
                        fmt_s(sp["seconds_first_call"], 3),
                        "",
                        fmt_x(ratio(sk["seconds"], sp["seconds_first_call"])),
                    ],
                    [
                        "same, first call with an empty numba cache (compiles)",
                        fmt_s(cold["seconds_first_call"], 3),
                        f"{cold['value']:.15f}",
                        fmt_x(ratio(sk["seconds"], cold["seconds_first_call"])),
                    ],
                    [
                        "importing `spotclust.silhouette` (numba)",
                        fmt_s(sp["seconds_import"], 3),
                        "",
                        "",
                    ],
                ],
            )
        )
        body.append(
            f"\nAbsolute difference of the values: {diff:.2e}. numba threads: "
            f"{sp.get('threads')} ({sp.get('threading_layer')}). Foreign CPU during the "
            f"scikit-learn call: {_pct(sk['process']['foreign_cpu'])}, during the "
            f"spotclust calls: {_pct(sp['process']['foreign_cpu'])}.\n"
        )

    # ---- sweep
    sw = s.get("sweep")
    if sw:
        nb = sw["notebook"]
        same = sw["spotclust"]["same_work"]
        sm = summary([r["wall"] for r in same])
        nb_wall = nb["process"]["wall"]
        r_sw = ratio(nb_wall, sm["median"])
        claims.append(
            [
                "sweep k=2..12 with silhouette, spotclust vs notebook way",
                "(report)",
                fmt_x(r_sw),
                "",
            ]
        )
        body.append(heading("3. Sweep k=2..12 with a silhouette for each k", sw))
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
                _pct(nb["process"].get("foreign_cpu")),
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
                    _median_pct([r.get("foreign_cpu") for r in runs_v]),
                    fmt_x(ratio(nb_wall, smv["median"])),
                ]
            )
        body.append(
            table(
                ["", "runs", "min", "median", "peak RSS", "foreign CPU", "speed-up (median)"], rows
            )
        )
        body.append("\nPer k (spotclust: the first same-work run; seconds = fit + all scores):\n")
        sp_k = {r["k"]: r for r in same[0]["per_k"]}
        krows = []
        for r in nb["per_k"]:
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
        body.append(
            table(
                [
                    "k",
                    "notebook silhouette",
                    "notebook k-means",
                    "notebook silhouette time",
                    "spotclust silhouette",
                    "spotclust seconds",
                ],
                krows,
            )
        )
        body.append(
            "\nThe two sides cluster slightly different rows (the notebook: every row "
            "without a missing value; spotclust: every clean genre listing), so the "
            "silhouettes are close, not equal.\n"
        )
        body.append("```sh")
        body.append(shell(nb["process"]["cmd"]))
        for variant in ("same_work", "defaults"):
            if sw["spotclust"].get(variant):
                body.append(shell(sw["spotclust"][variant][0]["cmd"]))
        body.append("```\n")

    # ---- scale
    sc = s.get("scale")
    if sc:
        body.append(heading("4. Scale: synthetic data, 1M and 10M rows", sc))
        body.append(
            "`spotclust.synth` (distributions fitted per genre to the shipped data; Parquet; "
            "seed 0), then `spotclust ingest FILE` and `spotclust cluster --k 4` (default "
            "options: one row per track; above 250,000 rows the silhouette is estimated from a "
            "5,000-row sample) with `--algorithm kmeans` and `minibatch`, each a separate process "
            "in a fresh warehouse. *ingest, CSV*: the same rows written as CSV by DuckDB (not "
            "timed), ingested into another fresh warehouse.\n"
        )
        rows = []
        sizes = sc["sizes"]
        for key, e in sizes.items():
            clean = e.get("counts", {}).get("clean_tracks")
            for step in ("synth", "ingest", "ingest_csv", "kmeans", "minibatch"):
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
                        _pct(p.get("foreign_cpu")),
                        f"{clean:,}" if clean and step in ("kmeans", "minibatch") else "",
                    ]
                )
        body.append(
            table(
                [
                    "rows",
                    "process",
                    "wall",
                    "peak RSS",
                    "< 4 GB",
                    "foreign CPU",
                    "tracks clustered",
                ],
                rows,
            )
        )
        keys = sorted(sizes, key=int)
        if len(keys) >= 2:
            small, big = sizes[keys[0]], sizes[keys[-1]]
            factor = int(keys[-1]) / int(keys[0])
            body.append(
                f"\nGrowth from {int(keys[0]):,} to {int(keys[-1]):,} rows "
                f"({factor:.0f}x the rows; linear growth is a time ratio of "
                f"{factor:.0f}):\n"
            )
            rrows = []
            for step in ("synth", "ingest", "ingest_csv", "kmeans", "minibatch"):
                a, b = small.get(step), big.get(step)
                if a and b and a.get("returncode", 0) == 0 and b.get("returncode", 0) == 0:
                    rrows.append(
                        [
                            STEP_NAMES.get(step, step),
                            fmt_s(a["wall"], 1),
                            fmt_s(b["wall"], 1),
                            f"{b['wall'] / a['wall']:.1f}",
                            f"{b['max_rss_mb'] / a['max_rss_mb']:.1f}",
                        ]
                    )
            body.append(table(["process", "small", "large", "time ratio", "memory ratio"], rrows))
            big_rss = max((big.get(k) or {}).get("max_rss_mb", 0) for k in ("ingest", "kmeans"))
            t_small = sum((small.get(k) or {}).get("wall", 0) for k in ("ingest", "kmeans"))
            t_big = sum((big.get(k) or {}).get("wall", 0) for k in ("ingest", "kmeans"))
            ok = all((big.get(k) or {}).get("returncode", 1) == 0 for k in ("ingest", "kmeans"))
            claims.append(
                [
                    f"{int(keys[-1]):,} rows: peak memory (ingest, cluster)",
                    "< 4 GB",
                    fmt_mb(big_rss),
                    _met(4096 - big_rss if ok else None, 0),
                ]
            )
            claims.append(
                [
                    f"ingest + cluster time, {int(keys[-1]):,} / {int(keys[0]):,} rows",
                    f"<= {factor:.0f} (linear)",
                    f"{ratio(t_big, t_small) or 0:.1f}",
                    _met(factor - (ratio(t_big, t_small) or 1e9) if ok else None, 0),
                ]
            )
            mb = big.get("minibatch") or {}
            claims.append(
                [
                    f"{int(keys[-1]):,} rows, `--algorithm minibatch` peak memory",
                    "(report)",
                    fmt_mb(mb.get("max_rss_mb")),
                    "",
                ]
            )
        body.append(
            "\nWhere the time goes (stage seconds from the `runs` table; *outside* is the "
            "process wall time minus `seconds_total`: interpreter start-up, imports, opening "
            "the warehouse, the cluster summary query and exit):\n"
        )
        stage_names = ("load", "scale", "pca", "kmeans", "silhouette", "metrics", "write", "total")
        srows = []
        for key, e in sizes.items():
            for algorithm in ("kmeans", "minibatch"):
                proc = e.get(algorithm) or {}
                secs = (proc.get("run") or {}).get("seconds") or {}
                if secs:
                    outside = proc["wall"] - secs["total"] if secs.get("total") else None
                    srows.append(
                        [f"{int(key):,}", algorithm]
                        + [fmt_s(secs.get(n), 1) for n in stage_names]
                        + [fmt_s(outside, 1)]
                    )
        if srows:
            body.append(table(["rows", "algorithm", *stage_names, "outside"], srows))
        body.append("")
        for key, e in sizes.items():
            ing = e.get("ingest") or {}
            if ing.get("returncode", 0) != 0 or ing.get("timed_out"):
                body.append(
                    f"Ingest of {int(key):,} rows failed: `{ing.get('stderr', '')[-300:]}`\n"
                )
            for algorithm in ("kmeans", "minibatch"):
                p = e.get(algorithm) or {}
                if p and (p.get("returncode", 0) != 0 or p.get("timed_out")):
                    body.append(
                        f"`cluster --algorithm {algorithm}` on {int(key):,} rows failed: "
                        f"`{p.get('stderr', '')[-300:]}`\n"
                    )

    head = [
        "# spotclust benchmark results\n",
        f"Generated by `{meta['command']}` on {meta['started']} (finished {meta['finished']}; "
        f"{meta['seconds'] / 60:.0f} minutes).{' **QUICK MODE: smoke test, not a measurement.**' if meta.get('quick') else ''}\n",  # noqa: E501
        "## Summary\n",
        table(["claim", "target", "measured", "met"], claims) if claims else "(no sections)",
        "",
        "## Machine and versions\n",
        table(["", ""], [[k, v] for k, v in meta["machine"].items()]),
        "",
        table(["library", "version"], [[k, v] for k, v in meta["versions"].items()]),
        "",
        f"Load average at start: {meta.get('loadavg_start')}, at the end: "
        f"{meta.get('loadavg_end')}. Dataset: `{meta['dataset_rel']}` "
        f"(sha256 {meta['dataset_sha256'][:16]}…).\n",
        "`benchmarks/baseline_notebook.py` is a byte-identical copy of "
        "`/work/shared/bench/baseline_notebook.py`, the reference notebook method "
        f"(sha256 {meta['baseline_sha256'][:16]}…"
        f"{', identical to the shared file' if meta.get('baseline_identical') else ''}).\n",
    ]
    for name, error in (results.get("failed") or {}).items():
        body.append(f"## Section `{name}` failed in this run\n\n```\n{error[-1500:]}\n```\n")
    tail = [
        "## How to reproduce\n",
        "```sh",
        ".venv/bin/python benchmarks/run.py            # everything (about an hour on 2 cores)",
        ".venv/bin/python benchmarks/run.py --sections e2e,silhouette --repeats 5",
        ".venv/bin/python benchmarks/run.py --render   # rewrite this file from out/results.json",
        "```\n",
        "Raw measurements (every process: command, wall, CPU, peak RSS, foreign CPU) are in "
        "`benchmarks/out/results.json`.\n",
    ]
    return "\n".join(head + body + tail) + "\n"


def _weighted_foreign(steps: list[dict]) -> float | None:
    pairs = [(st["foreign_cpu"], st["wall"]) for st in steps if st.get("foreign_cpu") is not None]
    total = sum(w for _, w in pairs)
    return sum(f * w for f, w in pairs) / total if total else None


def _median_pct(values: list) -> str:
    values = [v for v in values if v is not None]
    return _pct(statistics.median(values)) if values else "–"


VARIANT_LABELS = {
    "same_work": "spotclust, the notebook's rows and restarts (`--rows listings --n-init 1`)",
    "defaults": "spotclust, defaults (one row per track, 10 restarts)",
}


def render_e2e(e2e: dict, claims: list) -> list[str]:
    body: list[str] = []
    runs = e2e["runs"]
    single = runs["same_work"][0]["steps"][0]["step"] == "run"
    base = summary([r["wall"] for r in runs["baseline"]])
    body.append(heading("1. End to end: the notebook against spotclust", e2e))
    how = (
        "one `spotclust run` process (ingest, elbow, cluster, profiles, genre breakdown, charts)"
        if single
        else "the sum of its CLI processes, run one after another"
    )
    body.append(
        f"Each figure is a whole process timed from launch to exit: for spotclust, {how}, in a "
        "fresh warehouse. Peak memory is the largest `ru_maxrss` (from `os.wait4`). Baseline and "
        "spotclust runs alternate, so background load hits both alike; *foreign CPU* is the "
        "share of the machine other processes used meanwhile (0% on a quiet machine). One "
        "untimed spotclust warm-up runs first (it warms the OS file cache and numba's on-disk "
        "cache, as any second use would).\n"
    )
    rows = [
        [
            "baseline notebook (pandas + scikit-learn, full silhouette)",
            base["n"],
            fmt_s(base["min"]),
            fmt_s(base["median"]),
            fmt_mb(max(r["max_rss_mb"] for r in runs["baseline"])),
            _median_pct([r.get("foreign_cpu") for r in runs["baseline"]]),
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
                _median_pct([_weighted_foreign(r["steps"]) for r in runs[variant]]),
                f"{fmt_x(ratio(base['min'], sm['min']))} / {fmt_x(speedup)}",
            ]
        )
        if variant == "same_work":
            claims.append(
                [
                    "end to end, spotclust vs the notebook (median)",
                    ">= 10x",
                    fmt_x(speedup),
                    _met(speedup, 10),
                ]
            )
    body.append(
        table(
            ["", "runs", "min", "median", "peak RSS", "foreign CPU", "speed-up (min / median)"],
            rows,
        )
    )
    body.append("\nCommands (W is a fresh warehouse per run):\n")
    body.append("```sh")
    body.append(shell(e2e["baseline_cmd"]))
    for variant, cmds in e2e["spotclust_cmds"].items():
        body.append(f"# spotclust, {variant.replace('_', ' ')}")
        body += [shell(c) for c in cmds]
    body.append("```\n")
    if single:
        body.append(
            f"The elbow inside `spotclust run` is `--sweep {e2e.get('elbow_ks')}` without "
            "`--sweep-silhouette`: inertia (plus the cheap Calinski-Harabasz and Davies-Bouldin) "
            "for each k, as the notebook's elbow records inertia for k=1..10.\n"
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

    body.append("### Stage timings\n")
    b_stages: dict[str, list] = {}
    for r in runs["baseline"]:
        for k, v in r["parsed"].get("stages", {}).items():
            b_stages.setdefault(k, []).append(v)
    parsed = runs["baseline"][0]["parsed"]
    body.append(
        f"Baseline notebook (its own `perf_counter` stages; {parsed.get('rows')} rows, "
        f"silhouette {parsed.get('silhouette')}, cluster sizes {parsed.get('sizes')}):\n"
    )
    body.append(
        table(
            ["stage", "min", "median"],
            [[k, fmt_s(min(v)), fmt_s(statistics.median(v))] for k, v in b_stages.items()],
        )
    )
    body.append("")
    for variant in VARIANT_LABELS:
        vr = runs.get(variant)
        if not vr:
            continue
        body.append(
            f"spotclust, {variant.replace('_', ' ')}: each process (wall: includes interpreter "
            "start-up and imports), then the stages inside, as spotclust records them:\n"
        )
        rows: list[list] = []

        def add(label: str, values: list, rss: str = "", rows: list[list] = rows) -> None:
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
            add(f"sweep: fit and score {len(vr[0]['sweep'])} values of k (sweeps.seconds)", sweep)
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
            "everything else (interpreter start-up, imports, summaries printed, charts, exit)",
            rest,
        )
        body.append(table(["", "min", "median", "peak RSS"], rows))
        c = vr[0]["cluster"]
        body.append(
            f"\nRows clustered: {c.get('rows_used')}, silhouette {c.get('silhouette')} "
            f"({c.get('silhouette_method')}).\n"
        )
    return body


def heading(title: str, section: dict) -> str:
    return f"## {title}\n\n_Measured {section['measured']} ({section['seconds'] / 60:.0f} min)._\n"


def _met(margin: float | None, threshold: float) -> str:
    if margin is None:
        return "no"
    return "yes" if margin >= threshold else "**no**"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="end-to-end runs of each side (default 3; the baseline takes ~2.5 min)",
    )
    p.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)}; results of sections "
        "not run are kept from the previous results.json",
    )
    p.add_argument("--skip-scale", action="store_true", help="leave out the 1M/10M section")
    p.add_argument(
        "--scale-rows",
        default="1000000,10000000",
        help="synthetic sizes for the scale section (default 1000000,10000000)",
    )
    p.add_argument(
        "--sweep-sample",
        type=int,
        default=None,
        help="notebook-way sweep: silhouette from N sampled rows instead of all",
    )
    p.add_argument("--sweep-repeats", type=int, default=2, help="spotclust sweep runs (default 2)")
    p.add_argument("--sil-repeats", type=int, default=3, help="warm spotclust silhouette calls")
    p.add_argument("--baseline-sample", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--sil-rows", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    p.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds before a measured process is killed (x4 for scale steps)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each measured process wait up to this many seconds until other processes "
        f"use under {QUIET_SHARE * 100:.0f}%% of the CPU (default 0: do not wait)",
    )
    p.add_argument("--keep", action="store_true", help="keep the scale warehouses")
    p.add_argument(
        "--reuse-synth",
        action="store_true",
        help="reuse synthetic files of an earlier run (same rows, seed and synth.py)",
    )
    p.add_argument("--dataset", type=Path, default=None, help="default: the shipped dataset")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1 repeat, sampled silhouettes, 100k/1M rows; the report "
        "goes to out/RESULTS.quick.md",
    )
    p.add_argument(
        "--render", action="store_true", help="only rewrite the report from the saved results.json"
    )
    args = p.parse_args(argv)
    args.sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if args.skip_scale and "scale" in args.sections:
        args.sections.remove("scale")
    args.scale_rows = [int(x) for x in args.scale_rows.split(",")]
    if args.quick:
        args.repeats = 1
        args.sweep_repeats = 1
        args.sil_repeats = 2
        args.baseline_sample = args.baseline_sample or 10_000
        args.sweep_sample = args.sweep_sample or 5_000
        args.sil_rows = args.sil_rows or 20_000
        if args.scale_rows == [1_000_000, 10_000_000]:
            args.scale_rows = [100_000, 1_000_000]
    return args


def main(argv: list[str] | None = None) -> None:
    global WAIT_QUIET
    args = parse_args(sys.argv[1:] if argv is None else argv)
    WAIT_QUIET = args.wait_quiet
    OUT.mkdir(parents=True, exist_ok=True)
    results_path = OUT / ("results.quick.json" if args.quick else "results.json")
    report_path = OUT / "RESULTS.quick.md" if args.quick else HERE / "RESULTS.md"
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.render:
        report_path.write_text(render(previous))
        log(f"wrote {report_path}")
        return

    dataset = (args.dataset or shipped_dataset()).resolve()
    baseline = HERE / "baseline_notebook.py"
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    results = {
        "meta": {
            "command": "python benchmarks/run.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "quick": args.quick,
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "versions": versions(),
            "dataset": str(dataset),
            "dataset_rel": shell([str(dataset)]),
            "dataset_sha256": sha256(dataset),
            "baseline_sha256": sha256(baseline),
            "baseline_identical": SHARED_BASELINE.exists()
            and SHARED_BASELINE.read_bytes() == baseline.read_bytes(),
            "loadavg_start": loadavg(),
            "parent_max_rss_mb": None,
            "sections_run": args.sections,
        },
        "sections": dict(previous.get("sections", {})),
    }
    for name in args.sections:
        log(f"=== section {name}")
        t = time.perf_counter()
        try:
            if name == "e2e":
                value = section_e2e(args, dataset)
            elif name == "silhouette":
                value = section_silhouette(args, dataset)
            elif name == "sweep":
                value = section_sweep(args, dataset)
            else:
                value = section_scale(args)
        except Exception as exc:  # keep the other sections' results
            log(f"=== section {name} FAILED: {exc}")
            failed = results.setdefault("failed", {})
            failed[name] = str(exc)[-3000:]
            results_path.write_text(json.dumps(results, indent=1, default=str))
            continue
        value["seconds"] = time.perf_counter() - t
        value["measured"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        results["sections"][name] = value
        results["meta"]["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        results["meta"]["seconds"] = time.perf_counter() - t0
        results["meta"]["loadavg_end"] = loadavg()
        results["meta"]["parent_max_rss_mb"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        results_path.write_text(json.dumps(results, indent=1, default=str))  # after each section
        report_path.write_text(render(results))
        log(f"=== section {name} done in {value['seconds'] / 60:.1f} min; wrote {report_path}")
    log(f"done in {(time.perf_counter() - t0) / 60:.1f} min: {report_path}")


if __name__ == "__main__":
    main()
