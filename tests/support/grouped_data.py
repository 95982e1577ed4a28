"""Synthetic tracks in well-separated groups (clustering must find them again), and the CSV
writer of any synthetic tracks."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from spotclust.files.ingest import COLUMN_TYPES

# Three kinds of track that differ in many features at once, so they stay apart after
# scaling and a 2-D PCA: (genre, danceability, energy, acousticness, instrumentalness, tempo)
GROUPS = [
    ("metal", 0.35, 0.95, 0.02, 0.10, 160.0),
    ("sleep", 0.15, 0.05, 0.95, 0.90, 70.0),
    ("dance", 0.85, 0.75, 0.10, 0.02, 124.0),
]


def write_grouped_csv(path: Path, per_group: int = 120, seed: int = 0) -> None:
    """Tracks in well-separated groups; every 10th track of 'dance' is also listed as 'disco'."""
    rng = np.random.default_rng(seed)

    def unit(value: float) -> float:  # a 0..1 feature with a little noise
        return float(np.clip(value + rng.normal(0, 0.02), 0, 1))

    rows = []
    for g, (genre, dance, energy, acoustic, instrumental, tempo) in enumerate(GROUPS):
        for i in range(per_group):
            track = {
                "track_id": f"{genre}{i:04d}",
                "artists": f"Artist {g}-{i % 7}",
                "album_name": f"Album {g}",
                "track_name": f"Song {i}",
                # features that would be noise elsewhere follow the group too, so that every
                # standardised feature separates the groups
                "popularity": 20 + 30 * g + int(rng.integers(0, 3)),
                "duration_ms": int(rng.integers(150_000, 250_000)),
                # every default feature varies (a constant one would leave the feature set)
                "explicit": "True" if genre == "metal" else "False",
                "danceability": unit(dance),
                "energy": unit(energy),
                "key": 4 * g,
                "loudness": -8 + rng.normal(0, 1),
                "mode": g % 2,
                "speechiness": 0.05 + abs(rng.normal(0, 0.01)),
                "acousticness": unit(acoustic),
                "instrumentalness": unit(instrumental),
                "liveness": 0.1 + abs(rng.normal(0, 0.02)),
                "valence": 0.5 + rng.normal(0, 0.05),
                "tempo": tempo + rng.normal(0, 3),
                "time_signature": 3 if genre == "sleep" else 4,
                "track_genre": genre,
            }
            rows.append(track)
            if genre == "dance" and i % 10 == 0:
                rows.append({**track, "track_genre": "disco"})
    write_tracks_csv(path, rows)


def write_tracks_csv(path: Path, tracks: Iterable[dict]) -> Path:
    """Tracks (dicts of every Spotify column) as a CSV shaped like the shipped one: its
    columns in order, after an unnamed index column 0, 1, ..."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["", *COLUMN_TYPES])
        for n, track in enumerate(tracks):
            writer.writerow([n, *(track[c] for c in COLUMN_TYPES)])
    return path
