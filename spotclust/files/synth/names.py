"""The text columns of synthetic rows: track ids, artists, album and track names."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Rates measured on the shipped dataset (114,000 rows).
COLLAB_RATE = 0.26  # artists like "Artist 1;Artist 2"
ALBUM_COMMA_RATE = 0.036  # album names that need quoting in CSV
TRACK_QUOTE_RATE = 0.015  # track names with a double quote

_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)


def track_ids(seed: int, index: np.ndarray) -> pa.Array:
    """22-character base62 ids, distinct for distinct row indexes (for one seed)."""
    with np.errstate(over="ignore"):
        # seed -> a 64-bit offset; offset + index and the mix are both bijections of uint64
        offset = _splitmix64(np.array([seed], dtype=np.uint64))[0]
        first = _splitmix64(offset + index.astype(np.uint64))  # 62**11 > 2**64: 11 digits
        second = _splitmix64(first ^ np.uint64(0x5851F42D4C957F2D))
    chars = np.concatenate([_base62(first, 11), _base62(second, 11)], axis=1)
    return pa.array(np.ascontiguousarray(chars).view("S22").ravel()).cast(pa.string())


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A bijection of uint64 (SplitMix64's finaliser): distinct inputs, distinct outputs."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _base62(x: np.ndarray, digits: int) -> np.ndarray:
    out = np.empty((len(x), digits), np.uint8)
    x = x.copy()
    for d in range(digits - 1, -1, -1):
        out[:, d] = _BASE62[(x % np.uint64(62)).astype(np.intp)]
        x //= np.uint64(62)
    return out


def draw_names(
    rng: np.random.Generator, genre: np.ndarray, index: np.ndarray, per_genre: int
) -> dict[str, pa.Array]:
    """Artists, albums and track names: 'Artist 12', 'Artist 12;Artist 40', 'Album 37', ..."""
    m = len(index)
    pool = max(1, per_genre // 4)  # about four listings per artist, as in the real data

    def artist_in_pool() -> np.ndarray:  # skewed to the pool's first: a few prolific artists
        return np.floor(pool * rng.random(m) ** 2).astype(np.int64)

    first = genre.astype(np.int64) * pool + artist_in_pool()
    second = genre.astype(np.int64) * pool + artist_in_pool()
    collab = rng.random(m) < COLLAB_RATE
    album = first * 3 + rng.integers(0, 3, m)
    album_comma = rng.random(m) < ALBUM_COMMA_RATE
    track_quote = rng.random(m) < TRACK_QUOTE_RATE

    artists = _numbered("Artist ", first)
    artists = pc.if_else(
        pa.array(collab),
        pc.binary_join_element_wise(artists, _numbered("Artist ", second), ";"),
        artists,
    )
    albums = _numbered("Album ", album)
    albums = pc.if_else(
        pa.array(album_comma), pc.binary_join_element_wise(albums, "Vol. 2", ", "), albums
    )
    tracks = _numbered("Track ", index)
    tracks = pc.if_else(
        pa.array(track_quote), pc.binary_join_element_wise(tracks, '("Live")', " "), tracks
    )
    return {"artists": artists, "album_name": albums, "track_name": tracks}


def _numbered(prefix: str, numbers: np.ndarray) -> pa.Array:
    """prefix + each number, e.g. 'Album 37'."""
    return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")
