"""Placing songs the old way, one song at a time with two queries each, for the `place` section.

usage:
  python place_per_song.py songs DB OUT.csv [--count N] [--seed S]
        N songs (default 10,000) from the warehouse's clean tracks: their own values, a third
        nudged by up to 5% (within each feature's range), one in twenty missing three features
  python place_per_song.py time DB SONGS.csv [--songs N] [--neighbours K] [--out OUT.json]
        place the first N songs (default 300) into the latest run as `spotclust place` did up
        to the batch version: per song, its typicality query and its nearest-tracks query
        (copied below); prints the seconds per song, writes the placements as JSON
  python place_per_song.py compare PER_SONG.json BATCH.json
        whether the batch output's first placements equal these (floats within 1e-12)

Each mode prints one JSON line prefixed "RESULT ".
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time

FEATURES = (
    "popularity", "duration_ms", "explicit", "danceability", "energy", "key", "loudness", "mode",
    "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
    "time_signature",
)  # fmt: skip
UNIT = {"danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness"}
UNIT |= {"valence"}

# The two per-song queries of spotclust/runs/place.py before the batch version.
TYPICALITY = """
SELECT avg(CASE WHEN distance > $d THEN 1.0 ELSE 0.0 END) FROM assignments
WHERE run_id = $run_id AND cluster = $cluster
"""
NEIGHBOURS = """
WITH used AS (SELECT DISTINCT track_id, cluster FROM assignments WHERE run_id = $run_id)
SELECT t.track_id, t.artists, t.track_name, u.cluster,
       (SELECT string_agg(genre, ', ' ORDER BY genre) FROM track_genres g
        WHERE g.track_id = t.track_id) AS genres,
       sqrt({terms}) AS distance
FROM tracks t JOIN used u USING (track_id)
ORDER BY distance, t.track_id
LIMIT $limit
"""


def write_songs(db: str, out: str, count: int, seed: int) -> dict:
    """count songs drawn (with replacement) from the clean tracks, as a CSV."""
    import duckdb
    import numpy as np

    columns = ", ".join(f'"{f}"' for f in FEATURES)
    with duckdb.connect(db, read_only=True) as con:
        tracks = con.execute(f"SELECT track_name, {columns} FROM tracks ORDER BY track_id")
        tracks = tracks.fetchall()
    rng = np.random.default_rng(seed)
    nudged = missing = 0
    with open(out, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["name", *FEATURES])
        for n, row in enumerate(rng.integers(0, len(tracks), count)):
            name, *values = tracks[row]
            if n % 3 == 1:
                nudged += 1
                values = [_nudge(f, v, rng) for f, v in zip(FEATURES, values, strict=True)]
            if n % 20 == 7:
                missing += 1
                for i in rng.choice(len(FEATURES), 3, replace=False):
                    values[i] = ""
            writer.writerow([f"song {n}: {name}", *values])
    return {"songs": count, "nudged": nudged, "with_missing_features": missing}


def _nudge(feature: str, value, rng):
    if not isinstance(value, float):
        return value
    value *= 1 + rng.uniform(-0.05, 0.05)
    return min(1.0, value) if feature in UNIT else value


def read_songs(path: str, limit: int) -> list[dict]:
    """The first `limit` songs of a CSV, as the old read_songs read them."""
    import duckdb

    with duckdb.connect() as con:
        result = con.execute("SELECT * FROM read_csv($path, header = true)", {"path": path})
        columns = [d[0] for d in result.description]
        return [dict(zip(columns, row, strict=True)) for row in result.fetchmany(limit)]


def time_per_song(db: str, songs_csv: str, count: int, neighbours: int, out: str | None) -> dict:
    import numpy as np

    from spotclust.runs.place import load_model, song_values
    from spotclust.runs.resolve import resolve_run
    from spotclust.warehouse import connection

    songs = read_songs(songs_csv, count)
    t0 = time.perf_counter()
    with connection(db, read_only=True) as con:
        model = load_model(con, resolve_run(con, None))
        t1 = time.perf_counter()
        placements = []
        for number, song in enumerate(songs, start=1):
            values, assumed = song_values(model, song)
            point = model.model_space(values[None, :])[0]
            distances = np.linalg.norm(model.centres - point, axis=1)
            cluster = int(np.argmin(distances))
            params = {"d": float(distances[cluster]), "run_id": model.run_id, "cluster": cluster}
            (share,) = con.execute(TYPICALITY, params).fetchall()[0]
            placements.append(
                {
                    "name": str(song.get("name") or song.get("track_name") or f"song {number}"),
                    "cluster": cluster,
                    "label": model.labels[cluster],
                    "distances": [float(d) for d in distances],
                    "typicality": float(share or 0.0),
                    "assumed": assumed,
                    "neighbours": _neighbours(con, model, values, neighbours),
                }
            )
        t2 = time.perf_counter()
    if out:
        with open(out, "w") as f:
            json.dump(placements, f)
    return {
        "songs": len(songs),
        "neighbours": neighbours,
        "run_id": model.run_id,
        "seconds_model": t1 - t0,
        "seconds_songs": t2 - t1,
        "seconds_per_song": (t2 - t1) / len(songs),
    }


def _neighbours(con, model, values, limit: int) -> list[dict]:
    terms = " + ".join(
        f'pow((CAST(t."{f}" AS DOUBLE) - $mean_{i}) / $scale_{i} - $z_{i}, 2)'
        for i, f in enumerate(model.features)
    )
    scaled = (values - model.mean) / model.scale
    params: dict = {"run_id": model.run_id, "limit": limit}
    for i in range(len(model.features)):
        params |= {f"mean_{i}": model.mean[i], f"scale_{i}": model.scale[i], f"z_{i}": scaled[i]}
    result = con.execute(NEIGHBOURS.format(terms=terms), params)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def compare(per_song_json: str, batch_json: str) -> dict:
    with open(per_song_json) as f:
        expected = json.load(f)
    with open(batch_json) as f:
        batch = json.load(f)
    worst = [0.0]
    problems = _differences(expected, batch[: len(expected)], "", worst)
    return {
        "compared": len(expected),
        "batch_songs": len(batch),
        "equal": not problems,
        "max_relative_difference": worst[0],
        "first_differences": problems[:5],
    }


def _differences(a, b, where: str, worst: list[float]) -> list[str]:
    if isinstance(a, float) and isinstance(b, float):
        if a != b:
            worst[0] = max(worst[0], abs(a - b) / max(abs(a), abs(b)))
        return [] if math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) else [f"{where}: {a} {b}"]
    if type(a) is not type(b):
        return [f"{where}: {a!r} vs {b!r}"]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)} vs {list(b)}"]
        return [p for k in a for p in _differences(a[k], b[k], f"{where}.{k}", worst)]
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items vs {len(b)}"]
        pairs = enumerate(zip(a, b, strict=True))
        return [p for i, (x, y) in pairs for p in _differences(x, y, f"{where}[{i}]", worst)]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def _option(argv: list[str], name: str, default):
    return type(default)(argv[argv.index(name) + 1]) if name in argv else default


def main(argv: list[str]) -> None:
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "songs":
        result = write_songs(
            argv[2], argv[3], _option(argv, "--count", 10_000), _option(argv, "--seed", 0)
        )
    elif mode == "time":
        out = _option(argv, "--out", "") or None
        count, neighbours = _option(argv, "--songs", 300), _option(argv, "--neighbours", 10)
        result = time_per_song(argv[2], argv[3], count, neighbours, out)
    elif mode == "compare":
        result = compare(argv[2], argv[3])
    else:
        raise SystemExit(__doc__)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
