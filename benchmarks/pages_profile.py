"""Where the time of a run's pages goes: `spotclust.write_charts` and `spotclust.report` for
an existing run, split into the SQL queries, building the charts' specs, rendering the HTML
and writing the files, after timing the imports of the chart stack. CPU seconds are given
beside the wall seconds: on a busy machine they say more.

usage: .venv/bin/python benchmarks/pages_profile.py DB [--out DIR] [--repeats N]

Prints a table, then a RESULT {...} line (JSON) for benchmarks/suite/pages.py: import
seconds, and per call (the first after the imports, then warm repeats) its wall seconds and
the seconds of each stage. Each stage is timed exclusively: a function of one stage called
inside another (the page rendered inside the file writing) counts for its own stage only;
with the queries on several threads, the stages add up to more than the wall time (--threads
1: everything on one thread, in turn, for a split that adds up).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path

T0 = time.perf_counter()
import spotclust  # noqa: E402
from spotclust.charts import pages, registry, report_page  # noqa: E402
from spotclust.runs import report as report_text  # noqa: E402

IMPORTED = time.perf_counter() - T0

STAGES = ("sql", "specs", "html", "files")
_spent: dict[str, float] = defaultdict(float)  # summed over threads
_local = threading.local()  # .stack: [stage, start, seconds of the calls nested in it]


def _timed(function, stage: str):
    def timed(*args, **kwargs):
        stack = _local.__dict__.setdefault("stack", [])
        stack.append([stage, time.perf_counter(), 0.0])
        try:
            return function(*args, **kwargs)
        finally:
            stage_, start, nested = stack.pop()
            elapsed = time.perf_counter() - start
            _spent[stage_] += elapsed - nested
            if stack:
                stack[-1][2] += elapsed

    return timed


def _patch(module, name: str, stage: str) -> None:
    setattr(module, name, _timed(getattr(module, name), stage))


def instrument() -> None:
    """Wrap the functions of each stage where their callers look them up (in this version of
    spotclust, or in one from before the chart templates, to measure the difference)."""
    from spotclust.charts import data

    opening = importlib.import_module("spotclust.warehouse.connection")

    _patch(opening, "connect", "sql")  # opening the warehouse
    for name in ("frame_of", "chart_run", "chart_sweep", "explained_variance", "cluster_names"):
        _patch(data, name, "sql")
    _patch(report_text, "report_sections", "sql")  # the report's numbers: its queries
    for module in (data, registry):
        if hasattr(module, "check_run_data"):
            _patch(module, "check_run_data", "sql")
    if hasattr(registry, "filled"):  # a template filled with its plan
        _patch(registry, "filled", "specs")
    for entry in registry.CHARTS:  # the plan (or the Altair chart) around its queries
        builder = "plan" if hasattr(entry, "plan") else "build"
        object.__setattr__(entry, builder, _timed(getattr(entry, builder), "specs"))
    if not hasattr(registry, "chart_specs"):  # before: Altair's to_dict made each spec
        import altair as alt

        _patch(alt.TopLevelMixin, "to_dict", "specs")
    for name in ("chart_page", "index_page"):
        _patch(pages, name, "html")
    _patch(report_page, "report_page", "html")
    _patch(pages, "write_bundle", "files")
    _patch(pages, "write_whole", "files")
    _patch(report_page, "write_whole", "files")


class _Serial:
    """A ThreadPoolExecutor that runs each task at once, on the calling thread."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def submit(self, function, *args, **kwargs) -> Future:
        done: Future = Future()
        try:
            done.set_result(function(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001  (the caller's result() raises it)
            done.set_exception(exc)
        return done

    def map(self, function, items):
        return [function(item) for item in items]


def one_call(db: Path, out: Path) -> dict:
    """write_charts, then report, for the latest run: wall seconds, and each stage's."""
    _spent.clear()
    start, cpu = time.perf_counter(), time.process_time()
    spotclust.write_charts(db=db, out_dir=out)
    charts = time.perf_counter() - start
    spotclust.report(db=db, out=out / "report.html")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    stages = {stage: _spent.get(stage, 0.0) for stage in STAGES}
    stages["other"] = wall - sum(stages.values())
    return {"wall": wall, "cpu": cpu, "charts": charts, "report": wall - charts, "stages": stages}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("db", type=Path)
    p.add_argument("--out", type=Path, default=None, help="the pages' folder (default: a temp)")
    p.add_argument("--repeats", type=int, default=3, help="warm calls after the first")
    p.add_argument("--plain", action="store_true", help="no stage timers (no overhead)")
    p.add_argument(
        "--threads", type=int, default=None, help="queries at a time (default: spotclust's)"
    )
    args = p.parse_args(argv)
    if args.threads is not None:
        from spotclust.charts import run_data

        run_data.THREADS = args.threads
        if args.threads == 1:  # everything on this thread, in turn: the stages add up
            run_data.ThreadPoolExecutor = report_text.ThreadPoolExecutor = _Serial
    if not args.plain:
        instrument()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        calls = [one_call(args.db, out) for _ in range(1 + args.repeats)]
    heavy = sorted(m for m in ("altair", "sklearn", "vl_convert") if m in sys.modules)
    print(f"imports: {IMPORTED:.3f} s (loaded: {', '.join(heavy) or 'none of altair, sklearn'})")
    print("call    wall    cpu   charts report " + " ".join(f"{s:>6}" for s in (*STAGES, "other")))
    for i, c in enumerate(calls):
        cells = " ".join(f"{c['stages'][s]:6.3f}" for s in (*STAGES, "other"))
        name = "first" if i == 0 else f"warm {i}"
        figures = f"{c['wall']:6.3f} {c['cpu']:6.3f} {c['charts']:6.3f} {c['report']:6.3f}"
        print(f"{name:7} {figures} {cells}")
    result = {"imports": IMPORTED, "loaded": heavy, "calls": calls, "timed": not args.plain}
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
