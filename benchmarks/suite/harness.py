"""Measuring child processes: wall time, CPU time, peak memory, and the CPU that other
processes took meanwhile; waiting for a quiet machine; saving the results.

This process stays small (no duckdb, numpy or spotclust imports): Linux counts a child's
pre-exec copy of its parent in the child's ru_maxrss, so a big parent would inflate every
peak-memory figure. Queries and probes run in short helper processes instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent
ROOT = BENCHMARKS.parent
OUT = BENCHMARKS / "out"
PYTHON = sys.executable

QUIET_SHARE = 0.25  # "quiet": other processes use under a quarter of the machine's CPU
_wait_quiet = 0.0  # seconds to wait, at most, for a quiet machine before each measurement


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


def foreign_share(window: float = 2.0) -> float | None:
    """Share of the machine's CPU that other processes use now (this one is asleep)."""
    busy0 = _cpu_busy_seconds()
    time.sleep(window)
    busy1 = _cpu_busy_seconds()
    if busy0 is None or busy1 is None:
        return None
    return (busy1 - busy0) / (window * (os.cpu_count() or 1))


def set_quiet_wait(max_wait: float) -> None:
    """Before each measured process, wait up to max_wait s for a quiet machine (0: never)."""
    global _wait_quiet
    _wait_quiet = max_wait


def wait_for_quiet(max_wait: float | None = None) -> float | None:
    """Wait (up to max_wait s, default set_quiet_wait's) until other processes leave the CPU."""
    max_wait = _wait_quiet if max_wait is None else max_wait
    if max_wait <= 0:
        return None
    deadline = time.monotonic() + max_wait
    share = foreign_share()
    while share is not None and share > QUIET_SHARE and time.monotonic() < deadline:
        log(f"  waiting for a quiet machine (others use {share:.0%} of the CPU)")
        share = foreign_share(5.0)
    return share


def _reap(
    proc: subprocess.Popen, timeout: float | None
) -> tuple[int, resource.struct_rusage, bool]:
    """Wait for proc with os.wait4 (for its rusage), killing it after timeout seconds."""
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
    proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it was reaped
    return proc.returncode, usage, killed.is_set()


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
        returncode, usage, timed_out = _reap(proc, timeout)
        wall = time.perf_counter() - t0
        busy1 = _cpu_busy_seconds()
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
        "returncode": returncode,
        "timed_out": timed_out,
        "wall": wall,
        "cpu": cpu,
        "max_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "foreign_cpu": foreign,
        "stdout": stdout,
        "stderr": stderr[-4000:],
    }
    note = f"  foreign CPU {foreign:.0%}" if foreign is not None and foreign > 0.05 else ""
    state = "TIMED OUT" if timed_out else f"exit {returncode}"
    log(
        f"  {label or cmd[-1]}: {wall:.2f} s, peak RSS {result['max_rss_mb']:.0f} MB, {state}{note}"
    )
    return result


def check(result: dict) -> dict:
    """result itself, or RuntimeError (with its output) if the process failed."""
    if result["returncode"] != 0 or result["timed_out"]:
        raise RuntimeError(
            f"{' '.join(result['cmd'])} failed ({result['returncode']}):\n"
            f"{result['stdout'][-2000:]}\n{result['stderr']}"
        )
    return result


def parse_result(stdout: str) -> dict:
    """The JSON of the last "RESULT {...}" line a helper script printed."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"no RESULT line in output:\n{stdout[-2000:]}")


def run_script(cmd: list, label: str, **options) -> dict:
    """Run a helper script that prints a RESULT line (it must succeed): that result, with the
    summary of its process under "process"."""
    result = check(run_process(cmd, label=label, **options))
    return {**parse_result(result["stdout"]), "process": process_summary(result)}


def child_env(**extra: str) -> dict:
    """This environment for a child, without SPOTCLUST_DB (each run names its warehouse)."""
    env = {k: v for k, v in os.environ.items() if k != "SPOTCLUST_DB"}
    env.update(extra)
    return env


def process_summary(result: dict) -> dict:
    """What the results keep of a process that succeeded."""
    return {k: result[k] for k in ("wall", "cpu", "max_rss_mb", "foreign_cpu", "cmd")}


def process_outcome(result: dict) -> dict:
    """The summary of a process that may fail, with how it ended and its last stderr."""
    return {
        **process_summary(result),
        "returncode": result["returncode"],
        "timed_out": result["timed_out"],
        "stderr": result["stderr"][-1500:],
    }


def results_path(quick: bool) -> Path:
    return OUT / ("results.quick.json" if quick else "results.json")


def load_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def save_results(path: Path, results: dict) -> None:
    path.write_text(json.dumps(results, indent=1, default=str))
