"""Section place: `spotclust place --file` with 10,000 songs as a whole process, against the
old way of placing (two queries per song, benchmarks/place_per_song.py) timed on the first
songs of the same file, in the same run, on the same warehouse (the shipped dataset, k=4)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .harness import (
    BENCHMARKS,
    OUT,
    PYTHON,
    check,
    child_env,
    log,
    process_summary,
    run_process,
    run_script,
)
from .markdown import fmt_mb, fmt_s, fmt_x, heading, pct, ratio, shell, summary, table
from .spotclust_cli import spotclust_cmd

SCRIPT = BENCHMARKS / "place_per_song.py"
SONGS = 10_000  # placed by `spotclust place --file`
PER_SONG = 300  # of them placed the old way (100 with --quick)
NEIGHBOURS = 10  # the command's default


def _batch_runs(args, cli: list[str], db: Path, songs: Path, out: Path) -> list[dict]:
    """`spotclust place --file` as the measured process itself (exec'd by sh only to send its
    JSON to a file: a 30 MB stdout read back here would swell this process)."""
    command = [*cli, "place", "--file", songs, "--db", db, "--format", "json"]
    command += ["--neighbours", str(NEIGHBOURS)]
    runs = []
    for i in range(args.repeats):
        log(f"place: spotclust place --file ({SONGS:,} songs) {i + 1}/{args.repeats}")
        result = run_process(
            ["sh", "-c", 'out="$1"; shift; exec "$@" > "$out"', "sh", out, *command],
            env=child_env(),
            label="spotclust place",
            timeout=args.timeout,
        )
        runs.append({**process_summary(check(result)), "cmd": [str(c) for c in command]})
    return runs


def run(args, dataset: Path) -> dict:
    work = OUT / "place"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cli, db, songs = spotclust_cmd(), work / "w.duckdb", work / "songs.csv"
    log("place: ingest the shipped dataset and cluster it with k=4 (not timed here)")
    check(run_process([*cli, "ingest", dataset, "--db", db], env=child_env(), label="ingest"))
    cluster = [*cli, "cluster", "--k", "4", "--db", db, "-q", "--no-charts"]
    check(run_process(cluster, env=child_env(), label="cluster --k 4"))
    made = run_script(
        [PYTHON, SCRIPT, "songs", db, songs, "--count", SONGS], "songs", env=child_env()
    )
    out: dict = {"songs": {k: v for k, v in made.items() if k != "process"}}
    out["batch"] = _batch_runs(args, cli, db, songs, work / "batch.json")
    per_song = 100 if args.quick else PER_SONG
    log(f"place: the old way, per song, on the first {per_song} songs")
    out["per_song"] = run_script(
        [PYTHON, SCRIPT, "time", db, songs, "--songs", per_song, "--neighbours", NEIGHBOURS,
         "--out", work / "per_song.json"],
        "per-song place",
        env=child_env(),
        timeout=args.timeout,
    )  # fmt: skip
    out["agreement"] = run_script(
        [PYTHON, SCRIPT, "compare", work / "per_song.json", work / "batch.json"],
        "compare",
        env=child_env(),
    )
    shutil.rmtree(work, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- report


def _figures(pl: dict) -> dict:
    """Per-song seconds of both ways, their ratio, and the old way extrapolated."""
    batch = summary([r["wall"] for r in pl["batch"]])
    songs = pl["songs"]["songs"]
    old = pl["per_song"]["seconds_per_song"]
    new = batch["median"] / songs
    return {
        "batch": batch,
        "songs": songs,
        "old_per_song": old,
        "new_per_song": new,
        "ratio": ratio(old, new),
        "old_extrapolated": pl["per_song"]["seconds_model"] + old * songs,
    }


def _table(pl: dict, f: dict) -> str:
    ps = pl["per_song"]
    rows = [
        [
            f"old way: 2 queries per song, the first {ps['songs']} songs (loop only)",
            fmt_s(ps["seconds_songs"], 1),
            f"{ps['seconds_per_song'] * 1000:.1f} ms",
            fmt_mb(ps["process"]["max_rss_mb"]),
            pct(ps["process"].get("foreign_cpu")),
            "1.0x",
        ],
        [
            f"old way extrapolated to {f['songs']:,} songs",
            fmt_s(f["old_extrapolated"], 0),
            "",
            "",
            "",
            "",
        ],
        [
            f"`spotclust place --file`, {f['songs']:,} songs, whole process "
            f"(median of {f['batch']['n']})",
            fmt_s(f["batch"]["median"], 2),
            f"{f['new_per_song'] * 1000:.2f} ms",
            fmt_mb(max(r["max_rss_mb"] for r in pl["batch"])),
            pct(pl["batch"][0].get("foreign_cpu")),
            fmt_x(f["ratio"]),
        ],
    ]
    return table(["", "seconds", "per song", "peak RSS", "foreign CPU", "per song vs old"], rows)


def render(pl: dict, claims: list) -> list[str]:
    """The report's section 5; adds its line to claims (the summary table)."""
    f = _figures(pl)
    agree = pl["agreement"]
    same = "equal" if agree["equal"] else "**differ**"
    claims.append(
        [
            f"place {f['songs']:,} songs: `spotclust place` vs two queries a song (per song)",
            "(report)",
            f"{fmt_x(f['ratio'])}, {same}",
            "",
        ]
    )
    return [
        heading("5. Placing songs: all at once against one at a time", pl),
        f"{f['songs']:,} songs drawn from the clean tracks ({pl['songs']['nudged']:,} nudged by "
        f"up to 5%, {pl['songs']['with_missing_features']:,} missing three features), "
        f"{NEIGHBOURS} nearest tracks each, k=4 run of the shipped dataset. The old way's time "
        "is its loop alone (no process start, no reading the model): the ratio flatters it.\n",
        _table(pl, f),
        f"\nThe first {agree['compared']} placements of both ways are {same} (floats within "
        f"1e-12; largest relative difference {agree['max_relative_difference']:.1e}).\n",
        "```sh",
        shell(pl["batch"][0]["cmd"]),
        shell(pl["per_song"]["process"]["cmd"]),
        "```\n",
    ]
