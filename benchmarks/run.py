"""The spotclust benchmark: one command, one run, every figure in benchmarks/RESULTS.md.

usage: .venv/bin/python benchmarks/run.py [--repeats N] [--quick] [--skip-scale] ...
       (`--help` lists every option)

Sections, run in this order in one process tree (each measured process is a child of this one;
its wall time comes from the clock, its CPU time and peak memory from os.wait4's rusage):

  e2e         the baseline notebook (benchmarks/baseline_notebook.py, full silhouette) against
              spotclust doing the same work as separate CLI processes in a fresh warehouse
              (ingest, the elbow sweep, cluster --k 4 with exact silhouette, charts if the
              command exists), interleaved, several times each; stage timings for both
  silhouette  sklearn.metrics.silhouette_score against
              spotclust.model.silhouette.silhouette_score on the baseline's own 2-D PCA points
              and k=4 labels
  sweep       k=2..12 with a silhouette for each k: `spotclust sweep` against the same sweep
              done the notebook way (benchmarks/notebook_sweep.py)
  scale       synthetic data (spotclust.files.synth) at 1M and 10M rows: ingest, cluster
              (k-means and MiniBatchKMeans), time and peak memory, 10M/1M ratios
  place       `spotclust place --file` with 10,000 songs against the shipped k=4 run, against
              the old per-song queries (benchmarks/place_per_song.py) on a subset, per song

Raw results go to benchmarks/out/results.json (ignored by git), the report to
benchmarks/RESULTS.md. With --quick everything is smaller and the report goes to
benchmarks/out/RESULTS.quick.md instead (a smoke test of this script, not a measurement).
The code is in benchmarks/suite/: one module per section, listed in suite/sections.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from suite.environment import SHARED_BASELINE, describe_run, note_progress, utc_now
from suite.harness import (
    OUT,
    QUIET_SHARE,
    load_results,
    log,
    results_path,
    save_results,
    set_quiet_wait,
)
from suite.report import report_path, write_report
from suite.sections import SECTIONS
from suite.spotclust_cli import shipped_dataset


def _add_size_options(p: argparse.ArgumentParser) -> None:
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


def _add_run_options(p: argparse.ArgumentParser) -> None:
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
        "--shared-baseline",
        type=Path,
        default=SHARED_BASELINE,
        help="the reference script benchmarks/baseline_notebook.py copies, to check it is "
        "identical (default: shared/bench/baseline_notebook.py beside the repository)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 1 repeat, sampled silhouettes, 100k/1M rows; the report "
        "goes to out/RESULTS.quick.md",
    )
    p.add_argument(
        "--render", action="store_true", help="only rewrite the report from the saved results.json"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _add_size_options(p)
    _add_run_options(p)
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


def run_section(name: str, args, dataset: Path, results: dict, started: float) -> None:
    """Run one section into results, then save the results and the report (a failure is
    recorded and the other sections go on)."""
    log(f"=== section {name}")
    t = time.perf_counter()
    try:
        record = SECTIONS[name].run(args, dataset)
    except Exception as exc:  # keep the other sections' results
        log(f"=== section {name} FAILED: {exc}")
        results.setdefault("failed", {})[name] = str(exc)[-3000:]
        save_results(results_path(args.quick), results)
        return
    record["seconds"] = time.perf_counter() - t
    record["measured"] = utc_now()
    results["sections"][name] = record
    note_progress(results["meta"], started)
    _take_newer(results, load_results(results_path(args.quick)), args.sections)
    save_results(results_path(args.quick), results)  # after each section
    report = report_path(args.quick)
    write_report(report, results)
    log(f"=== section {name} done in {record['seconds'] / 60:.1f} min; wrote {report}")


def _take_newer(results: dict, saved: dict, running: list[str]) -> None:
    """Sections this run does not measure, as saved now: another benchmark run may have
    saved newer figures for them since this one started."""
    for name, record in saved.get("sections", {}).items():
        if name not in running:
            results["sections"][name] = record
            if "meta" in saved:
                kept = saved.get("kept_from", {}).get(name) or saved["meta"]
                results.setdefault("kept_from", {})[name] = kept


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    set_quiet_wait(args.wait_quiet)
    OUT.mkdir(parents=True, exist_ok=True)
    previous = load_results(results_path(args.quick))
    if args.render:
        if "meta" not in previous:
            sys.exit(f"no saved results in {results_path(args.quick)}: nothing to render")
        write_report(report_path(args.quick), previous)
        log(f"wrote {report_path(args.quick)}")
        return

    dataset = (args.dataset or shipped_dataset()).resolve()
    started = time.perf_counter()
    results = {
        "meta": describe_run(args, argv, dataset),
        "sections": dict(previous.get("sections", {})),
    }
    kept = [name for name in results["sections"] if name not in args.sections]
    if kept:  # say which run measured them, and on what machine
        earlier = previous.get("kept_from", {})
        results["kept_from"] = {
            name: earlier.get(name) or previous["meta"] for name in kept if "meta" in previous
        }
    for name in args.sections:
        run_section(name, args, dataset, results, started)
    log(f"done in {(time.perf_counter() - started) / 60:.1f} min: {report_path(args.quick)}")


if __name__ == "__main__":
    main()
