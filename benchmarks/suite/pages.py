"""Section pages: the chart pages and report.html of one run (`spotclust charts`'s pages and
the report `spotclust cluster` writes beside them) written for an existing run, in fresh
processes, before and after the work on them (issue 16: under 0.5 s for a run).

Each process (benchmarks/pages_profile.py) imports the chart stack, then calls
`spotclust.write_charts` and `spotclust.report` for the run, once and then CALLS times more
(warm): the seconds of the imports, of the first call and of the warm ones. Both sides run
the same way, each with its own source tree first on PYTHONPATH and its own warehouse (the
shipped data, a sweep k = 2..6 and a k = 4 run, made by that side's code):

  before  the code at BEFORE (Altair builds every chart at run time), from `git archive`
  after   the code of this checkout (Vega-Lite templates filled, queries two at a time)

The sides alternate, REPEATS processes each; then one process per side with the stage
timers on (SQL, specs, HTML, files) and the queries on one thread, so that the stages add
up to the wall time.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .environment import loadavg
from .harness import BENCHMARKS, OUT, PYTHON, ROOT, check, child_env, log, run_process, run_script
from .markdown import fmt_s, heading, median_pct, pct, summary, table

BEFORE = "1696d63"  # the commit before issue 16 (the pages as Altair built them)
REPEATS = 5  # processes per side (2 with --quick)
CALLS = 3  # warm calls after the first in each process
TARGET = 0.5  # seconds for a run's pages and report, imports excluded
SCRIPT = BENCHMARKS / "pages_profile.py"
STAGES = ("sql", "specs", "html", "files", "other")


class Side:
    """One version of spotclust: its source tree, its environment, its warehouse."""

    def __init__(self, name: str, tree: Path, work: Path):
        self.name, self.tree, self.work = name, tree, work
        # byte-compiled modules, in a folder of this section's (not in the source trees)
        self.env = child_env(PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=str(work / "pycache"))
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.db = work / f"{name}.duckdb"

    def cli(self, *args) -> list:
        launcher = (
            "import sys; sys.argv[0] = 'spotclust'; from spotclust.__main__ import main; main()"
        )
        return [PYTHON, "-c", launcher, *args]

    def make_warehouse(self, dataset: Path, timeout: float) -> None:
        log(f"pages: the {self.name} side's warehouse (ingest, sweep, cluster; not timed here)")
        steps = {
            "ingest": ["ingest", dataset],
            "sweep": ["sweep", "--k", "2..6", "--n-init", "1", "--stability", "3", "--no-charts"],
            "cluster": ["cluster", "--k", "4", "--no-charts"],
        }
        for label, args in steps.items():
            cmd = self.cli(*args, "--db", self.db, *([] if label == "ingest" else ["-q"]))
            check(run_process(cmd, env=self.env, cwd=self.work, label=f"{self.name}: {label}",
                              timeout=timeout))  # fmt: skip

    def pages(self, timeout: float, *options: str) -> dict:
        """One process: the imports, then write_charts and report, 1 + CALLS times."""
        cmd = [PYTHON, SCRIPT, self.db, "--repeats", CALLS, *options]
        return run_script(cmd, f"{self.name}: pages", env=self.env, cwd=self.work, timeout=timeout)


def _before_tree(tmp: Path) -> Path:
    """The spotclust and sql folders of BEFORE, unpacked (no worktree: git's state untouched)."""
    tree = tmp / "before"
    tree.mkdir()
    archive = tmp / "before.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", ROOT, "archive", BEFORE, "spotclust", "sql"], stdout=out,
                       check=True)  # fmt: skip
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def run(args, dataset: Path) -> dict:
    work = OUT / "pages"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="spotclust-pages-"))
    out: dict = {
        "before": {"commit": _git("rev-parse", BEFORE)},
        "after": {"commit": _git("rev-parse", "HEAD")},
        "loadavg_start": loadavg(),
    }
    try:
        sides = [Side("before", _before_tree(tmp), work), Side("after", ROOT, work)]
        for side in sides:
            side.make_warehouse(dataset, args.timeout)
        repeats = 2 if args.quick else REPEATS
        out["repeats"], out["calls"] = repeats, CALLS
        for side in sides:
            out[side.name]["processes"] = []
        for i in range(repeats):
            log(f"pages: round {i + 1}/{repeats}")
            for side in sides if i % 2 == 0 else sides[::-1]:
                out[side.name]["processes"].append(side.pages(args.timeout, "--plain"))
        log("pages: where the time goes (stage timers, queries on one thread)")
        out["before"]["stages"] = sides[0].pages(args.timeout)
        out["after"]["stages"] = sides[1].pages(args.timeout, "--threads", "1")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    out["loadavg_end"] = loadavg()
    return out


# --------------------------------------------------------------------------- report


def _first(side: dict) -> list[float]:
    """The first call's wall seconds in each process (imports done, nothing else warm)."""
    return [p["calls"][0]["wall"] for p in side["processes"]]


def _warm(side: dict) -> list[float]:
    """The median of the warm calls' wall seconds in each process."""
    return [summary([c["wall"] for c in p["calls"][1:]])["median"] for p in side["processes"]]


def _range(values: list[float]) -> str:
    s = summary(values)
    if not s["n"]:
        return "–"
    return f"{s['median']:.3f} s ({s['min']:.3f}–{s['max']:.3f})"


def _times_table(pg: dict) -> str:
    rows = []
    for name in ("before", "after"):
        side = pg[name]
        processes = side["processes"]
        rows.append(
            [
                name,
                _range([p["imports"] for p in processes]),
                _range(_first(side)),
                _range(_warm(side)),
                _range([p["calls"][0]["cpu"] for p in processes]),
                ", ".join(processes[0]["loaded"]) or "none",
                median_pct([p["process"].get("foreign_cpu") for p in processes]),
            ]
        )
    header = ["code", "imports", "first call", "warm call (median of each)", "first call CPU"]
    return table([*header, "heavy modules loaded", "foreign CPU"], rows)


def _stages_table(pg: dict) -> str:
    rows = []
    for name in ("before", "after"):
        calls = pg[name]["stages"]["calls"]
        first, warm = calls[0], calls[-1]
        for label, call in (("first call", first), ("last warm call", warm)):
            stages = [fmt_s(call["stages"][s], 3) for s in STAGES]
            rows.append([name if label == "first call" else "", label, fmt_s(call["wall"], 3),
                         fmt_s(call["charts"], 3), fmt_s(call["report"], 3), *stages])  # fmt: skip
    return table(["code", "call", "wall", "charts", "report", *STAGES], rows)


def render(pg: dict, claims: list) -> list[str]:
    """The report's pages section; adds its line to claims (the summary table)."""
    after = summary(_first(pg["after"]))
    met = after["median"] is not None and after["median"] < TARGET
    claims.append(
        [
            "chart and report pages for one run (imports excluded)",
            f"< {TARGET} s",
            f"{after['median']:.3f} s ({after['min']:.3f}–{after['max']:.3f})",
            "yes" if met else "**no**",
        ]
    )
    before = summary(_first(pg["before"]))["median"]
    foreign = [p["process"].get("foreign_cpu") for s in ("before", "after")
               for p in pg[s]["processes"]]  # fmt: skip
    return [
        heading("10. Chart pages and report for one run", pg),
        f"`spotclust.write_charts` (13 chart pages, index.html, vega-bundle.js) then "
        f"`spotclust.report` (report.html) for a k = 4 run of the shipped dataset, in "
        f"{pg['repeats']} fresh processes per side, alternating; each process imports the "
        f"chart stack, then writes the pages once (first call) and {pg['calls']} times more "
        f"(warm). Before: `{pg['before']['commit'][:7]}`; after: `{pg['after']['commit'][:7]}` "
        "and this checkout's changes. Load average "
        f"{pg.get('loadavg_start')} at the start, {pg.get('loadavg_end')} at the end; other "
        f"processes took {median_pct(foreign)} of the CPU (median) while these ran.\n",
        _times_table(pg),
        f"\nFirst call, after vs before: {before / after['median']:.1f}x faster (medians).\n"
        if before and after["median"]
        else "",
        "Where the time goes (one process per side with stage timers: SQL includes opening "
        "the warehouse and the report's own queries; specs: building each chart's spec; "
        "html: rendering the pages; files: writing them; after: queries on one thread):\n",
        _stages_table(pg),
        f"\nForeign CPU of these two processes: "
        f"{pct(pg['before']['stages']['process'].get('foreign_cpu'))} and "
        f"{pct(pg['after']['stages']['process'].get('foreign_cpu'))}.\n",
        "```sh",
        ".venv/bin/python benchmarks/pages_profile.py WAREHOUSE --threads 1   # the split",
        ".venv/bin/python benchmarks/run.py --sections pages",
        "```\n",
    ]
