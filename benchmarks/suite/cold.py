"""Section cold: the first `spotclust run` on a fresh clone right after a fresh install,
against warm runs of the same command (issue 16: no compile on the user's clock; the first
run after `make install` within 20% of a warm run).

What it does, in a temporary folder:

  1. `git clone` of this repository (its committed HEAD). While the work is not committed,
     the working tree's uncommitted files are copied over the clone (the report says how
     many): the code measured is then the code as it is now, not the last commit.
  2. A fresh venv (`python -m venv`) that reaches the main .venv's libraries through a .pth
     file (no download of numpy & co.), then `pip install --no-deps -e <clone>` and the step
     `make install` runs after pip, `python -m spotclust.model.compile_kernels`, each timed.
     numba caches next to the source, so the clone starts with no compiled kernels (checked).
  3. The first `spotclust run` (cold) with the OS page cache as the install left it: an
     install writes the libraries, so they are in memory, as here (the claim), then WARM more
     runs of the same, each in a fresh warehouse; numba's cache log (NUMBA_DEBUG_CACHE)
     counts kernels loaded and compiled.
  4. A second clone and venv, installed the same way, and its first run after the OS page
     cache is dropped (as after a reboot), if the machine allows it: every library is read
     back from disk (reported beside the claim).
  5. For contrast, a third clone and venv installed without the compile step, and its first
     run (page cache dropped): what a user got when nothing compiled the kernels at install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

from .environment import loadavg
from .harness import PYTHON, ROOT, check, child_env, log, process_summary, run_process
from .markdown import fmt_mb, fmt_s, fmt_x, heading, median_pct, pct, ratio, summary, table
from .spotclust_cli import run_stages

WARM = 3  # warm runs after the cold one (1 with --quick)
TARGET = 1.2  # cold / warm
RUN_ARGS = [
    "--k", "4", "--sweep", "1..10", "--rows", "listings", "--n-init", "1",
    "--no-sweep-silhouette", "--stability", "0", "--exact-silhouette",
    "--charts-dir", "charts", "--db", "W.duckdb", "-q",
]  # fmt: skip
KERNEL_CACHE = Path("spotclust") / "model" / "__pycache__"


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _env() -> dict:
    """The children's environment: no PYTHONPATH (it would import this checkout's spotclust),
    no NUMBA_CACHE_DIR (the kernels must cache next to the clone's source), Python writes
    .pyc files as on a user's machine (this one sets PYTHONDONTWRITEBYTECODE), numba's cache
    log on (one line per kernel loaded from or saved to the cache)."""
    env = child_env(NUMBA_DEBUG_CACHE="1")
    for name in ("PYTHONPATH", "NUMBA_CACHE_DIR", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def _timed(cmd: list, label: str, cwd: Path, timeout: float) -> dict:
    return process_summary(
        check(run_process(cmd, cwd=cwd, env=_env(), label=label, timeout=timeout))
    )


def _overlay(clone: Path) -> list[str]:
    """Copy the working tree's uncommitted files (modified, new, deleted; not ignored ones)
    over the clone; their paths."""
    listed = _git("ls-files", "-z", "--modified", "--others", "--exclude-standard")
    paths = sorted({p for p in listed.split("\0") if p})
    for rel in paths:
        source, target = ROOT / rel, clone / rel
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif not source.exists():  # deleted in the working tree
            target.unlink(missing_ok=True)
    return paths


def _kernel_files(clone: Path) -> int:
    folder = clone / KERNEL_CACHE
    return sum(1 for p in folder.glob("*.nb[ci]")) if folder.is_dir() else 0


def install(tmp: Path, name: str, compile_kernels: bool, timeout: float) -> dict:
    """A fresh clone and venv in tmp/name: each step timed; the venv's spotclust script."""
    clone, venv = tmp / name / "clone", tmp / name / "venv"
    clone.parent.mkdir(parents=True)
    steps: dict = {}
    log(
        f"cold: {name}: git clone, venv, pip install -e"
        + (", compile_kernels" if compile_kernels else "")
    )
    steps["git clone"] = _timed(["git", "clone", "--quiet", ROOT, clone], "git clone", tmp, timeout)
    out: dict = {
        "commit": subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    }
    out["overlaid"] = _overlay(clone)
    steps["python -m venv"] = _timed([PYTHON, "-m", "venv", venv], "venv", tmp, timeout)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    main_site = sysconfig.get_paths()["purelib"]
    (site / "main-venv-libraries.pth").write_text(main_site + "\n")
    out["main_site_packages"] = main_site
    # Build isolation stays on: the venv's own setuptools (65.5, from ensurepip) cannot read
    # this pyproject.toml (PEP 639 license), so pip fetches setuptools>=77 for the build as
    # `make install` does; --no-deps: every dependency comes from the main .venv.
    steps["pip install -e"] = _timed(
        [venv / "bin" / "pip", "install", "--quiet", "--no-deps", "-e", clone],
        "pip install -e",
        tmp,
        timeout,
    )
    probe = subprocess.run(
        [venv / "bin" / "python", "-c",
         "import importlib.util as u; print(u.find_spec('spotclust').origin)"],
        capture_output=True, text=True, env=_env(), cwd=tmp,
    )  # fmt: skip
    origin = probe.stdout.strip()
    if not origin or not Path(origin).resolve().is_relative_to(clone.resolve()):
        raise RuntimeError(f"{name}: the venv imports spotclust from {origin!r}, not the clone")
    out["spotclust_origin"] = origin
    out["kernel_cache_before_compile"] = (clone / KERNEL_CACHE).exists()
    if out["kernel_cache_before_compile"]:
        raise RuntimeError(f"{name}: {clone / KERNEL_CACHE} exists before any compile step")
    if compile_kernels:
        result = check(
            run_process(
                [venv / "bin" / "python", "-m", "spotclust.model.compile_kernels"],
                cwd=tmp,
                env=_env(),
                label="compile_kernels",
                timeout=timeout,
            )
        )
        steps["python -m spotclust.model.compile_kernels"] = process_summary(result)
        out["compile_said"] = [
            line for line in result["stdout"].splitlines() if not line.startswith("[cache]")
        ][-3:]
    out["kernel_files_after_install"] = _kernel_files(clone)
    out["steps"] = steps
    out["script"] = str(venv / "bin" / "spotclust")
    out["clone"] = str(clone)
    return out


def drop_page_cache() -> dict:
    """sync, then ask the kernel to drop the page cache (needs root outside a container)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError as exc:
        log(f"cold: page cache not dropped ({exc})")
        return {"dropped": False, "error": str(exc)}
    log("cold: page cache dropped")
    return {"dropped": True, "error": None}


def _numba_log(stdout: str) -> dict:
    """Kernels numba loaded from its cache and compiled-and-saved, from NUMBA_DEBUG_CACHE."""
    lines = [line for line in stdout.splitlines() if line.startswith("[cache]")]
    return {
        "loaded": sum("data loaded from" in line for line in lines),
        "saved": sum("data saved to" in line for line in lines),
    }


def one_run(script: str, dataset: Path, where: Path, label: str, timeout: float) -> dict:
    """`spotclust run` in a fresh folder (fresh warehouse and charts): up to 2 retries, 30 s
    apart, if it fails (the record says how many attempts it took)."""
    for attempt in range(1, 4):
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        result = run_process(
            [script, "run", dataset, *RUN_ARGS], cwd=where, env=_env(), label=label, timeout=timeout
        )
        if result["returncode"] == 0 and not result["timed_out"]:
            break
        if attempt < 3:
            log(f"  {label} failed ({result['stderr'].strip()[-300:]}); retrying in 30 s")
            time.sleep(30)
    check(result)
    record = {
        **process_summary(result),
        "attempts": attempt,
        "numba": _numba_log(result["stdout"]),
        "stages": run_stages(where / "W.duckdb"),
    }
    shutil.rmtree(where, ignore_errors=True)
    return record


def run(args, dataset: Path) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="spotclust-cold-"))
    warm = 1 if args.quick else WARM
    out: dict = {"loadavg_start": loadavg(), "warm_runs": warm}
    try:
        inst = install(tmp, "installed", compile_kernels=True, timeout=args.timeout)
        out["install"] = inst
        out["page_cache"] = {"dropped": False, "error": None}  # as the install left it
        log("cold: the first spotclust run after install")
        out["cold"] = one_run(inst["script"], dataset, tmp / "run", "cold run", args.timeout)
        out["warm"] = [
            one_run(inst["script"], dataset, tmp / "run", f"warm run {i + 1}/{warm}", args.timeout)
            for i in range(warm)
        ]
        shutil.rmtree(tmp / "installed", ignore_errors=True)
        again = install(tmp, "rebooted", compile_kernels=True, timeout=args.timeout)
        out["rebooted"] = {"install": again, "page_cache": drop_page_cache()}
        log("cold: the first run after install, with the page cache dropped")
        out["rebooted"]["run"] = one_run(
            again["script"], dataset, tmp / "run", "first run, page cache dropped", args.timeout
        )
        shutil.rmtree(tmp / "rebooted", ignore_errors=True)
        bare = install(tmp, "not-compiled", compile_kernels=False, timeout=args.timeout)
        out["not_compiled"] = {"install": bare, "page_cache": drop_page_cache()}
        log("cold: the first run when install compiled nothing")
        out["not_compiled"]["run"] = one_run(
            bare["script"], dataset, tmp / "run", "first run, no compile at install", args.timeout
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["loadavg_end"] = loadavg()
    return out


# --------------------------------------------------------------------------- report


def figures(cd: dict) -> dict:
    warm = summary([r["wall"] for r in cd["warm"]])
    rebooted = cd.get("rebooted")  # results from before it was measured have none
    return {
        "warm": warm,
        "ratio": ratio(cd["cold"]["wall"], warm["median"]),
        "rebooted_ratio": ratio(rebooted["run"]["wall"], warm["median"]) if rebooted else None,
        "rebooted_cpu_ratio": (
            ratio(rebooted["run"]["cpu"], summary([r["cpu"] for r in cd["warm"]])["median"])
            if rebooted
            else None
        ),
        "bare_ratio": ratio(cd["not_compiled"]["run"]["wall"], warm["median"]),
    }


def _stage(run: dict, name: str) -> str:
    seconds = (run.get("stages") or {}).get("seconds") or {}
    return fmt_s(seconds.get(name)) if seconds.get(name) is not None else "–"


def _steps_table(cd: dict) -> str:
    rows = []
    for who, inst in (
        ("installed", cd["install"]),
        ("no compile step", cd["not_compiled"]["install"]),
    ):
        for step, p in inst["steps"].items():
            rows.append(
                [f"{who}: `{step}`", fmt_s(p["wall"]), fmt_s(p["cpu"]), fmt_mb(p["max_rss_mb"]),
                 pct(p.get("foreign_cpu"))]
            )  # fmt: skip
    return table(["install step", "wall", "CPU", "peak RSS", "foreign CPU"], rows)


def _runs_table(cd: dict, f: dict) -> str:
    def row(label: str, r: dict, cache: str) -> list:
        return [
            label + (f" ({r['attempts']} attempts)" if r.get("attempts", 1) > 1 else ""),
            fmt_s(r["wall"]),
            fmt_s(r["cpu"]),
            fmt_mb(r["max_rss_mb"]),
            pct(r.get("foreign_cpu")),
            _stage(r, "silhouette"),
            f"{r['numba']['loaded']} / {r['numba']['saved']}",
            cache,
            fmt_x(ratio(r["wall"], f["warm"]["median"])),
        ]

    def cache(page: dict) -> str:
        return "dropped" if page["dropped"] else "as the install left it"

    bare = cd["not_compiled"]
    rows = [row("first run after install (cold)", cd["cold"], cache(cd["page_cache"]))]
    rows += [row(f"warm run {i + 1}", r, "warm") for i, r in enumerate(cd["warm"])]
    if cd.get("rebooted"):
        rows.append(
            row(
                "first run after install, page cache dropped (as after a reboot)",
                cd["rebooted"]["run"],
                cache(cd["rebooted"]["page_cache"]),
            )
        )
    rows.append(
        row(
            "first run, kernels not compiled at install",
            bare["run"],
            cache(bare["page_cache"]),
        )
    )
    header = ["`spotclust run`", "wall", "CPU", "peak RSS", "foreign CPU", "silhouette stage"]
    header += ["numba kernels loaded / compiled", "page cache", "vs warm median"]
    return table(header, rows)


def render(cd: dict, claims: list) -> list[str]:
    """The report's cold-start section; adds its lines to claims."""
    f = figures(cd)
    w = f["warm"]
    claims.append(
        [
            "first `spotclust run` after install on a fresh clone vs warm runs (same work, wall)",
            f"<= {TARGET}x",
            f"{fmt_x(f['ratio'])} (cold {fmt_s(cd['cold']['wall'], 1)}; warm median "
            f"{fmt_s(w['median'], 1)}, {w['min']:.1f}–{w['max']:.1f} s)",
            "yes" if f["ratio"] is not None and f["ratio"] <= TARGET else "**no**",
        ]
    )
    if cd.get("rebooted"):
        dropped = cd["rebooted"]["page_cache"]["dropped"]
        claims.append(
            [
                "the same first run with the OS page cache dropped (as after a reboot), vs warm"
                + ("" if dropped else " (could not drop it)"),
                "(report)",
                f"{fmt_x(f['rebooted_ratio'])} by wall "
                f"({fmt_s(cd['rebooted']['run']['wall'], 1)}), "
                f"{fmt_x(f['rebooted_cpu_ratio'])} by CPU",
                "",
            ]
        )
    claims.append(
        [
            "first run when install compiled no kernels, vs warm (what a user got before)",
            "(report)",
            f"{fmt_x(f['bare_ratio'])} ({fmt_s(cd['not_compiled']['run']['wall'], 1)})",
            "",
        ]
    )
    inst = cd["install"]
    overlaid = inst.get("overlaid") or []
    code = f"a fresh `git clone` of this repository at `{inst['commit'][:7]}`"
    if overlaid:
        code += (
            f" with the working tree's {len(overlaid)} uncommitted files copied over it (the "
            "work was not committed when this was measured)"
        )
    page = cd["page_cache"]
    if page["dropped"]:  # results from before the page cache was left as the install left it
        cache = "The OS page cache was dropped before the cold run (`sync`; 3 > drop_caches)."
    else:
        rebooted = (cd.get("rebooted") or {}).get("page_cache") or {}
        cache = (
            "The cold run finds the OS page cache as the install left it: a real install "
            "writes the libraries, so they are in memory (here the main .venv's files, in "
            "memory from earlier processes). *Cold* means no byte-compiled spotclust modules, "
            "a kernel cache just written, a fresh clone. "
            + (
                "Then a second clone, installed the same way, runs once after the page cache "
                "is dropped (`sync`; 3 > /proc/sys/vm/drop_caches), as after a reboot: every "
                "library read back from disk."
                if rebooted.get("dropped")
                else f"The page cache could not be dropped ({rebooted.get('error')})."
            )
        )
    compile_step = inst["steps"].get("python -m spotclust.model.compile_kernels")
    return [
        heading("8. Cold first run: fresh clone, fresh install", cd),
        f"The code: {code}. A new venv (`python -m venv`) reaches the main .venv's libraries "
        "through a .pth file, so nothing but the build backend is fetched; then `pip install "
        "--no-deps -e <clone>` and the step `make install` runs after pip, `python -m "
        "spotclust.model.compile_kernels` "
        f"({fmt_s(compile_step['wall'], 1) if compile_step else '–'}, the compile cost moved "
        f"to install; before it the clone had no kernel cache, after it "
        f"{inst['kernel_files_after_install']} numba cache files). {cache} Then, with the "
        f"venv's `spotclust`, the first run and {cd['warm_runs']} warm runs of the same "
        "command, each in a fresh warehouse and charts folder; for contrast, a third fresh "
        "clone and venv without the compile step and its first run. *numba kernels* counts "
        "the lines of numba's cache log (NUMBA_DEBUG_CACHE=1): loaded from the cache / "
        "compiled and saved. Python writes .pyc files as on a user's machine (this one sets "
        "PYTHONDONTWRITEBYTECODE; the children run without it). Load average "
        f"{cd.get('loadavg_start')} at the start, {cd.get('loadavg_end')} at the end; *foreign "
        "CPU* is the share of the machine other processes used during each process.\n",
        _steps_table(cd),
        "",
        _runs_table(cd, f),
        f"\nCold / warm median: **{fmt_x(f['ratio'])}** (warm median of {w['n']}: "
        f"{fmt_s(w['median'])}, range {fmt_s(w['min'])}–{fmt_s(w['max'])}; warm runs' foreign "
        f"CPU {median_pct([r.get('foreign_cpu') for r in cd['warm']])}).\n",
        "```sh",
        "spotclust run <shipped dataset> " + " ".join(RUN_ARGS),
        "```\n",
    ]
