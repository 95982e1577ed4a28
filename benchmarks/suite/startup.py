"""Section startup: how long the light commands take to start, before and after the start-up
work (issue 16: a command imports only what it uses; `spotclust sql`, `tables`, `runs` and
`--help` start in under 0.5 s of CPU).

Both sides run the same way, as fresh processes of this benchmark's Python, each with its
own source tree first on PYTHONPATH (the same launcher cost for both):

  before  the code at BEFORE, checked out into a temporary git worktree
  after   the code of this checkout (working tree, as it is now)

Each side gets its own warehouse, made by its own code (the shipped data ingested and one
k=4 run), so that neither reads a schema it does not know. The sides alternate, each command
REPEATS times after one unmeasured warm-up (byte-compiling the worktree's modules); then one
run of each under `python -X importtime` gives the import profile.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from .environment import loadavg
from .harness import OUT, PYTHON, ROOT, check, child_env, log, process_summary, run_process
from .markdown import heading, median_pct, ratio, summary, table

BEFORE = "1696d63"  # the commit before the start-up work
REPEATS = 7  # measured runs of each command on each side (3 with --quick)
TOP = 8  # packages in the import profile
LAUNCHER = "import sys; sys.argv[0] = 'spotclust'; from spotclust.__main__ import main; main()"
PROBE = "import json, spotclust; print(json.dumps(spotclust.__file__))"
TARGET_CPU = 0.5  # seconds

# name -> (arguments after `spotclust`, with "{db}" for the warehouse; what it does besides
# starting)
COMMANDS = {
    "--help": (["--help"], "prints the list of commands"),
    "sql": (
        ["sql", "SELECT 1", "--db", "{db}"],
        "opens the warehouse read-only, runs `SELECT 1`, prints one row",
    ),
    "tables": (
        ["tables", "--db", "{db}"],
        "opens the warehouse and counts the rows of every table and view (views are computed)",
    ),
    "runs": (["runs", "--db", "{db}"], "opens the warehouse and lists its one run"),
}
_IMPORT_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)\s*$")


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _retry(cmd: list, label: str, **options) -> dict:
    """run_process until it succeeds: up to 2 retries, 30 s apart (another agent's edit may
    break the CLI for a moment). The last result, checked."""
    for attempt in range(3):
        result = run_process(cmd, label=label, **options)
        if result["returncode"] == 0 and not result["timed_out"]:
            break
        if attempt < 2:
            log(f"  {label} failed ({result['stderr'].strip()[-300:]}); retrying in 30 s")
            time.sleep(30)
    return check(result)


class Side:
    """One version of spotclust: its source tree, the command that runs it, its warehouse."""

    def __init__(self, name: str, tree: Path, work: Path):
        self.name, self.tree = name, tree
        # Byte-compiled modules as an installed package has them: this machine sets
        # PYTHONDONTWRITEBYTECODE, which would make every run compile spotclust's sources;
        # the .pyc files go to a folder of this section's, not into the source trees.
        self.env = child_env(PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=str(work / "pycache"))
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.db = work / f"{name}.duckdb"
        self.cwd = work

    def cmd(self, args: list[str], *python_options: str) -> list[str]:
        args = [a.replace("{db}", str(self.db)) for a in args]
        return [PYTHON, *python_options, "-c", LAUNCHER, *args]

    def probe(self) -> str:
        """Where this side's spotclust is imported from (it must be its own tree)."""
        done = subprocess.run(
            [PYTHON, "-c", PROBE], capture_output=True, text=True, env=self.env, cwd=self.cwd
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}: spotclust does not import: {done.stderr[-1500:]}")
        where = done.stdout.strip().strip('"')
        if not Path(where).resolve().is_relative_to(self.tree.resolve()):
            raise RuntimeError(f"{self.name}: spotclust came from {where}, not {self.tree}")
        return where

    def make_warehouse(self, dataset: Path, timeout: float) -> None:
        log(f"startup: the {self.name} side's warehouse (ingest, cluster --k 4; not timed here)")
        ingest = self.cmd(["ingest", str(dataset), "--db", "{db}"])
        _retry(ingest, f"{self.name}: ingest", env=self.env, cwd=self.cwd, timeout=timeout)
        cluster = ["cluster", "--k", "4", "--no-charts", "-q", "--silhouette-sample", "2000"]
        cluster = self.cmd([*cluster, "--db", "{db}"])
        _retry(cluster, f"{self.name}: cluster", env=self.env, cwd=self.cwd, timeout=timeout)


def import_profile(stderr: str) -> dict:
    """`python -X importtime` output summed by top-level package: self microseconds."""
    by_package: dict[str, int] = defaultdict(int)
    modules = 0
    for line in stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if m:
            modules += 1
            by_package[m.group(4).split(".")[0]] += int(m.group(1))
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])
    return {
        "total_ms": sum(by_package.values()) / 1000,
        "modules": modules,
        "packages": len(by_package),
        "top": [[name, us / 1000] for name, us in ranked[:TOP]],
        "spotclust_ms": by_package.get("spotclust", 0) / 1000,
    }


def _profile(side: Side, args: list[str], timeout: float) -> dict:
    done = subprocess.run(
        side.cmd(args, "-X", "importtime"),
        capture_output=True,
        text=True,
        env=side.env,
        cwd=side.cwd,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{side.name} {args}: exit {done.returncode}: {done.stderr[-1500:]}")
    return import_profile(done.stderr)


def _measure(sides: list[Side], repeats: int, timeout: float) -> dict:
    """Every command on both sides, alternating (the side that goes first alternates too)."""
    runs: dict = {name: {side.name: [] for side in sides} for name in COMMANDS}
    for side in sides:  # warm-up: byte-compile, page cache
        for name, (args, _) in COMMANDS.items():
            label = f"warm-up {side.name} {name}"
            _retry(side.cmd(args), label, env=side.env, cwd=side.cwd, timeout=timeout)
    for i in range(repeats):
        log(f"startup: round {i + 1}/{repeats}")
        order = sides if i % 2 == 0 else sides[::-1]
        for name, (args, _) in COMMANDS.items():
            for side in order:
                result = _retry(
                    side.cmd(args),
                    f"{side.name} {name}",
                    env=side.env,
                    cwd=side.cwd,
                    timeout=timeout,
                )
                runs[name][side.name].append(process_summary(result))
    return runs


def run(args, dataset: Path) -> dict:
    work = OUT / "startup"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="spotclust-startup-"))
    tree = tmp / "before"
    changed = _git("status", "--porcelain", "--", "spotclust", "sql")
    out: dict = {
        "before": {
            "commit": _git("rev-parse", BEFORE),
            "subject": _git("log", "-1", "--format=%s", BEFORE),
        },
        "after": {
            "commit": _git("rev-parse", "HEAD"),
            "uncommitted": len(changed.splitlines()),
        },
        "loadavg_start": loadavg(),
    }
    log(f"startup: worktree of {BEFORE} in {tree}")
    _git("worktree", "add", "--detach", str(tree), BEFORE)
    try:
        sides = [Side("before", tree, work), Side("after", ROOT, work)]
        for side in sides:
            out[side.name]["spotclust_file"] = side.probe()
            out[side.name]["tree"] = str(side.tree)
        for side in sides:
            side.make_warehouse(dataset, args.timeout)
        repeats = 3 if args.quick else REPEATS
        out["repeats"] = repeats
        out["runs"] = _measure(sides, repeats, args.timeout)
        log("startup: import profiles (python -X importtime)")
        out["imports"] = {
            name: {side.name: _profile(side, cmd_args, args.timeout) for side in sides}
            for name, (cmd_args, _) in COMMANDS.items()
        }
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    out["loadavg_end"] = loadavg()
    return out


# --------------------------------------------------------------------------- report


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _range(values: list[float]) -> str:
    s = summary(values)
    if not s["n"]:
        return "–"
    return f"{s['median']:.2f} s ({s['min']:.2f}–{s['max']:.2f})"


def _times_table(st: dict) -> str:
    rows = []
    for name, (args, _) in COMMANDS.items():
        shown = ["W" if a == "{db}" else f'"{a}"' if " " in a else a for a in args]
        label = f"`spotclust {' '.join(shown)}`"
        for side in ("before", "after"):
            runs = st["runs"][name][side]
            cpu = [r["cpu"] for r in runs]
            rows.append(
                [
                    label if side == "before" else "",
                    side,
                    _range(cpu),
                    _range([r["wall"] for r in runs]),
                    f"{summary([r['max_rss_mb'] for r in runs])['median']:.0f} MB",
                    median_pct([r.get("foreign_cpu") for r in runs]),
                ]
            )
        b = summary([r["cpu"] for r in st["runs"][name]["before"]])["median"]
        a = summary([r["cpu"] for r in st["runs"][name]["after"]])["median"]
        rows[-1].append(f"{ratio(b, a):.1f}x less CPU" if ratio(b, a) else "–")
        rows[-2].append("")
    header = ["command", "code", "CPU (median, range)", "wall (median, range)", "peak RSS"]
    return table([*header, "foreign CPU", "after vs before"], rows)


def _imports_table(st: dict, side: str) -> str:
    rows = []
    for name in COMMANDS:
        prof = st["imports"][name][side]
        top = ", ".join(f"{pkg} {ms:.0f}" for pkg, ms in prof["top"])
        rows.append([f"`{name}`", f"{prof['total_ms']:.0f} ms", f"{prof['modules']:,}", f"{top}"])
    return table(["command", "import time (sum)", "modules", f"top {TOP} packages (ms)"], rows)


def render(st: dict, claims: list) -> list[str]:
    """The report's start-up section; one summary line per command."""
    for name, (_, work) in COMMANDS.items():
        cpu = summary([r["cpu"] for r in st["runs"][name]["after"]])
        shown = "spotclust --help" if name == "--help" else f"spotclust {name}"
        claims.append(
            [
                f"start-up of `{shown}` (CPU, median of {cpu['n']}; it also {work})",
                f"< {TARGET_CPU} s",
                f"{cpu['median']:.2f} s ({cpu['min']:.2f}–{cpu['max']:.2f})",
                "yes" if cpu["median"] < TARGET_CPU else "**no**",
            ]
        )
    before, after = st["before"], st["after"]
    dirty = (
        f" plus {after['uncommitted']} uncommitted files under spotclust/ and sql/"
        if after.get("uncommitted")
        else ""
    )
    notes = "\n".join(
        f"- `{name}` {work}." for name, (_, work) in COMMANDS.items() if name != "--help"
    )
    return [
        heading("7. Start-up of the light commands, before and after", st),
        f"Each command as a fresh process, {st['repeats']} times on each side, the sides "
        "alternating, after one unmeasured warm-up each. *before* is commit "
        f"`{before['commit'][:7]}` ({_short(before['subject'])}) checked out in a temporary git "
        f"worktree; *after* is this checkout (`{after['commit'][:7]}`{dirty}). Both run as "
        f'`.venv/bin/python -c "{LAUNCHER}" ARGS` with their own tree first on PYTHONPATH '
        "(checked: `spotclust.__file__` is under that tree), so both pay the same launcher "
        "cost, and with byte-compiled modules (PYTHONPYCACHEPREFIX, written by the warm-up: "
        "this machine sets PYTHONDONTWRITEBYTECODE, which would make every run compile "
        "spotclust's sources); each side reads a warehouse its own code made (the shipped "
        "data ingested, one k=4 run). CPU is user+sys of the process (os.wait4); *foreign "
        "CPU* is the share of the machine other processes used meanwhile. Load average "
        f"{st.get('loadavg_start')} at the start, {st.get('loadavg_end')} at the end.\n",
        _times_table(st),
        "\nBesides starting:\n",
        notes,
        "\n**Import profile** (one run each with `python -X importtime`: self time summed per "
        "top-level package, milliseconds; the sum includes the interpreter's own start-up "
        "imports such as encodings and site). Before:\n",
        _imports_table(st, "before"),
        "\nAfter:\n",
        _imports_table(st, "after"),
        "",
    ]
