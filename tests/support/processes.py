"""Real processes: the installed `spotclust` (run to the end, started and left running, run
with its peak memory measured), any other command, a plain DuckDB process that holds a
warehouse, and who holds a warehouse's lock.

Every run to the end returns a support.cli.Run, the shape of an in-process run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from support.cli import AMBIENT_SETTINGS, Run

TIMEOUT = 600  # seconds; only a hung process reaches it


def spotclust_command() -> list[str]:
    """The argv that runs the installed CLI: its script, or the module."""
    script = Path(sys.executable).parent / "spotclust"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "spotclust.cli"]


def spotclust_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the developer's spotclust settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in AMBIENT_SETTINGS}
    env.update(extra or {})
    return env


def run_command(
    argv: Sequence, cwd: Path | None = None, env: dict | None = None, timeout: float = TIMEOUT
) -> Run:
    """Any command, run to the end with its output captured (killed at the timeout)."""
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def run_process(
    args: Sequence,
    cwd: Path,
    env: dict[str, str] | None = None,
    prefix: Sequence = (),
    timeout: float = TIMEOUT,
) -> Run:
    """`spotclust ARGS` as a real process in cwd, optionally under a wrapper (prefix: e.g.
    unshare or setpriv, which exec the command); env adds to the cleaned environment."""
    return run_command(
        [*prefix, *spotclust_command(), *args], cwd=cwd, env=spotclust_env(env), timeout=timeout
    )


# Runs a command and writes its exit code and peak memory (KiB). A process forked from the
# big test process would count the test process's pages in its peak; one forked from this
# small wrapper does not.
_MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = 0
with open(sys.argv[1], "w") as f:
    f.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_measured(args: Sequence, cwd: Path) -> Run:
    """run_process, and the peak resident memory of the spotclust process (max_rss_kib)."""
    report = cwd / "measured.txt"
    wrapper = run_command(
        [sys.executable, "-c", _MEASURE, report, *spotclust_command(), *args],
        cwd=cwd,
        env=spotclust_env(),
    )
    assert wrapper.exit_code == 0, wrapper.stderr
    code, peak = (int(v) for v in report.read_text().split())
    return Run(code, wrapper.stdout, wrapper.stderr, max_rss_kib=peak)


# --------------------------------------------------------------- processes left running


@dataclass
class Proc:
    """A spotclust process started by start_process; its output goes to files."""

    popen: subprocess.Popen
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGKILL it if it still runs, and reap it."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=TIMEOUT)

    @property
    def stdout(self) -> str:
        return self.out.read_text()

    @property
    def stderr(self) -> str:
        return self.err.read_text()


def start_process(
    args: Sequence, cwd: Path, env: dict[str, str] | None = None, tag: str = "p"
) -> Proc:
    """`spotclust ARGS` started in cwd and left running (to be signalled, killed or waited
    for); its output goes to cwd/TAG.out and cwd/TAG.err, never to a pipe that could fill."""
    out, err = cwd / f"{tag}.out", cwd / f"{tag}.err"
    with out.open("w") as o, err.open("w") as e:
        popen = subprocess.Popen(
            [*spotclust_command(), *(str(a) for a in args)],
            cwd=cwd,
            env=spotclust_env(env),
            stdout=o,
            stderr=e,
        )
    return Proc(popen, out, err)


_HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""


class Holder:
    """A plain DuckDB process holding the warehouse open (to read or write) for a while."""

    def __init__(self, db: Path, mode: str, seconds: float = 120):
        self.popen = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(db), mode, str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.popen.stdout.readline().strip() == "holding"
        self.pid = self.popen.pid

    def release(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
        self.popen.wait(timeout=60)
        self.popen.stdout.close()


# ---------------------------------------------------------------------------------- locks


def lock_holders(db: Path) -> set[int]:
    """pids holding a POSIX lock on db, from /proc/locks (waiters, marked ->, excluded;
    none where there is no /proc)."""
    try:
        inode = db.stat().st_ino
        text = Path("/proc/locks").read_text()
    except OSError:
        return set()
    holders = set()
    for line in text.splitlines():
        parts = line.split()
        if "->" in parts or len(parts) < 6:
            continue
        if parts[5].endswith(f":{inode}"):
            holders.add(int(parts[4]))
    return holders


def wait_for_lock(db: Path, proc: Proc, timeout: float = 300) -> bool:
    """True once proc holds the warehouse's lock; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.pid in lock_holders(db):
            return True
        if proc.popen.poll() is not None:
            return False
        time.sleep(0.01)
    raise AssertionError(f"process {proc.pid} never took the lock")
