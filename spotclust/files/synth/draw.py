"""One chunk of synthetic rows: the genres in equal shares and in file order, features and names
drawn genre by genre, then, at the real data's rates, the quirks the cleaning views exist for:

* multi-genre tracks (21% of the real rows repeat a track listed under another genre): a row
  copies a track, features and names, from another genre of the same chunk, chosen by how
  often the two genres share tracks in the real data; popularity differs in a few copies;
* exact duplicate rows (0.4%), ``tempo = 0`` with ``time_signature = 0`` (0.14%), the
  ``time_signature`` 0 and 1 values the genres really have, and rare rows with empty text fields.

Each chunk has its own random stream (seed, chunk number), so ``CHUNK_ROWS`` is part of the
output's definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spotclust.files.ingest import COLUMN_TYPES
from spotclust.files.synth.features import draw_genre, finish_features
from spotclust.files.synth.fit import FEATURES, GenreModel
from spotclust.files.synth.names import draw_names, track_ids

CHUNK_ROWS = 1 << 20  # rows generated and written at a time (part of the output's definition)

# Rates of the data's quirks, measured on the shipped dataset (114,000 rows).
DUPLICATE_RATE = 444 / 114_000  # rows identical to an earlier row in every column
ZERO_TEMPO_RATE = 157 / 114_000  # tempo = 0 (and time_signature = 0): silent tracks
MISSING_RATE = 1e-5  # a row without artists, album and track name (1 in the real data)
POPULARITY_CHANGE_RATE = 0.03  # repeat listings whose popularity differs from the first
COLISTING_SMOOTHING = 0.05  # pseudo-count: any genre of the chunk can share a track

COPIED_COLUMNS = tuple(c for c in COLUMN_TYPES if c != "track_genre")  # a copy keeps its genre
NAME_COLUMNS = ("artists", "album_name", "track_name")
_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
}

Columns = dict[str, np.ndarray | pa.Array]


@dataclass(frozen=True)
class ChunkLayout:
    """Which genre each row of a chunk has, and where each genre's rows lie in the chunk."""

    index: np.ndarray  # (m,) the rows' numbers in the file
    genre: np.ndarray  # (m,) each row's genre number
    present: np.ndarray  # the genres with rows in the chunk, ascending
    seg_start: np.ndarray  # per present genre: its first row within the chunk
    seg_stop: np.ndarray  # per present genre: one past its last row within the chunk

    @property
    def size(self) -> int:
        return len(self.index)


def draw_chunk(model: GenreModel, rows: int, seed: int, start: int, stop: int) -> pa.Table:
    """Rows start..stop-1 of the file, as an Arrow table with the output's columns."""
    # Each step below draws from rng in turn: reordering them changes the output.
    rng = np.random.default_rng([seed, start // CHUNK_ROWS])
    n_genres = len(model.genres)
    layout = _layout(n_genres, rows, start, stop)
    columns: Columns = _features(model, layout, rng)
    columns["track_id"] = track_ids(seed, layout.index)
    columns.update(draw_names(rng, layout.genre, layout.index, max(1, rows // n_genres)))
    copies = _copy_multi_genre_tracks(model, layout, columns, rng)
    _duplicate_rows(layout, columns, copies, rng)
    _silence_tracks(columns, layout.size, rng)
    _blank_names(columns, layout.size, rng)
    return _arrow_table(model, layout, columns)


def _layout(n_genres: int, rows: int, start: int, stop: int) -> ChunkLayout:
    """Genre g has rows ceil(g * rows / G) onwards of the file: equal shares, in genre order."""
    index = np.arange(start, stop, dtype=np.int64)
    genre = (index * n_genres // rows).astype(np.int32)
    present = np.unique(genre)
    first_row = (present.astype(np.int64) * rows + n_genres - 1) // n_genres
    seg_start = np.maximum(first_row, start) - start
    seg_stop = np.r_[seg_start[1:], stop - start]
    return ChunkLayout(index, genre, present, seg_start, seg_stop)


def _features(model: GenreModel, layout: ChunkLayout, rng: np.random.Generator) -> Columns:
    """The 15 feature columns, drawn genre by genre, rounded and typed."""
    x = np.empty((layout.size, len(FEATURES)))
    for g, a, b in zip(layout.present, layout.seg_start, layout.seg_stop, strict=True):
        x[a:b] = draw_genre(model, int(g), int(b - a), rng)
    return finish_features(x)


def _copy_multi_genre_tracks(
    model: GenreModel, layout: ChunkLayout, columns: Columns, rng: np.random.Generator
) -> np.ndarray:
    """Turn some rows into other listings of another genre's track; return which rows are.

    A row copies a first listing (not itself a copy) of a genre that shares tracks with its
    own, chosen by the real co-listing counts; a few copies get another popularity."""
    repeat = rng.random(layout.size) < model.repeat_rate[layout.genre]
    source = _colisted_sources(model, layout, repeat, rng)
    targets = _one_copy_per_genre(layout, np.flatnonzero(repeat & (source >= 0)), source)
    _copy_rows(columns, targets, source[targets], COPIED_COLUMNS)
    changed = targets[rng.random(len(targets)) < POPULARITY_CHANGE_RATE]
    popularity = columns["popularity"]
    popularity[changed] = np.clip(popularity[changed] + rng.integers(-10, 11, len(changed)), 0, 100)
    copies = np.zeros(layout.size, dtype=bool)
    copies[targets] = True
    return copies


def _colisted_sources(
    model: GenreModel, layout: ChunkLayout, repeat: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """For each repeating row, the row of another genre it copies (-1: none, or not repeating)."""
    firsts = np.flatnonzero(~repeat)  # candidate sources, sorted
    first_lo = np.searchsorted(firsts, layout.seg_start)  # each segment's candidates in `firsts`
    first_hi = np.searchsorted(firsts, layout.seg_stop)
    source = np.full(layout.size, -1, dtype=np.int64)
    u = rng.random(layout.size)
    present = layout.present
    for i, g in enumerate(present):
        segment = slice(layout.seg_start[i], layout.seg_stop[i])
        targets = layout.seg_start[i] + np.flatnonzero(repeat[segment])
        weights = (model.colisting[g, present] + COLISTING_SMOOTHING) * (first_hi > first_lo)
        weights[i] = 0.0
        if len(targets) == 0 or weights.sum() == 0:
            continue
        cdf = np.cumsum(weights) / weights.sum()
        picked = np.minimum(np.searchsorted(cdf, u[targets], side="right"), len(present) - 1)
        source[targets] = firsts[_uniform_between(first_lo[picked], first_hi[picked], rng)]
    return source


def _one_copy_per_genre(layout: ChunkLayout, targets: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The targets left, ascending, when each genre keeps one copy of a track: two copies in
    one genre would be identical rows."""
    track_in_genre = layout.genre[targets].astype(np.int64) * layout.size + source[targets]
    _, first = np.unique(track_in_genre, return_index=True)
    return np.sort(targets[first])


def _duplicate_rows(
    layout: ChunkLayout, columns: Columns, copies: np.ndarray, rng: np.random.Generator
) -> None:
    """Exact duplicates of a row of the same genre (the whole row, genre included)."""
    duplicate = (rng.random(layout.size) < DUPLICATE_RATE) & ~copies
    if not duplicate.any():
        return
    targets = np.flatnonzero(duplicate)
    segment = np.searchsorted(layout.seg_start, targets, side="right") - 1
    sources = _uniform_between(layout.seg_start[segment], layout.seg_stop[segment], rng)
    keep = ~duplicate[sources]  # a source overwritten itself would not equal its copy
    _copy_rows(columns, targets[keep], sources[keep], COPIED_COLUMNS)


def _silence_tracks(columns: Columns, m: int, rng: np.random.Generator) -> None:
    """Silent tracks: tempo 0 and time signature 0."""
    silent = rng.random(m) < ZERO_TEMPO_RATE
    columns["tempo"][silent] = 0.0
    columns["time_signature"][silent] = 0


def _blank_names(columns: Columns, m: int, rng: np.random.Generator) -> None:
    """Rows without artists, album and track name."""
    missing = rng.random(m) < MISSING_RATE
    if missing.any():
        mask = pa.array(missing)
        for name in NAME_COLUMNS:
            columns[name] = pc.if_else(mask, pa.scalar(None, pa.string()), columns[name])


def _uniform_between(lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One integer drawn uniformly from each [lo, hi)."""
    return lo + np.floor(rng.random(len(lo)) * (hi - lo)).astype(np.int64)


def _copy_rows(
    columns: Columns, target: np.ndarray, source: np.ndarray, names: Iterable[str]
) -> None:
    """columns[name][target] = columns[name][source] for each name (numpy or Arrow columns)."""
    for name in names:
        col = columns[name]
        if isinstance(col, np.ndarray):
            col[target] = col[source]
        else:
            take = np.arange(len(col))
            take[target] = source
            columns[name] = col.take(pa.array(take))


def _arrow_table(model: GenreModel, layout: ChunkLayout, columns: Columns) -> pa.Table:
    """The output's columns: the unnamed index, then COLUMN_TYPES with their Arrow types."""
    genre_names = pa.array(model.genres, pa.string())
    columns["track_genre"] = genre_names.take(pa.array(layout.genre))
    arrays = {"": pa.array(layout.index)}
    for name, sql_type in COLUMN_TYPES.items():
        col = columns[name]
        if isinstance(col, np.ndarray):
            col = pa.array(col, type=_ARROW_TYPES[sql_type])
        arrays[name] = col
    return pa.table(arrays)
