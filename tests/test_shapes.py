"""Files of other shapes: the five real files in data/foreign/ (as downloaded), a spreadsheet-
mangled copy, the shapes without a sample here (tidytuesday spotify_songs, tracks_features),
any other table with --map / --mapping, and malformed variants that must be refused in one
line with the warehouse left exactly as it was.

Each foreign file is ingested and clustered once per module into a template warehouse; the
commands that read a run (charts, explain, place --file) run once on a copy of it. Tests that
write copy a template.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from support.cli import Run, assert_one_line_error, run_cli, run_cli_ok
from support.processes import run_process
from support.warehouse_state import query, warehouse_state

from spotclust.files.ingest import COLUMN_TYPES

FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"
# fast enough for the 10k- and 20k-row samples, and the same for every file
CLUSTER = (
    "cluster", "--k", "4", "--n-init", "1", "--silhouette-sample", "2000", "--no-charts",
    "--quiet",
)  # fmt: skip
NO_GENRE_CHART = "This data has no genre column"
NO_GENRE_EXPLAIN = "This data has no genre column: genre tables are left out."
UNIT_FEATURES = (
    "danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness",
    "valence",
)  # fmt: skip
PITCHES = {
    "C": 0, "C#": 1, "D": 2, "D#": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "G#": 8, "A": 9,
    "A#": 10, "B": 11,
}  # fmt: skip


@dataclass(frozen=True)
class Foreign:
    """One file of data/foreign/ and what its shape must be read as."""

    file: str
    shape: str
    rows: int  # data rows (SOURCE.md)
    mapping: dict[str, str]  # a few exact entries of ingests.column_mapping
    absent: tuple[str, ...]  # canonical columns the file does not have
    ignored: list[str]  # ingests.ignored_columns, in file order
    has_genre: bool


FILES = {
    "exportify": Foreign(
        file="exportify_playlist.csv",
        shape="exportify",
        rows=117,
        mapping={
            "track_id": "Track URI",
            "artists": "Artist Name(s)",
            "track_name": "Track Name",
            "album_name": "Album Name",
            "duration_ms": "Duration (ms)",
            "genre_list": "Genres",
            "time_signature": "Time Signature",
        },
        absent=(),  # track_genre: the first of the Genres list
        ignored=["Release Date", "Added By", "Added At", "Record Label"],
        has_genre=True,
    ),
    "spotifyfeatures": Foreign(
        file="spotifyfeatures_sample.csv",
        shape="spotifyfeatures",
        rows=1397,
        mapping={
            "track_id": "track_id",
            "artists": "artist_name",
            "track_genre": "genre",
            "key": "key",
            "mode": "mode",
            "time_signature": "time_signature",
        },
        absent=("album_name", "explicit", "genre_list"),
        ignored=[],
        has_genre=True,
    ),
    "tracks_600k": Foreign(
        file="tracks_600k_sample.csv",
        shape="tracks_600k",
        rows=10124,
        mapping={"track_id": "id", "track_name": "name", "artists": "artists"},
        absent=("track_genre", "genre_list", "album_name"),
        ignored=["id_artists", "release_date"],
        has_genre=False,
    ),
    "data_170k": Foreign(
        file="data_170k_family_sample.csv",
        shape="data_170k",
        rows=20311,
        mapping={"track_id": "id", "track_name": "name", "explicit": "explicit"},
        absent=("track_genre", "genre_list", "album_name", "time_signature"),
        ignored=["year", "artists_song"],
        has_genre=False,
    ),
    "genres_v2": Foreign(
        file="genres_v2_sample.csv",
        shape="genres_v2",
        rows=238,
        mapping={"track_id": "id", "track_name": "song_name", "track_genre": "genre"},
        absent=("artists", "album_name", "popularity", "explicit", "genre_list"),
        ignored=["type", "uri", "track_href", "analysis_url", "Unnamed: 0", "title"],
        has_genre=True,
    ),
}


@cache
def file_rows(file: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a foreign file as its text (BOM and CRLF handled by csv)."""
    with (FOREIGN / file).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


def raw_column(db: Path, column: str) -> list:
    """One raw_tracks column in file order."""
    return [v for (v,) in query(db, f'SELECT "{column}" FROM raw_tracks ORDER BY row_number')]


def genres_of(db: Path, track_id: str) -> set[str]:
    rows = query(db, "SELECT genre FROM track_genres WHERE track_id = $id", {"id": track_id})
    return {genre for (genre,) in rows}


def write_rows(path: Path, header, rows, encoding="utf-8", newline="\n") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.writer(f, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# ---------------------------------------------------------------- the five files, once each


@dataclass
class Ingested:
    """A foreign file ingested and clustered (template: never write to it), and the commands
    that read the run, run once on a copy."""

    spec: Foreign
    source: Path
    db: Path  # the template
    ingest: Run
    cluster: Run
    charts_dir: Path
    charts: Run
    explain: Run
    place: Run
    # the tables that charts, explain and place altered (none: they only read)
    changed_by_reading: list[str] = field(default_factory=list)


def _ingested(tmp_path_factory, key: str) -> Ingested:
    spec = FILES[key]
    folder = tmp_path_factory.mktemp(key)
    source = FOREIGN / spec.file
    db = folder / "template.duckdb"
    ingest = run_cli_ok("ingest", source, "--db", db)
    cluster = run_cli_ok(*CLUSTER, "--db", db)
    # the reading commands, on a copy
    copy = folder / "read.duckdb"
    shutil.copyfile(db, copy)
    before = warehouse_state(copy)
    charts_dir = folder / "charts"
    charts = run_cli("charts", "--out", charts_dir, "--db", copy)
    explain = run_cli("explain", "--db", copy)
    # every row of the same file, as ingest read it; json and no neighbours keep it quick
    place = run_cli(
        "place", "--file", source, "--format", "json", "--neighbours", "0", "--db", copy
    )
    after = warehouse_state(copy)
    changed = [t for t in before if before[t] != after.get(t)]
    return Ingested(spec, source, db, ingest, cluster, charts_dir, charts, explain, place, changed)


@pytest.fixture(scope="module")
def exportify(tmp_path_factory) -> Ingested:
    return _ingested(tmp_path_factory, "exportify")


@pytest.fixture(scope="module")
def spotifyfeatures(tmp_path_factory) -> Ingested:
    return _ingested(tmp_path_factory, "spotifyfeatures")


@pytest.fixture(scope="module")
def tracks_600k(tmp_path_factory) -> Ingested:
    return _ingested(tmp_path_factory, "tracks_600k")


@pytest.fixture(scope="module")
def data_170k(tmp_path_factory) -> Ingested:
    return _ingested(tmp_path_factory, "data_170k")


@pytest.fixture(scope="module")
def genres_v2(tmp_path_factory) -> Ingested:
    return _ingested(tmp_path_factory, "genres_v2")


@pytest.fixture(params=list(FILES))
def foreign(request) -> Ingested:
    """Each of the five files, ingested and clustered."""
    return request.getfixturevalue(request.param)


def test_detected_shape_and_recorded_mapping(foreign):
    spec = foreign.spec
    [(shape, mapping, ignored, rows)] = query(
        foreign.db, "SELECT shape, column_mapping, ignored_columns, rows FROM ingests"
    )
    assert shape == spec.shape
    assert rows == spec.rows == len(file_rows(spec.file)[1])
    assert {c: mapping.get(c) for c in spec.mapping} == spec.mapping
    assert not set(spec.absent) & set(mapping)
    assert ignored == spec.ignored
    # every mapped and ignored column is a header of the file, used once
    header = file_rows(spec.file)[0]
    assert sorted([*mapping.values(), *ignored]) == sorted(header)
    assert f"{spec.shape}:" in foreign.ingest.stdout


def test_other_columns_are_kept_as_text_in_extra(foreign):
    header, rows = file_rows(foreign.spec.file)
    extras = raw_column(foreign.db, "extra")
    if not foreign.spec.ignored:
        assert set(extras) == {None}
        return
    for extra, row in zip(extras[:20], rows[:20], strict=True):
        assert list(extra) == foreign.spec.ignored
        assert extra == {c: (row[c] if row[c] != "" else None) for c in foreign.spec.ignored}


def test_absent_columns_are_null_and_not_features(foreign):
    for column in foreign.spec.absent:
        assert query(foreign.db, f'SELECT count("{column}") FROM raw_tracks') == [(0,)], column
    [(features,)] = query(foreign.db, "SELECT features FROM runs")
    available = dict(query(foreign.db, "SELECT feature, available FROM feature_candidates"))
    for column in foreign.spec.absent:
        if column in available:
            assert available[column] is False, column
            assert column not in features, column


def test_missing_values_count_only_the_files_columns(foreign):
    """A row is set aside for an empty field of a column the file has (mapped), never for a
    column it lacks, nor for a playlist track without genres: the count follows the file's
    text exactly."""
    _, rows = file_rows(foreign.spec.file)
    [(mapping,)] = query(foreign.db, "SELECT column_mapping FROM ingests")
    checked = [h for c, h in mapping.items() if c != "genre_list"]
    blank = sum(any(not row[h].strip() for h in checked) for row in rows)
    assert query(
        foreign.db,
        "SELECT rows_in, rows_removed FROM cleaning_report WHERE name = 'missing values'",
    ) == [(foreign.spec.rows, blank)]


def test_reading_commands_succeed_and_change_nothing(foreign):
    for run in (foreign.cluster, foreign.charts, foreign.explain, foreign.place):
        assert run.traceback is None, run.traceback
        assert run.exit_code == 0, run.output
    assert (foreign.charts_dir / "index.html").is_file()
    assert (foreign.charts_dir / "top_genres.html").is_file()
    placed = json.loads(foreign.place.stdout)
    assert len(placed) == foreign.spec.rows
    assert {song["cluster"] for song in placed} <= {0, 1, 2, 3}
    assert foreign.changed_by_reading == []


def test_genre_outputs_follow_the_genre_column(foreign):
    db = foreign.db
    [scores] = query(
        db,
        "SELECT adjusted_rand, normalized_mutual_info, homogeneity, completeness, purity FROM runs",
    )
    [(breakdown,)] = query(db, "SELECT count(*) FROM genre_breakdown")
    top_genres = (foreign.charts_dir / "top_genres.html").read_text(encoding="utf-8")
    heatmap = (foreign.charts_dir / "genre_heatmap.html").read_text(encoding="utf-8")
    if foreign.spec.has_genre:
        assert None not in scores
        assert breakdown > 0
        assert NO_GENRE_CHART not in top_genres
        assert NO_GENRE_EXPLAIN not in foreign.explain.stdout
        assert "adjusted Rand vs genre" in foreign.cluster.stdout
    else:
        assert scores == (None,) * 5
        assert breakdown == 0
        assert query(db, "SELECT count(*) FROM track_genres") == [(0,)]
        assert NO_GENRE_CHART in top_genres
        assert NO_GENRE_CHART in heatmap
        assert NO_GENRE_EXPLAIN in foreign.explain.stdout.splitlines()
        assert "no genres to compare with" in foreign.cluster.stdout
        assert "No genre column" in foreign.ingest.stdout


# ------------------------------------------------------------ each file's values, from its text


def test_spotifyfeatures_keys_modes_and_time_signatures(spotifyfeatures):
    db = spotifyfeatures.db
    _, rows = file_rows(spotifyfeatures.spec.file)
    first = rows[0]
    assert (first["track_id"], first["key"], first["mode"], first["time_signature"]) == (
        "0BRjO6ga9RKCKjfDqeFgWV", "C#", "Major", "4/4",
    )  # fmt: skip
    assert query(
        db,
        'SELECT track_id, artists, track_genre, "key", "mode", time_signature FROM raw_tracks '
        "WHERE row_number = 1",
    ) == [("0BRjO6ga9RKCKjfDqeFgWV", "Henri Salvador", "Movie", 1, 1, 4)]
    # the whole columns, against the file's text
    assert raw_column(db, "key") == [PITCHES[r["key"]] for r in rows]
    assert raw_column(db, "mode") == [{"Major": 1, "Minor": 0}[r["mode"]] for r in rows]
    assert raw_column(db, "time_signature") == [int(r["time_signature"][0]) for r in rows]
    assert raw_column(db, "track_genre") == [r["genre"] for r in rows]
    assert raw_column(db, "artists") == [r["artist_name"] for r in rows]
    assert raw_column(db, "danceability") == [float(r["danceability"]) for r in rows]


def test_tracks_600k_list_text_artists(tracks_600k):
    db = tracks_600k.db
    _, rows = file_rows(tracks_600k.spec.file)
    assert rows[0]["artists"] == "['Uli']"
    assert query(db, "SELECT artists FROM raw_tracks WHERE row_number = 1") == [("Uli",)]
    two = next(i for i, r in enumerate(rows) if len(ast.literal_eval(r["artists"])) == 2)
    a, b = ast.literal_eval(rows[two]["artists"])
    assert query(db, f"SELECT artists FROM raw_tracks WHERE row_number = {two + 1}") == [
        (f"{a};{b}",)
    ]
    # every row, against Python's own reading of the list text
    expected = [
        ";".join(n.strip() for n in ast.literal_eval(r["artists"]) if n.strip()) or None
        for r in rows
    ]
    assert raw_column(db, "artists") == expected
    assert raw_column(db, "explicit") == [r["explicit"] == "1" for r in rows]
    assert raw_column(db, "track_id") == [r["id"] for r in rows]


def test_exportify_uris_booleans_and_genre_lists(exportify):
    db = exportify.db
    _, rows = file_rows(exportify.spec.file)
    assert rows[0]["Track URI"] == "spotify:track:2y7fdOLYBFFbuuMs96KndV"
    assert rows[0]["Explicit"] == "false"
    assert query(db, "SELECT track_id, explicit FROM raw_tracks WHERE row_number = 1") == [
        ("2y7fdOLYBFFbuuMs96KndV", False)
    ]
    assert raw_column(db, "track_id") == [r["Track URI"].split(":")[2] for r in rows]
    assert raw_column(db, "explicit") == [
        {"false": False, "true": True}[r["Explicit"]] for r in rows
    ]
    assert raw_column(db, "artists") == [r["Artist Name(s)"] or None for r in rows]
    # each Genres list becomes that many track_genres rows; the first is the track's genre
    genres = rows[0]["Genres"].split(",")
    assert len(genres) == 7
    assert genres_of(db, "2y7fdOLYBFFbuuMs96KndV") == set(genres)
    assert "track_genre" not in query(db, "SELECT column_mapping FROM ingests")[0][0]
    assert raw_column(db, "track_genre") == [r["Genres"].split(",")[0] or None for r in rows]
    clean = {t for (t,) in query(db, "SELECT track_id FROM tracks")}
    expected = {
        (r["Track URI"].split(":")[2], g.strip())
        for r in rows
        for g in r["Genres"].split(",")
        if g.strip() and r["Track URI"].split(":")[2] in clean
    }
    assert set(query(db, "SELECT track_id, genre FROM track_genres")) == expected


def test_genres_v2_genre_column(genres_v2):
    _, rows = file_rows(genres_v2.spec.file)
    assert raw_column(genres_v2.db, "track_genre") == [r["genre"] for r in rows]
    assert raw_column(genres_v2.db, "track_name") == [r["song_name"] or None for r in rows]
    assert {g for (g,) in query(genres_v2.db, "SELECT genre FROM track_genres")} == {"Dark Trap"}


def test_data_170k_has_no_genre_and_no_time_signature(data_170k):
    db = data_170k.db
    _, rows = file_rows(data_170k.spec.file)
    first_two = "SELECT track_name, artists, explicit FROM raw_tracks WHERE row_number <= 2"
    assert query(db, f"{first_two} ORDER BY row_number") == [
        ("Yellow", "Coldplay", False),
        ("Ms. Jackson", "OutKast", True),
    ]
    assert raw_column(db, "explicit") == [r["explicit"] == "1" for r in rows]
    assert query(db, "SELECT count(*) FROM track_genres") == [(0,)]
    [not_in_file] = [
        line for line in data_170k.ingest.stdout.splitlines() if line.startswith("Not in this file")
    ]
    assert "time_signature" in not_in_file


# --------------------------------------------------------------- the spreadsheet-mangled copy


def test_spreadsheet_mangled_spotifyfeatures_reads_like_the_clean_copy(tmp_path, spotifyfeatures):
    header, rows = file_rows(spotifyfeatures.spec.file)
    dates = {"4/4": "4-Apr", "3/4": "4-Mar", "5/4": "4-May", "1/4": "4-Jan"}
    assert {r["time_signature"] for r in rows} == set(dates)
    mangled = write_rows(
        tmp_path / "SpotifyFeatures.csv",
        header,
        [[dates[r[c]] if c == "time_signature" else r[c] for c in header] for r in rows],
        encoding="utf-8-sig",
        newline="\r\n",
    )
    text = mangled.read_bytes()
    assert text.startswith(b"\xef\xbb\xbfgenre,") and b",4-Mar," in text
    assert text.count(b"\r\n") == len(rows) + 1
    db = tmp_path / "w.duckdb"
    run = run_process(["ingest", mangled, "--db", db], cwd=tmp_path)  # a real process
    assert run.exit_code == 0, run.output
    assert query(db, "SELECT shape FROM ingests") == [("spotifyfeatures",)]
    assert raw_column(db, "time_signature") == raw_column(spotifyfeatures.db, "time_signature")
    same = "SELECT * EXCLUDE (ingest_id) FROM raw_tracks ORDER BY row_number"
    assert query(db, same) == query(spotifyfeatures.db, same)


# -------------------------------------------------------------- shapes without a sample here

PLAYLIST_GENRE = {  # the tidytuesday file's coarse playlist_genre of each fine genre
    "techno": "edm", "metal": "rock", "jazz": "r&b", "k-pop": "pop", "blues": "r&b",
    "acoustic": "pop",
}  # fmt: skip
SPOTIFY_SONGS = [
    "track_id", "track_name", "track_artist", "track_popularity", "track_album_id",
    "track_album_name", "track_album_release_date", "playlist_name", "playlist_id",
    "playlist_genre", "playlist_subgenre", "danceability", "energy", "key", "loudness", "mode",
    "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
    "duration_ms",
]  # fmt: skip
TRACKS_FEATURES = [
    "id", "name", "album", "album_id", "artists", "artist_ids", "track_number", "disc_number",
    "explicit", "danceability", "energy", "key", "loudness", "mode", "speechiness",
    "acousticness", "instrumentalness", "liveness", "valence", "tempo", "duration_ms",
    "time_signature", "year", "release_date",
]  # fmt: skip
SHIPPED = list(COLUMN_TYPES)  # the shipped dataset's 20 columns, in file order
AUDIO = [
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "duration_ms",
]  # fmt: skip


@pytest.fixture(scope="module")
def shipped_rows(real_rows) -> list[dict[str, str]]:
    """conftest's 60 real rows of the shipped dataset (6 genres x 10), as dicts of text."""
    return [dict(zip(SHIPPED, r, strict=True)) for r in real_rows]


@pytest.fixture
def spotify_songs_csv(tmp_path, shipped_rows) -> Path:
    rows = []
    for i, r in enumerate(shipped_rows):
        rows.append({
            "track_id": r["track_id"],
            "track_name": r["track_name"],
            "track_artist": r["artists"],
            "track_popularity": r["popularity"],
            "track_album_id": f"album{i:04d}",
            "track_album_name": r["album_name"],
            "track_album_release_date": f"2019-0{1 + i % 9}-1{i % 10}",
            "playlist_name": f"{r['track_genre']} hits",
            "playlist_id": f"playlist{i % 6}",
            "playlist_genre": PLAYLIST_GENRE[r["track_genre"]],
            "playlist_subgenre": r["track_genre"],
            **{c: r[c] for c in AUDIO},
        })  # fmt: skip
    return write_rows(
        tmp_path / "spotify_songs.csv", SPOTIFY_SONGS, [[r[c] for c in SPOTIFY_SONGS] for r in rows]
    )


def test_tidytuesday_spotify_songs(tmp_path, spotify_songs_csv, shipped_rows):
    db = tmp_path / "w.duckdb"
    run = run_cli_ok("ingest", spotify_songs_csv, "--db", db)
    assert "spotify_songs:" in run.stdout
    [(shape, mapping, ignored)] = query(
        db, "SELECT shape, column_mapping, ignored_columns FROM ingests"
    )
    assert shape == "spotify_songs"
    assert mapping["artists"] == "track_artist"
    assert mapping["popularity"] == "track_popularity"
    assert mapping["album_name"] == "track_album_name"
    assert mapping["track_genre"] == "playlist_genre"
    assert "explicit" not in mapping and "time_signature" not in mapping
    assert ignored == [
        "track_album_id", "track_album_release_date", "playlist_name", "playlist_id",
        "playlist_subgenre",
    ]  # fmt: skip
    assert raw_column(db, "artists") == [r["artists"] for r in shipped_rows]
    assert raw_column(db, "popularity") == [int(r["popularity"]) for r in shipped_rows]
    assert raw_column(db, "track_genre") == [PLAYLIST_GENRE[r["track_genre"]] for r in shipped_rows]
    assert {g for (g,) in query(db, "SELECT DISTINCT genre FROM track_genres")} == set(
        PLAYLIST_GENRE.values()
    )


def test_tidytuesday_label_column_chooses_the_subgenre(tmp_path, spotify_songs_csv, shipped_rows):
    db = tmp_path / "w.duckdb"
    run_cli_ok("ingest", spotify_songs_csv, "--label-column", "playlist_subgenre", "--db", db)
    [(shape, mapping, ignored)] = query(
        db, "SELECT shape, column_mapping, ignored_columns FROM ingests"
    )
    assert shape == "spotify_songs"
    assert mapping["track_genre"] == "playlist_subgenre"
    assert "playlist_genre" in ignored and "playlist_subgenre" not in ignored
    assert raw_column(db, "track_genre") == [r["track_genre"] for r in shipped_rows]
    assert set(query(db, "SELECT track_id, genre FROM track_genres")) == {
        (r["track_id"], r["track_genre"]) for r in shipped_rows
    }
    # a run compares its clusters with the subgenres
    run_cli_ok(*CLUSTER, "--db", db)
    assert query(db, "SELECT adjusted_rand IS NOT NULL FROM runs") == [(True,)]


def test_constant_feature_leaves_the_default_set(tmp_path, spotify_songs_csv):
    """A feature the same in every track is not available, and a run does not use it."""
    with spotify_songs_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    mode = rows[0].index("mode")
    for row in rows[1:]:
        row[mode] = "1"
    constant = write_rows(tmp_path / "constant_mode.csv", rows[0], rows[1:])
    db = tmp_path / "w.duckdb"
    run_cli_ok("ingest", constant, "--db", db)
    available = dict(query(db, "SELECT feature, available FROM feature_candidates"))
    assert available["mode"] is False
    assert available["key"] is True
    # absent from the file: explicit and time_signature
    assert available["explicit"] is False and available["time_signature"] is False
    run_cli_ok(*CLUSTER, "--db", db)
    [(features,)] = query(db, "SELECT features FROM runs")
    assert "mode" not in features and "explicit" not in features
    assert "key" in features and "danceability" in features


def test_same_file_with_another_label_column_is_other_data(tmp_path, spotify_songs_csv):
    db = tmp_path / "w.duckdb"
    run_cli_ok("ingest", spotify_songs_csv, "--db", db)
    run_cli_ok(*CLUSTER, "--db", db)
    run_cli_ok("ingest", spotify_songs_csv, "--label-column", "playlist_subgenre", "--db", db)
    # run 1's adjusted Rand was against playlist_genre; the warehouse now holds subgenres
    assert_one_line_error(run_cli("explain", "--run", "1", "--db", db), "clustered other data")


EXTRA_ARTIST = "Guns N' Roses"  # added to the first row: its list text mixes quote kinds


@pytest.fixture
def tracks_features_csv(tmp_path, shipped_rows) -> Path:
    rows = []
    for i, r in enumerate(shipped_rows):
        artists = r["artists"].split(";") + ([EXTRA_ARTIST] if i == 0 else [])
        rows.append({
            "id": r["track_id"],
            "name": r["track_name"],
            "album": r["album_name"],
            "album_id": f"album{i:04d}",
            "artists": repr(artists),  # Python's list text: ['A', "B's"]
            "artist_ids": repr([f"artist{i:03d}{j}" for j in range(len(artists))]),
            "track_number": str(1 + i % 12),
            "disc_number": "1",
            "explicit": r["explicit"],  # True/False
            **{c: r[c] for c in AUDIO},
            "time_signature": f"{int(r['time_signature'])}.0",
            "year": "2019",
            "release_date": "2019-05-17",
        })  # fmt: skip
    return write_rows(
        tmp_path / "tracks_features.csv",
        TRACKS_FEATURES,
        [[r[c] for c in TRACKS_FEATURES] for r in rows],
    )


def test_tracks_features(tmp_path, tracks_features_csv, shipped_rows):
    text = tracks_features_csv.read_text(encoding="utf-8")
    assert ",True," in text and ",False," in text and ",4.0," in text
    assert f'"{EXTRA_ARTIST}"]' in text.splitlines()[1].replace('""', '"')  # ['A', "B's"]
    db = tmp_path / "w.duckdb"
    run = run_cli_ok("ingest", tracks_features_csv, "--db", db)
    assert "tracks_features:" in run.stdout
    [(shape, mapping, ignored)] = query(
        db, "SELECT shape, column_mapping, ignored_columns FROM ingests"
    )
    assert shape == "tracks_features"
    assert (mapping["track_id"], mapping["album_name"], mapping["artists"]) == (
        "id", "album", "artists",
    )  # fmt: skip
    assert "track_genre" not in mapping and "popularity" not in mapping
    assert ignored == ["album_id", "artist_ids", "track_number", "disc_number", "year",
                       "release_date"]  # fmt: skip
    artists = [r["artists"] for r in shipped_rows]
    artists[0] += f";{EXTRA_ARTIST}"
    assert raw_column(db, "artists") == artists
    assert raw_column(db, "explicit") == [r["explicit"] == "True" for r in shipped_rows]
    assert raw_column(db, "time_signature") == [int(r["time_signature"]) for r in shipped_rows]
    assert raw_column(db, "album_name") == [r["album_name"] for r in shipped_rows]
    assert query(db, "SELECT count(*) FROM track_genres") == [(0,)]


def test_tracks_features_label_column_names_a_genre(tmp_path, tracks_features_csv):
    """A file with no genre can still name any column as the label."""
    db = tmp_path / "w.duckdb"
    run_cli_ok("ingest", tracks_features_csv, "--label-column", "Year", "--db", db)
    assert query(db, "SELECT column_mapping['track_genre'] FROM ingests") == [("year",)]
    assert query(db, "SELECT DISTINCT genre FROM track_genres") == [("2019",)]


# ------------------------------------------------------------------------ any other table

GENERIC_HEADER = [
    "Song Title", "Artist", "Style", "Dance", "Energy Level", "Tempo (BPM)", "ACOUSTICNESS",
    "Speechi_ness", "Live-ness", "valence", "Key", "MODE", "POPULARITY",
]  # fmt: skip
GENERIC_MAP = {
    "track_name": "Song Title",
    "artists": "Artist",
    "track_genre": "Style",
    "danceability": "Dance",
    "energy": "Energy Level",
    "tempo": "Tempo (BPM)",
}
GENERIC_MATCHED = {  # by name, case, spaces and punctuation ignored
    "acousticness": "ACOUSTICNESS",
    "speechiness": "Speechi_ness",
    "liveness": "Live-ness",
    "valence": "valence",
    "key": "Key",
    "mode": "MODE",
    "popularity": "POPULARITY",
}
GENERIC_SOURCE = {
    "Song Title": "track_name", "Artist": "artists", "Style": "track_genre",
    "Dance": "danceability", "Energy Level": "energy", "Tempo (BPM)": "tempo",
    **{header: canonical for canonical, header in GENERIC_MATCHED.items()},
}  # fmt: skip


@pytest.fixture
def generic_csv(tmp_path, shipped_rows) -> Path:
    """The 60 real rows under other names, no track id; the last row is the first song again
    under another style (same artists and name)."""
    rows = [[r[GENERIC_SOURCE[h]] for h in GENERIC_HEADER] for r in shipped_rows]
    again = list(rows[0])
    again[GENERIC_HEADER.index("Style")] = "my favourites"
    return write_rows(tmp_path / "my_table.csv", GENERIC_HEADER, [*rows, again])


def test_any_table_is_refused_without_a_mapping(tmp_path, generic_csv):
    db = tmp_path / "w.duckdb"
    line = assert_one_line_error(
        run_cli("ingest", generic_csv, "--db", db), "no column for track_name", "--map"
    )
    assert "generic" in line
    assert not db.exists()  # a failed first ingest leaves no warehouse behind


def _check_generic(db: Path, shipped_rows) -> None:
    [(shape, mapping, ignored)] = query(
        db, "SELECT shape, column_mapping, ignored_columns FROM ingests"
    )
    assert shape == "generic"
    assert mapping == {**GENERIC_MAP, **GENERIC_MATCHED}
    assert ignored == []
    n = len(shipped_rows)
    assert raw_column(db, "track_name")[:n] == [r["track_name"] for r in shipped_rows]
    assert raw_column(db, "danceability")[:n] == [float(r["danceability"]) for r in shipped_rows]
    assert raw_column(db, "energy")[:n] == [float(r["energy"]) for r in shipped_rows]
    assert raw_column(db, "tempo")[:n] == [float(r["tempo"]) for r in shipped_rows]
    assert raw_column(db, "speechiness")[:n] == [float(r["speechiness"]) for r in shipped_rows]
    assert raw_column(db, "liveness")[:n] == [float(r["liveness"]) for r in shipped_rows]
    assert raw_column(db, "track_genre")[:n] == [r["track_genre"] for r in shipped_rows]
    # generated ids: one per artists + name, the same for the same song
    ids = raw_column(db, "track_id")
    assert None not in ids
    assert ids[-1] == ids[0]
    assert len(set(ids[:n])) == len({(r["artists"], r["track_name"]) for r in shipped_rows})
    assert genres_of(db, ids[0]) == {shipped_rows[0]["track_genre"], "my favourites"}


def test_any_table_with_map_options(tmp_path, generic_csv, shipped_rows):
    db = tmp_path / "w.duckdb"
    maps = [
        a for canonical, header in GENERIC_MAP.items() for a in ("--map", f"{canonical}={header}")
    ]
    run_cli_ok("ingest", generic_csv, *maps, "--db", db)
    _check_generic(db, shipped_rows)
    # ids are stable: the same file again gives the same ids
    other = tmp_path / "again.duckdb"
    run_cli_ok("ingest", generic_csv, *maps, "--db", other)
    assert raw_column(other, "track_id") == raw_column(db, "track_id")


def test_any_table_with_map_matching_ignores_case_spaces_and_punctuation(
    tmp_path, generic_csv, shipped_rows
):
    db = tmp_path / "w.duckdb"
    loose = {
        "track_name": "song title", "artists": "ARTIST", "track_genre": " style",
        "danceability": "dance", "energy": "energy_level", "tempo": "TEMPO BPM",
    }  # fmt: skip
    maps = [a for canonical, header in loose.items() for a in ("--map", f"{canonical}={header}")]
    run_cli_ok("ingest", generic_csv, *maps, "--db", db)
    _check_generic(db, shipped_rows)  # recorded under the file's own header names


@pytest.mark.parametrize("kind", ["toml", "json"])
def test_any_table_with_a_mapping_file(tmp_path, generic_csv, shipped_rows, kind):
    if kind == "toml":
        text = "".join(f'{canonical} = "{header}"\n' for canonical, header in GENERIC_MAP.items())
    else:
        text = json.dumps(GENERIC_MAP)
    mapping_file = tmp_path / f"map.{kind}"
    mapping_file.write_text(text, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    run_cli_ok("ingest", generic_csv, "--mapping", mapping_file, "--db", db)
    _check_generic(db, shipped_rows)


# ------------------------------------------------------------------------ malformed variants


@pytest.fixture
def holding_db(tmp_path, spotifyfeatures) -> Path:
    """A warehouse that already holds data and a run (the SpotifyFeatures sample's)."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(spotifyfeatures.db, db)
    return db


def assert_refused(run: Run, db: Path, before: dict, *needles: str) -> str:
    line = assert_one_line_error(run, *needles)
    assert warehouse_state(db) == before
    return line


def spotifyfeatures_variant(path: Path, change) -> Path:
    """The SpotifyFeatures sample with change(position, row) applied to each row (dicts)."""
    header, rows = file_rows(FILES["spotifyfeatures"].file)
    rows = [dict(r) for r in rows]
    for i, row in enumerate(rows):
        change(i, row)
    return write_rows(path, header, [[r[c] for c in header] for r in rows])


def test_bad_key_letter_names_row_and_column(tmp_path, holding_db):
    def change(i, row):
        if i == 4:
            row["key"] = "H"

    bad = spotifyfeatures_variant(tmp_path / "bad_key.csv", change)
    before = warehouse_state(holding_db)
    line = assert_refused(
        run_cli("ingest", bad, "--db", holding_db), holding_db, before,
        "row 5", "column key", "'H'", "pitch letter",
    )  # fmt: skip
    assert "bad_key.csv" in line


def test_key_column_in_an_unknown_encoding(tmp_path, holding_db):
    solfege = ["do", "re", "mi", "fa", "sol", "la", "si"]

    def change(i, row):
        row["key"] = solfege[i % 7]

    bad = spotifyfeatures_variant(tmp_path / "solfege.csv", change)
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("ingest", bad, "--db", holding_db), holding_db, before,
        "column key", "no value is", "'do'", "--map key=",
    )  # fmt: skip


def _half_converted(tmp_path) -> Path:
    """danceability on 0..1 in odd rows and on 0..100 in even rows (1-based)."""

    def change(i, row):
        if i % 2:
            row["danceability"] = str(round(float(row["danceability"]) * 100))

    return spotifyfeatures_variant(tmp_path / "half.csv", change)


def test_half_converted_column_is_refused(tmp_path, holding_db):
    bad = _half_converted(tmp_path)
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("ingest", bad, "--db", holding_db), holding_db, before,
        "danceability", "0..100 scale", "row 2",
    )  # fmt: skip


def test_half_converted_message_quotes_the_named_rows_value(tmp_path, holding_db):
    bad = _half_converted(tmp_path)
    _, rows = file_rows(FILES["spotifyfeatures"].file)
    line = assert_one_line_error(run_cli("ingest", bad, "--db", holding_db), "row 2")
    said = re.search(r"row (\d+) holds (\S+)", line)
    assert said, line
    row = int(said.group(1))
    with bad.open(newline="", encoding="utf-8") as f:
        actual = list(csv.DictReader(f))[row - 1]["danceability"]
    assert float(said.group(2)) == float(actual), line


def test_file_fully_on_0_to_100_is_rescaled(tmp_path, spotifyfeatures):
    def change(i, row):
        for feature in UNIT_FEATURES:
            row[feature] = str(round(float(row[feature]) * 100))

    percent = spotifyfeatures_variant(tmp_path / "percent.csv", change)
    db = tmp_path / "w.duckdb"
    shutil.copyfile(spotifyfeatures.db, db)
    run = run_cli_ok("ingest", percent, "--db", db)
    assert f"Rescaled from 0..100 to 0..1: {', '.join(UNIT_FEATURES)}" in run.stdout.splitlines()
    with percent.open(newline="", encoding="utf-8") as f:
        text_rows = list(csv.DictReader(f))
    for feature in UNIT_FEATURES:
        got = raw_column(db, feature)
        assert got == pytest.approx([int(r[feature]) / 100 for r in text_rows]), feature
        # within rounding of the original 0..1 values
        original = raw_column(spotifyfeatures.db, feature)
        assert max(abs(a - b) for a, b in zip(got, original, strict=True)) <= 0.005 + 1e-9
    # the other columns are read as before
    assert raw_column(db, "tempo") == raw_column(spotifyfeatures.db, "tempo")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--map", "artists=Nope"], ["Nope", "has no column"]),
        (["--map", "nonsense=Artist"], ["nonsense", "not a column spotclust reads"]),
        (["--label-column", "Missing"], ["--label-column", "Missing", "has no column"]),
        (["--map", "artists"], ["CANONICAL=COLUMN"]),
    ],
    ids=["map-missing-column", "map-unknown-canonical", "label-column-missing", "map-no-equals"],
)
def test_bad_mapping_options(holding_db, args, needles):
    source = FOREIGN / FILES["exportify"].file
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("ingest", source, *args, "--db", holding_db), holding_db, before, *needles
    )


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        ("map.toml", 'artists = "Artist Name(s)\n', ["map.toml", "not valid TOML"]),
        ("map.json", '{"artists": ', ["map.json", "not valid JSON"]),
        ("map.toml", "artists = 3\n", ["CANONICAL", '"COLUMN"']),
    ],
    ids=["bad-toml", "bad-json", "not-text"],
)
def test_bad_mapping_file(tmp_path, holding_db, name, text, needles):
    mapping_file = tmp_path / name
    mapping_file.write_text(text, encoding="utf-8")
    source = FOREIGN / FILES["exportify"].file
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("ingest", source, "--mapping", mapping_file, "--db", holding_db),
        holding_db, before, *needles,
    )  # fmt: skip


def test_every_row_set_aside_is_no_clean_tracks(tmp_path, holding_db):
    def change(i, row):
        row["tempo"] = "0"

    bad = spotifyfeatures_variant(tmp_path / "silent.csv", change)
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("ingest", bad, "--db", holding_db), holding_db, before,
        "no clean tracks", "all 1397 rows", "tempo <= 0",
    )  # fmt: skip


def test_every_row_missing_a_value_is_no_clean_tracks(tmp_path, holding_db):
    """A column the file has but is empty in every row but one empties the data."""

    def change(i, row):
        if i:
            row["artist_name"] = ""
        else:
            row["tempo"] = "0"

    bad = spotifyfeatures_variant(tmp_path / "no_artists.csv", change)
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("ingest", bad, "--db", holding_db), holding_db, before,
        "no clean tracks", "artist_name empty in 1396 rows",
    )  # fmt: skip


@pytest.fixture
def cut_off(tmp_path) -> tuple[Path, int]:
    """The Exportify export cut off inside the quoted Genres field of its last line."""
    text = (FOREIGN / FILES["exportify"].file).read_bytes()
    cut = text.rindex(b'"bhajan"') + 4
    path = tmp_path / "cut_off.csv"
    path.write_bytes(text[:cut])
    assert path.read_bytes().endswith(b',"bha')
    return path, text[:cut].count(b"\n") + 1  # the last (cut) line's number


def test_file_cut_off_mid_line_names_the_line_on_ingest(cut_off, holding_db):
    path, line = cut_off
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("ingest", path, "--db", holding_db), holding_db, before, "cut_off.csv",
        f"line {line}",
    )  # fmt: skip


def test_file_cut_off_mid_line_names_the_line_on_place(cut_off, holding_db):
    path, line = cut_off
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("place", "--file", path, "--db", holding_db), holding_db, before,
        "cut_off.csv", f"line {line}",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("column", "value", "needles"),
    [
        ("danceability", "30", ["row 2", "column danceability", "0..100 scale"]),
        ("popularity", "150", ["row 2", "column popularity", "outside 0..100"]),
        ("key", "12", ["row 2", "column key", "outside -1..11"]),
        ("mode", "2", ["row 2", "column mode"]),
    ],
)
def test_place_file_refuses_impossible_values(tmp_path, holding_db, column, value, needles):
    header = ["name", "danceability", "energy", "popularity", "key", "mode", "tempo"]
    rows = [
        ["Song A", "0.5", "0.6", "40", "5", "1", "120"],
        ["Song B", "0.7", "0.8", "60", "7", "0", "128"],
        ["Song C", "0.2", "0.3", "20", "0", "1", "90"],
    ]
    rows[1][header.index(column)] = value
    songs = write_rows(tmp_path / "songs.csv", header, rows)
    before = warehouse_state(holding_db)
    assert_refused(
        run_cli("place", "--file", songs, "--db", holding_db), holding_db, before, *needles
    )
    # the same file with the value fixed places every song
    rows[1][header.index(column)] = "0" if column != "popularity" else "60"
    write_rows(songs, header, rows)
    placed = json.loads(
        run_cli_ok("place", "--file", songs, "--format", "json", "--db", holding_db).stdout
    )
    assert [p["name"] for p in placed] == ["Song A", "Song B", "Song C"]


def test_place_file_exportify_as_a_real_process(tmp_path, exportify):
    """An Exportify export places directly, in the default table format, as a real process."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(exportify.db, db)
    before = warehouse_state(db)
    run = run_process(["place", "--file", FOREIGN / FILES["exportify"].file, "--db", db], tmp_path)
    assert run.exit_code == 0, run.output
    assert "Par Chanaa De" in run.stdout
    assert warehouse_state(db) == before
