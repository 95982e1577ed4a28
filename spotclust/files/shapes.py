"""Which layout a tracks file has, and which of its columns becomes each canonical column.

Every known layout is a staging model in sql/shapes/<shape>.sql: a header naming the
columns that identify it (`-- detect:`), and a SELECT that only renames the file's columns
to the canonical ones. Names are matched with case, spaces and punctuation ignored
("Artist Name(s)" = artistnames). The conversion of each canonical column is the same for
every shape (sql/conversions.sql), so a value is read the same way whatever file it is in.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from spotclust.errors import InputFileError
from spotclust.warehouse.sql_files import sql_root

# Canonical column -> (its conversion macro in sql/conversions.sql, what it accepts).
CONVERSIONS: dict[str, tuple[str, str]] = {
    "track_id": ("as_track_id", "a Spotify ID, spotify:track:ID or a track link"),
    "artists": ("as_artists", "text, or a list such as ['A', 'B']"),
    "album_name": ("as_text", "text"),
    "track_name": ("as_text", "text"),
    "track_genre": ("as_text", "text"),
    "genre_list": ("as_genres", "a comma-separated list of genres"),
    "popularity": ("as_integer", "a whole number 0..100"),
    "duration_ms": ("as_integer", "a whole number of milliseconds"),
    "explicit": ("as_boolean", "true/false, True/False or 1/0"),
    "key": ("as_key", "0..11, or a pitch letter such as C, C# or Db"),
    "mode": ("as_mode", "1/0 or Major/Minor"),
    "time_signature": (
        "as_time_signature",
        "beats per bar (4 or 4.0), a fraction such as 3/4, or a spreadsheet date such as 4-Mar",
    ),
    **{
        feature: ("as_double", "a number")
        for feature in (
            "danceability", "energy", "loudness", "speechiness", "acousticness",
            "instrumentalness", "liveness", "valence", "tempo",
        )
    },
}  # fmt: skip
# Features measured on 0..1; some files publish them on 0..100.
UNIT_FEATURES = (
    "danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness",
    "valence",
)  # fmt: skip
DEFAULT_FEATURES = (
    "popularity", "explicit", "danceability", "energy", "key", "mode", "speechiness",
    "acousticness", "instrumentalness", "liveness", "tempo", "time_signature",
)  # fmt: skip
MIN_FEATURES = 2  # of the default features: fewer is not worth clustering
_RENAME = re.compile(r"^\s*(\w+)\s+AS\s+(\w+),?\s*$", re.IGNORECASE)
_INDEX_COLUMN = re.compile(r"^(column0+|unnamed0?|index|)$")


def squash(name: str) -> str:
    """A header as it is matched: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    detect: tuple[str, ...]  # squashed names that must all be in the header
    renames: tuple[tuple[str, str], ...]  # (squashed file column, canonical column)


@dataclass
class Mapping:
    """How one file's columns become the canonical ones."""

    shape: str
    columns: dict[str, str]  # canonical column -> the file's header
    ignored: list[str] = field(default_factory=list)  # the file's other columns
    index_column: str | None = None  # an unnamed leading index column, not data


def _parse(name: str, text: str) -> Shape:
    lines = text.splitlines()
    header = [line for line in lines if line.startswith("--")]
    detect = next(line for line in header if line.startswith("-- detect:"))
    renames = []
    for line in lines:
        if found := _RENAME.match(line):
            source, canonical = found.group(1).lower(), found.group(2).lower()
            if canonical not in CONVERSIONS:
                raise ValueError(f"sql/shapes/{name}.sql: {canonical} is not a canonical column")
            renames.append((source, canonical))
    return Shape(
        name=name,
        description=header[0].split(":", 1)[1].strip(),
        detect=tuple(squash(c) for c in detect.split(":", 1)[1].split(",") if c.strip()),
        renames=tuple(renames),
    )


@cache
def shapes() -> dict[str, Shape]:
    """Every known shape, by name (generic last: it detects nothing)."""
    folder = sql_root() / "shapes"
    found = {
        f.name.removesuffix(".sql"): _parse(f.name.removesuffix(".sql"), f.read_text())
        for f in sorted(folder.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".sql")
    }
    return dict(sorted(found.items(), key=lambda item: not item[1].detect))


def detect_shape(keys: set[str]) -> Shape:
    """The shape whose identifying columns are all present, the most specific first."""
    matching = [s for s in shapes().values() if s.detect and set(s.detect) <= keys]
    return max(matching, key=lambda s: len(s.detect)) if matching else shapes()["generic"]


def choose_mapping(
    where: str,
    headers: list[str],
    overrides: dict[str, str] | None = None,
    label_column: str | None = None,
    need_name: bool = True,
) -> Mapping:
    """The mapping of a file with these headers; overrides (canonical -> header) win.
    need_name=False: songs to place need features only."""
    index = headers[0] if headers and _INDEX_COLUMN.fullmatch(squash(headers[0])) else None
    by_key: dict[str, str] = {}
    for header in headers:
        if header == index:
            continue
        if (key := squash(header)) in by_key:
            raise InputFileError(
                f"{where}: columns {by_key[key]!r} and {header!r} have the same name once case, "
                "spaces and punctuation are ignored: rename one"
            )
        by_key[key] = header
    shape = detect_shape(set(by_key))
    columns: dict[str, str] = {}
    for source, canonical in shape.renames:
        if source in by_key and canonical not in columns:
            columns[canonical] = by_key[source]
    chosen = _overrides(where, by_key, overrides, label_column)
    for canonical, header in chosen.items():
        # a column named by the user feeds that canonical column only
        for other in [c for c, h in columns.items() if h == header and c not in chosen]:
            del columns[other]
        columns[canonical] = header
    if label_column:
        columns.pop("genre_list", None)  # the chosen label replaces a listed genre
    used = set(columns.values())
    ignored = [h for h in by_key.values() if h not in used]
    mapping = Mapping(shape.name, columns, ignored, index)
    _check_enough(where, mapping, need_name)
    return mapping


def _overrides(where, by_key, overrides, label_column) -> dict[str, str]:
    """--map canonical=Header (and --label-column Header), checked against the file."""
    wanted = dict(overrides or {})
    if label_column:
        wanted["track_genre"] = label_column
    out = {}
    for canonical, header in wanted.items():
        if canonical not in CONVERSIONS:
            raise InputFileError(
                f"--map {canonical}=...: {canonical} is not a column spotclust reads; "
                f"use one of {', '.join(CONVERSIONS)}"
            )
        found = by_key.get(squash(header))
        if found is None:
            option = (
                f"--label-column {header}"
                if canonical == "track_genre" and label_column
                else f"--map {canonical}={header}"
            )
            raise InputFileError(
                f"{option}: {where} has no column {header!r} "
                f"(its columns: {', '.join(by_key.values())})"
            )
        out[canonical] = found
    return out


def _check_enough(where: str, mapping: Mapping, need_name: bool) -> None:
    """A track name, and enough audio features to cluster on (or, for songs, any)."""
    missing = []
    if need_name and "track_name" not in mapping.columns:
        missing.append("track_name")
    features = [f for f in DEFAULT_FEATURES if f in mapping.columns]
    if len(features) < (MIN_FEATURES if need_name else 1):
        missing.append(f"audio features (at least {MIN_FEATURES} of {', '.join(DEFAULT_FEATURES)})")
    if missing:
        raise InputFileError(
            f"{where}: no column for {' or '.join(missing)} (read as shape {mapping.shape}; "
            "expected columns such as track_id, track_name, artists, danceability, energy): "
            "name them with --map CANONICAL=COLUMN, e.g. --map track_name='Song Title'"
        )


def read_column_map(pairs, mapping_file=None) -> dict[str, str]:
    """--map CANONICAL=COLUMN pairs over those of a TOML or JSON file (--map wins)."""
    found: dict[str, str] = {}
    if mapping_file is not None:
        found.update(_mapping_file(Path(mapping_file)))
    for pair in pairs:
        canonical, sep, column = pair.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise InputFileError(f"--map {pair}: write CANONICAL=COLUMN, e.g. --map artists=Artist")
        found[canonical.strip()] = column.strip()
    return found


def _mapping_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read the mapping file {path}: {exc}") from exc
    try:
        found = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise InputFileError(f"{path} is not valid {kind}: {exc}") from exc
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise InputFileError(
            f'{path}: expected CANONICAL = "COLUMN" pairs, e.g. artists = "Artist"'
        )
    return found
