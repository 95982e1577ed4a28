"""What a run was measured on: the machine, library versions, the data, the load."""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import re
import resource
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from .harness import BENCHMARKS, ROOT
from .markdown import shell

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
BASELINE = BENCHMARKS / "baseline_notebook.py"
# The reference notebook script that BASELINE copies, in the folder shared beside the repo.
SHARED_BASELINE = ROOT.parent / "shared" / "bench" / "baseline_notebook.py"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


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


def source_sha256(origin: Path) -> str:
    """sha256 of a module's source; of every .py file of its folder for a package."""
    if origin.name != "__init__.py":
        return sha256(origin)
    digest = hashlib.sha256()
    for path in sorted(origin.parent.rglob("*.py")):
        digest.update(f"{path.relative_to(origin.parent)}\0{sha256(path)}\n".encode())
    return digest.hexdigest()


def loadavg() -> list[float] | None:
    with contextlib.suppress(OSError):
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    return None


def describe_run(args, argv: list[str], dataset: Path) -> dict:
    """The results' meta record at the start of a run."""
    shared: Path = args.shared_baseline
    return {
        "command": "python benchmarks/run.py " + " ".join(argv),
        "quick": args.quick,
        "started": utc_now(),
        "machine": machine(),
        "versions": versions(),
        "dataset": str(dataset),
        "dataset_rel": shell([str(dataset)]),
        "dataset_sha256": sha256(dataset),
        "baseline_sha256": sha256(BASELINE),
        "baseline_identical": shared.exists() and shared.read_bytes() == BASELINE.read_bytes(),
        "shared_baseline": os.path.relpath(shared.resolve(), ROOT),
        "loadavg_start": loadavg(),
        "parent_max_rss_mb": None,
        "sections_run": args.sections,
    }


def note_progress(meta: dict, started: float) -> None:
    """Update meta after a section: finish time, duration, load and this process's memory."""
    meta["finished"] = utc_now()
    meta["seconds"] = time.perf_counter() - started
    meta["loadavg_end"] = loadavg()
    meta["parent_max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
