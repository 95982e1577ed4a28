"""The value conversions in sql/conversions.sql: one DuckDB macro per encoding users' files use.

Every macro takes the VARCHAR a file read with all_varchar gives, returns NULL for NULL and
blank input and NULL for a value it cannot convert (the caller reports those rows), and never
guesses. Real values come from the files in tests/data/foreign/ (copied here as literals,
so the tests run on a clean clone): SpotifyFeatures keys, modes and '4/4' time signatures,
list-text artists of the 600k-tracks dataset, Exportify track URIs and genres.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import pytest

CONVERSIONS = Path(__file__).resolve().parent.parent / "sql" / "conversions.sql"
FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"

MACROS = {
    "as_text": "VARCHAR",
    "as_double": "DOUBLE",
    "as_integer": "BIGINT",
    "as_fraction": "DOUBLE",
    "as_boolean": "BOOLEAN",
    "as_key": "INTEGER",
    "as_mode": "INTEGER",
    "as_time_signature": "INTEGER",
    "as_track_id": "VARCHAR",
    "as_artists": "VARCHAR",
    "as_genres": "VARCHAR[]",
}
HELPERS = {"list_text_items": "VARCHAR[]"}  # shared by as_artists and as_genres

BLANKS = [None, "", " ", "   ", "\t", "\n", "\r\n", " \t\r\n ", "\u00a0", "\u3000", "\u2003 "]


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    connection.execute(CONVERSIONS.read_text(encoding="utf-8"))
    yield connection
    connection.close()


def convert(con, macro: str, value: str | None):
    return con.execute(f"SELECT {macro}($x)", {"x": value}).fetchone()[0]


# --- the file itself ---------------------------------------------------------------------------


def macro_names(connection) -> set[str]:
    rows = connection.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro'"
    ).fetchall()
    return {name for (name,) in rows}


def test_file_creates_exactly_the_macros_on_a_plain_connection():
    connection = duckdb.connect()
    before = macro_names(connection)
    connection.execute(CONVERSIONS.read_text(encoding="utf-8"))
    assert macro_names(connection) - before == set(MACROS) | set(HELPERS)
    # CREATE OR REPLACE: running it again on the same connection is fine
    connection.execute(CONVERSIONS.read_text(encoding="utf-8"))
    # TEMP: another connection to the same database does not see them
    assert not set(MACROS) & macro_names(connection.cursor())


def test_file_is_a_header_then_commented_temp_macros():
    lines = CONVERSIONS.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("-- ")
    creates = [i for i, line in enumerate(lines) if line.startswith("CREATE")]
    assert len(creates) == len(MACROS) + len(HELPERS)
    for i in creates:
        assert re.fullmatch(r"CREATE OR REPLACE TEMP MACRO \w+\(x\) AS", lines[i]), lines[i]
        assert lines[i - 1].startswith("-- "), f"no comment above {lines[i]!r}"
    # every statement is one of those CREATEs: nothing else runs when the file runs
    statements = duckdb.extract_statements(CONVERSIONS.read_text(encoding="utf-8"))
    assert len(statements) == len(creates)
    assert {s.type for s in statements} == {duckdb.StatementType.CREATE}


@pytest.mark.parametrize(("macro", "sql_type"), sorted((MACROS | HELPERS).items()))
def test_return_type(con, macro, sql_type):
    assert con.execute(f"SELECT typeof({macro}('1'))").fetchone()[0] == sql_type
    assert con.execute(f"SELECT typeof({macro}(NULL))").fetchone()[0] == sql_type


@pytest.mark.parametrize("value", BLANKS, ids=repr)
@pytest.mark.parametrize("macro", sorted(MACROS))
def test_null_and_blank_give_null(con, macro, value):
    assert convert(con, macro, value) is None


# --- as_text -----------------------------------------------------------------------------------

TEXT = [
    ("Coldplay", "Coldplay"),
    ("  Par Chanaa De  ", "Par Chanaa De"),
    ("\tIn the End\r\n", "In the End"),
    ("\u00a0Éléonore\u3000", "Éléonore"),
    ("a  b", "a  b"),  # inner whitespace is kept
    ("0", "0"),
    ("[]", "[]"),
]


@pytest.mark.parametrize(("value", "expected"), TEXT)
def test_as_text(con, value, expected):
    assert convert(con, "as_text", value) == expected


# --- as_double ---------------------------------------------------------------------------------

DOUBLE = [
    ("0.5", 0.5),
    ("-5.6", -5.6),
    ("1e-3", 0.001),
    ("  7 ", 7.0),
    ("+4", 4.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("0", 0.0),
    ("-7.227", -7.227),  # data_170k loudness
    ("1.10E-05", 1.1e-05),  # data_170k instrumentalness, as a spreadsheet wrote it
    ("0.0000143", 1.43e-05),  # Exportify instrumentalness
    ("155.961", 155.961),  # Exportify tempo
    ("266773", 266773.0),
    ("1_000", 1000.0),  # DuckDB's TRY_CAST reads digit separators; kept, documented
    ("1,5", None),  # decimal comma
    ("1 000", None),
    ("abc", None),
    ("0.5.1", None),
    ("1e", None),
    ("--1", None),
    ("0x10", None),
    ("½", None),
    ("4/4", None),
]


@pytest.mark.parametrize(("value", "expected"), DOUBLE)
def test_as_double(con, value, expected):
    assert convert(con, "as_double", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("nan", "nan"), ("NaN", "nan"), ("inf", "inf"), ("-Infinity", "-inf"), ("1e400", "inf")],
)
def test_as_double_keeps_try_cast_non_finite_values(con, value, expected):
    # documented in conversions.sql: these are not NULL, range checks must catch them
    result = convert(con, "as_double", value)
    if expected == "nan":
        assert math.isnan(result)
    else:
        assert result == float(expected)


# --- as_integer --------------------------------------------------------------------------------

INTEGER = [
    ("63", 63),
    ("63.0", 63),
    ("+4", 4),
    ("-1", -1),
    ("-0", 0),
    (" 42 ", 42),
    ("4.", 4),
    ("4.000", 4),
    ("1e3", 1000),
    ("6.3e1", 63),
    ("2.66773E+05", 266773),  # duration_ms after a spreadsheet
    ("9007199254740993", 9007199254740993),  # digits are exact beyond 2^53
    ("9223372036854775807", 9223372036854775807),
    ("-9223372036854775808", -9223372036854775808),
    ("9223372036854775808", None),  # outside BIGINT
    ("1e19", None),
    ("63.5", None),  # a fraction is not rounded
    ("0.5", None),
    ("-0.5", None),
    ("1.5e0", None),
    ("abc", None),
    ("0x10", None),  # TRY_CAST to BIGINT alone would read hex
    ("63,0", None),
    ("1 000", None),
    ("nan", None),
    ("inf", None),
    ("-inf", None),
    ("4/4", None),
]


@pytest.mark.parametrize(("value", "expected"), INTEGER)
def test_as_integer(con, value, expected):
    assert convert(con, "as_integer", value) == expected


# --- as_fraction -------------------------------------------------------------------------------

FRACTION = [  # what as_integer refuses as a fraction, kept as it is (cleaning sets it aside)
    ("63.5", 63.5),
    ("1.5", 1.5),
    ("2.5", 2.5),
    ("-0.5", -0.5),
    (" 0.25 ", 0.25),
    ("1.5e0", 1.5),
    ("6.35e1", 63.5),
    ("63", None),  # whole numbers are as_integer's
    ("63.0", None),
    ("1e19", None),
    ("nan", None),
    ("inf", None),
    ("-inf", None),
    ("abc", None),
    ("1,5", None),
    ("3/4", None),
]


@pytest.mark.parametrize(("value", "expected"), FRACTION)
def test_as_fraction(con, value, expected):
    assert convert(con, "as_fraction", value) == expected


# --- as_boolean --------------------------------------------------------------------------------

BOOLEAN = [
    *((v, True) for v in ["true", "True", "TRUE", "t", "T", "yes", "Yes", "y", "Y", "1", "1.0"]),
    *((v, False) for v in ["false", "False", "FALSE", "f", "F", "no", "NO", "n", "0", "0.0"]),
    (" true ", True),
    ("false\r", False),  # last column of a CRLF file
    ("2", None),
    ("-1", None),
    ("0.5", None),
    ("yess", None),
    ("truth", None),
    ("on", None),
    ("off", None),
    ("x", None),
]


@pytest.mark.parametrize(("value", "expected"), BOOLEAN)
def test_as_boolean(con, value, expected):
    assert convert(con, "as_boolean", value) is expected


# --- as_key ------------------------------------------------------------------------------------

LETTER_KEYS = {
    "C": 0,
    "C#": 1,
    "Db": 1,
    "D": 2,
    "D#": 3,
    "Eb": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "Gb": 6,
    "G": 7,
    "G#": 8,
    "Ab": 8,
    "A": 9,
    "A#": 10,
    "Bb": 10,
    "B": 11,
    "B#": 0,
    "Cb": 11,
    "E#": 5,
    "Fb": 4,
}

KEY = [
    *LETTER_KEYS.items(),
    *((name[0].lower() + name[1:], key) for name, key in LETTER_KEYS.items()),
    ("C♯", 1),
    ("D♭", 1),
    ("F♯", 6),
    ("B♭", 10),
    ("C##", 2),  # any number of accidentals
    ("Dbb", 0),
    ("C#b", 0),
    ("B##", 1),
    ("Cbb", 10),
    (" G# ", 8),
    # integers: returned as they are, the range is checked elsewhere
    ("0", 0),
    ("5", 5),
    ("11", 11),
    ("5.0", 5),
    ("+7", 7),
    ("-1", -1),
    ("12", 12),
    ("H", None),
    ("Cmaj", None),
    ("C##x", None),
    ("Cm", None),
    ("C#m", None),
    ("C m", None),
    ("C #", None),
    ("EB", None),  # only a lowercase b is a flat
    ("C♮", None),
    ("#", None),
    ("b#b#x", None),
    ("Do", None),
    ("C#/Db", None),
    ("CC", None),
    ("5.5", None),
    ("99999999999", None),  # outside INTEGER
]


@pytest.mark.parametrize(("value", "expected"), KEY)
def test_as_key(con, value, expected):
    assert convert(con, "as_key", value) == expected


# --- as_mode -----------------------------------------------------------------------------------

MODE = [
    ("Major", 1),  # SpotifyFeatures
    ("Minor", 0),
    ("major", 1),
    ("MINOR", 0),
    ("maj", 1),
    ("Maj", 1),
    ("min", 0),
    ("MIN", 0),
    ("1", 1),  # Exportify, tracks_600k
    ("0", 0),
    ("1.0", 1),
    ("0.0", 0),
    (" 1 ", 1),
    ("2", None),
    ("-1", None),
    ("0.5", None),
    ("majo", None),
    ("minor key", None),
    ("M", None),
    ("m", None),
    ("dur", None),
    ("true", None),
]


@pytest.mark.parametrize(("value", "expected"), MODE)
def test_as_mode(con, value, expected):
    assert convert(con, "as_mode", value) == expected


# --- as_time_signature -------------------------------------------------------------------------

TIME_SIGNATURE = [
    ("4", 4),  # Exportify, tracks_600k
    ("3", 3),
    ("1", 1),
    ("0", 0),  # range is checked elsewhere
    ("4.0", 4),  # tracks_features
    ("3.0", 3),
    ("4/4", 4),  # SpotifyFeatures
    ("3/4", 3),
    ("5/4", 5),
    ("1/4", 1),
    ("6/8", 6),
    ("12/8", 12),
    ("3 / 4", 3),
    (" 4/4\r", 4),
    ("4-Mar", 3),  # a spreadsheet's date for 3/4: the month is the beat count
    ("4-Apr", 4),
    ("4-May", 5),
    ("4-Jan", 1),
    ("8-Jun", 6),
    ("8-Dec", 12),
    ("04-Apr", 4),
    ("4-mar", 3),
    ("4-APR", 4),
    ("Mar-4", 3),
    ("Apr-04", 4),
    ("may-4", 5),
    ("31-Jan", 1),
    ("4.5", None),
    ("three", None),
    ("4/0", None),
    ("3/", None),
    ("/4", None),
    ("3/4/4", None),
    ("3/4.0", None),
    ("-3/4", None),
    ("4-March", None),  # only three-letter months
    ("4-Foo", None),
    ("0-Mar", None),  # no such day
    ("32-Mar", None),
    ("4-Mar-2020", None),
    ("4 Mar", None),
    ("Mar", None),
    ("2020-03-04", None),
]


@pytest.mark.parametrize(("value", "expected"), TIME_SIGNATURE)
def test_as_time_signature(con, value, expected):
    assert convert(con, "as_time_signature", value) == expected


# --- as_track_id -------------------------------------------------------------------------------

TRACK_ID = [
    # Exportify Track URI and genres_v2 uri
    ("spotify:track:2y7fdOLYBFFbuuMs96KndV", "2y7fdOLYBFFbuuMs96KndV"),
    ("spotify:track:7J2YEpZ1fIodpfsZqSY6wK", "7J2YEpZ1fIodpfsZqSY6wK"),
    ("spotify:track:2Vc6NJ9PW9gD9q343XFRKx", "2Vc6NJ9PW9gD9q343XFRKx"),
    (" spotify:track:7h5jBU18CqXNhDUKRr6y7h ", "7h5jBU18CqXNhDUKRr6y7h"),
    ("Spotify:Track:7h5jBU18CqXNhDUKRr6y7h", "7h5jBU18CqXNhDUKRr6y7h"),
    # share links
    ("https://open.spotify.com/track/2y7fdOLYBFFbuuMs96KndV", "2y7fdOLYBFFbuuMs96KndV"),
    (
        "https://open.spotify.com/track/2y7fdOLYBFFbuuMs96KndV?si=4f1c9a7b2e3d4c5a",
        "2y7fdOLYBFFbuuMs96KndV",
    ),
    ("https://open.spotify.com/intl-de/track/0XCtRvfDHT98h0iUSDFtyO", "0XCtRvfDHT98h0iUSDFtyO"),
    (
        "https://open.spotify.com/intl-pt/track/0XCtRvfDHT98h0iUSDFtyO?si=abc&context=x",
        "0XCtRvfDHT98h0iUSDFtyO",
    ),
    ("https://open.spotify.com/intl-pt-BR/track/0XCtRvfDHT98h0iUSDFtyO", "0XCtRvfDHT98h0iUSDFtyO"),
    ("https://open.spotify.com/track/0XCtRvfDHT98h0iUSDFtyO/", "0XCtRvfDHT98h0iUSDFtyO"),
    ("http://open.spotify.com/track/0XCtRvfDHT98h0iUSDFtyO", "0XCtRvfDHT98h0iUSDFtyO"),
    ("open.spotify.com/track/0XCtRvfDHT98h0iUSDFtyO", "0XCtRvfDHT98h0iUSDFtyO"),
    ("HTTPS://OPEN.SPOTIFY.COM/track/0XCtRvfDHT98h0iUSDFtyO", "0XCtRvfDHT98h0iUSDFtyO"),
    # bare ids and users' own ids, as they are
    ("35iwgR4jXetI318WEWsa1Q", "35iwgR4jXetI318WEWsa1Q"),  # tracks_600k id
    ("  3AJwUDP919kvQ9QcozQPxg\r", "3AJwUDP919kvQ9QcozQPxg"),
    ("my-track-17", "my-track-17"),
    ("song 1 (live)", "song 1 (live)"),
    ("42", "42"),
    # another kind of URI or URL, or a broken one
    ("spotify:album:0sNOF9WDwhWunNAHPD3Baj", None),
    ("spotify:artist:45tIt06XoI0Iio4LBEVpls", None),
    ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", None),
    ("https://open.spotify.com/album/0sNOF9WDwhWunNAHPD3Baj", None),
    ("https://open.spotify.com/intl-de/artist/45tIt06XoI0Iio4LBEVpls", None),
    ("https://api.spotify.com/v1/tracks/2Vc6NJ9PW9gD9q343XFRKx", None),  # genres_v2 track_href
    ("https://example.com/track/2Vc6NJ9PW9gD9q343XFRKx", None),
    ("https://open.spotify.com/track/", None),
    ("https://open.spotify.com/track/2Vc6-NJ9PW", None),
    ("https://open.spotify.com/intl-deutsch/track/2Vc6NJ9PW9gD9q343XFRKx", None),
    ("spotify:track:", None),
    ("spotify:track:2Vc6NJ9PW9gD9q343XFRKx:extra", None),
    ("spotify:track:abc/def", None),
    ("track:2Vc6NJ9PW9gD9q343XFRKx", None),
    ("a/b", None),
]


@pytest.mark.parametrize(("value", "expected"), TRACK_ID)
def test_as_track_id(con, value, expected):
    assert convert(con, "as_track_id", value) == expected


# --- as_artists --------------------------------------------------------------------------------

ARTISTS = [
    # tracks_600k list text, values exactly as the CSV holds them
    ("['Uli']", "Uli"),
    ("['Félix Mayol']", "Félix Mayol"),
    ("['Dick Haymes', 'Harry James', 'His Orchestra']", "Dick Haymes;Harry James;His Orchestra"),
    ('["King Oliver\'s Creole Jazz Band"]', "King Oliver's Creole Jazz Band"),
    ('["Clarence Williams\' Blue Five"]', "Clarence Williams' Blue Five"),
    (
        "['The Chenille Sisters', \"James Dapogny's Chicago Jazz Band\"]",
        "The Chenille Sisters;James Dapogny's Chicago Jazz Band",
    ),
    ("['Bertha \"Chippie\" Hill', 'Louis Armstrong']", 'Bertha "Chippie" Hill;Louis Armstrong'),
    ("['Jones-Smith, Incorporated']", "Jones-Smith, Incorporated"),  # comma inside a name
    ("['Robert Lockwood, Jr.']", "Robert Lockwood, Jr."),
    (
        "['Orchestre Piero Coppola', 'Ch&#339;ur Piero Coppola', 'Piero Coppola']",
        "Orchestre Piero Coppola;Ch&#339;ur Piero Coppola;Piero Coppola",
    ),
    # a ';' inside a name is the dataset's own; it stays
    (
        "['Count Basie & His Orchestra; Vocal by Jimmy Rushing']",
        "Count Basie & His Orchestra; Vocal by Jimmy Rushing",
    ),
    # Python repr's escapes
    (r"['It\'s']", "It's"),
    ("['It\\'s', \"B's\"]", "It's;B's"),
    (r'["Say \"Hi\""]', 'Say "Hi"'),
    (r"['back\\slash']", "back\\slash"),
    (r"['a\\']", "a\\"),
    # layout
    ("['A', 'B']", "A;B"),
    ("[\"B's\", 'C']", "B's;C"),
    ("['A','B']", "A;B"),
    ("[ 'A' ,  'B' ]", "A;B"),
    ("['A', 'B',]", "A;B"),
    ("  ['A', 'B']\r\n", "A;B"),
    ("[' A ', 'B ']", "A;B"),
    ("['A', '', 'B']", "A;B"),
    ("['[weird] name']", "[weird] name"),
    # not list text: the shipped dataset and Exportify already use ';', kept as is
    ("Shilpa Rao;Noori", "Shilpa Rao;Noori"),
    ("Amit Trivedi;Shellee;Neeraj Arya", "Amit Trivedi;Shellee;Neeraj Arya"),
    ("  Coldplay  ", "Coldplay"),
    ("*NSYNC", "*NSYNC"),
    ("A, B", "A, B"),
    ("Uli']", "Uli']"),
    # empty or malformed list text
    ("[]", None),
    ("[ ]", None),
    ("['']", None),
    ("['', '  ']", None),
    ("[Uli]", None),
    ("['A', B]", None),
    ("['A'", None),
    ("['A'] extra", None),
    ("['A'], ['B']", None),
    ("['A' 'B']", None),
    ("[1, 2]", None),
    ("[None]", None),
    ("['It's']", None),  # an unescaped quote ends the item early
    ("['A\"]", None),
    (r"['a\nb']", None),  # other escapes are not guessed at
    (r"['caf\xe9']", None),
    ('[["A"]]', None),
]


@pytest.mark.parametrize(("value", "expected"), ARTISTS)
def test_as_artists(con, value, expected):
    assert convert(con, "as_artists", value) == expected


# --- as_genres ---------------------------------------------------------------------------------

GENRES = [
    ("bollywood,hindi pop, desi", ["bollywood", "hindi pop", "desi"]),
    (
        # Exportify Genres
        "bollywood,hindi pop,desi,sufi,qawwali,ghazal,hindi indie",
        ["bollywood", "hindi pop", "desi", "sufi", "qawwali", "ghazal", "hindi indie"],
    ),
    ("indian indie,sufi,hindi indie,ghazal", ["indian indie", "sufi", "hindi indie", "ghazal"]),
    ("bangla pop", ["bangla pop"]),
    ("sufi", ["sufi"]),
    ("Dark Trap", ["Dark Trap"]),  # genres_v2 genre
    ("r&b", ["r&b"]),
    ("pop,, rock ,", ["pop", "rock"]),
    (" , pop", ["pop"]),
    ("pop,pop", ["pop", "pop"]),  # duplicates are the caller's business
    ("rock, pop", ["rock", "pop"]),  # order kept
    ("['pop', 'dance pop']", ["pop", "dance pop"]),
    ("[\"children's music\", 'pop']", ["children's music", "pop"]),
    ("['a, b']", ["a, b"]),  # a comma inside a listed genre stays
    ("[' pop ', '']", ["pop"]),
    (",", None),
    (" , ,, ", None),
    ("[]", None),
    ("['']", None),
    ("['pop'", None),
    ("[pop, rock]", None),
]


@pytest.mark.parametrize(("value", "expected"), GENRES)
def test_as_genres(con, value, expected):
    assert convert(con, "as_genres", value) == expected


# --- whole columns -----------------------------------------------------------------------------

# Lines of tracks_600k_sample.csv (../shared/data/foreign/, from the Kaggle 600k-tracks
# tracks.csv), byte for byte apart from the CRLF.
TRACKS_600K_HEADER = (
    "id,name,popularity,duration_ms,explicit,artists,id_artists,release_date,danceability,"
    "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,"
    "time_signature"
)
TRACKS_600K_LINES = [
    "35iwgR4jXetI318WEWsa1Q,Carve,6,126903,0,['Uli'],['45tIt06XoI0Iio4LBEVpls'],22-02-1922,"
    "0.645,0.445,0,-13.338,1,0.451,0.674,0.744,0.151,0.127,104.851,3",
    "0TWsNj5iSvbMTtbEDP7A4V,Elle Prend L'boulevard Magenta,0,172027,0,['Félix Mayol'],"
    "['7DIlOK9L8d0IQ7Xk8aJxDW'],1922,0.709,0.289,2,-14.978,1,0.18,0.967,0,0.119,0.84,107.515,4",
    "09MlY8XZXec36c8z27raVd,Sentimental Journey,2,355440,0,\"['The Chenille Sisters', "
    '""James Dapogny\'s Chicago Jazz Band""]","[\'0WdNVS1rOeusXfVUx3tYOL\', '
    "'7B9i9Gl6Af1wPWjTD1VQMD']\",1924,0.581,0.132,10,-16.464,1,0.033,0.896,0.0405,0.105,0.315,"
    "71.587,4",
    '1xEEYhWxT4WhDQdxfPCT8D,Snake Rag,20,194533,0,"[""King Oliver\'s Creole Jazz Band""]",'
    "['08Zk65toyJllap1MnzljxZ'],1923,0.708,0.361,0,-11.764,0,0.0441,0.994,0.883,0.103,0.902,"
    "105.695,4",
    '1UdqHVRFYMZKU2Q7xkLtYc,Pickin\' On Your Baby,11,197493,0,"[""Clarence Williams\' Blue '
    'Five""]",[\'6RuQvIr0t0otZHnAxXTGkm\'],1923,0.52,0.153,0,-14.042,1,0.044,0.995,0.131,0.353,'
    "0.319,102.937,4",
    '0YIo0uq3o867nFkE9I9hf2,Pleadin\' for the Blues,4,178707,0,"[\'Bertha ""Chippie"" Hill\', '
    "'Louis Armstrong']\",\"['1sPDyROEgOvKQlReOg874E', '19eLuQmk9aCobbVDHc6eek']\",1923,0.661,"
    "0.134,2,-12.61,1,0.0763,0.996,0.0011,0.119,0.575,71.497,4",
    '5v4GREJgz2A4IIsDAh6Xv1,"Oh, Lady Be Good! (78rpm Version)",0,186667,0,"[\'Jones-Smith, '
    "Incorporated']\",['67JigR7cdVZmMmOBIPmSjz'],1924,0.767,0.236,7,-13.797,1,0.0697,0.896,0.068,"
    "0.0967,0.728,93.567,4",
    "3hqgZLWNQTuPK6VYjzX0zn,Little Boy Blue,0,186217,0,\"['Robert Lockwood, Jr.']\","
    "['5hId7yMy0kbGP6IiKWVDql'],1927,0.716,0.341,9,-11.284,1,0.0426,0.567,2.10E-05,0.202,0.691,"
    "84.035,4",
    "0Zop3YbzZNaAVookI0R2gt,Lose The Blackout Blues - Live,0,192693,0,['Count Basie & His "
    "Orchestra; Vocal by Jimmy Rushing'],['1w2dZkrZVTF9ossmdlGkjK'],1927,0.615,0.0881,7,-13.44,0,"
    "0.0541,0.983,0.0206,0.0791,0.513,87.084,4",
    "1uWVB0T4cMGAsy63FN8yNA,Carmen : Ouverture,0,204467,0,\"['Orchestre Piero Coppola', "
    "'Ch&#339;ur Piero Coppola', 'Piero Coppola']\",\"['37dgRh2i6zUNeHjMLCQSw9', "
    "'0TLtsgufncXZZwlG45Izd2', '799pvxQvUKEev7KTJlftDB']\",1927,0.349,0.189,1,-16.039,0,0.0555,"
    "0.992,0.82,0.135,0.311,122.565,4",
    "1O9iZyzufN1fUdVO97mmm5,How High the Moon,0,175333,0,\"['Dick Haymes', 'Harry James', 'His "
    "Orchestra']\",\"['3BiJGZsyX9sJchTqcSA7Su', '5MpELOfAiq7aIBTij30phD', "
    "'6lXiGaWjISZnER53ZJe6QO']\",1922,0.328,0.307,0,-11.573,1,0.0484,0.989,0.277,0.21,0.259,"
    "117.225,4",
]
TRACKS_600K_ARTISTS = [
    "Uli",
    "Félix Mayol",
    "The Chenille Sisters;James Dapogny's Chicago Jazz Band",
    "King Oliver's Creole Jazz Band",
    "Clarence Williams' Blue Five",
    'Bertha "Chippie" Hill;Louis Armstrong',
    "Jones-Smith, Incorporated",
    "Robert Lockwood, Jr.",
    "Count Basie & His Orchestra; Vocal by Jimmy Rushing",
    "Orchestre Piero Coppola;Ch&#339;ur Piero Coppola;Piero Coppola",
    "Dick Haymes;Harry James;His Orchestra",
]


@pytest.fixture()
def tracks_600k_sample(tmp_path):
    path = tmp_path / "tracks_600k_sample.csv"
    # CRLF, as the original has it
    path.write_bytes("\r\n".join([TRACKS_600K_HEADER, *TRACKS_600K_LINES, ""]).encode("utf-8"))
    return path


def test_macros_convert_whole_columns(con, tracks_600k_sample):
    source = f"read_csv('{tracks_600k_sample.as_posix()}', all_varchar = true)"
    rows = con.execute(
        f"""
        SELECT as_artists(artists), as_genres(id_artists), as_track_id(id),
               as_key(key), as_mode(mode), as_time_signature(time_signature),
               as_boolean(explicit), as_integer(duration_ms), as_double(instrumentalness)
        FROM {source}
        """
    ).fetchall()
    assert [row[0] for row in rows] == TRACKS_600K_ARTISTS
    assert all(None not in row for row in rows)
    assert rows[2][1] == ["0WdNVS1rOeusXfVUx3tYOL", "7B9i9Gl6Af1wPWjTD1VQMD"]
    assert [row[3] for row in rows] == [0, 2, 10, 0, 0, 2, 7, 9, 7, 1, 0]
    assert [row[5] for row in rows] == [3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    assert rows[7][8] == 2.1e-05


def artists_check(con, source: str) -> tuple[int, int, int]:
    """Non-blank artists values, how many of them as_artists converted, results with `['`."""
    return con.execute(
        f"""
        SELECT count(*) FILTER (WHERE as_text(artists) IS NOT NULL),
               count(as_artists(artists)),
               count(*) FILTER (WHERE contains(as_artists(artists), '['''))
        FROM {source}
        """
    ).fetchone()


def test_as_artists_converts_every_value_of_a_list_text_column(con, tracks_600k_sample):
    source = f"read_csv('{tracks_600k_sample.as_posix()}', all_varchar = true)"
    assert artists_check(con, source) == (len(TRACKS_600K_LINES), len(TRACKS_600K_LINES), 0)
    # the check does see failures: the raw list text fails it, a malformed row is counted
    raw = con.execute(
        f"SELECT count(*) FILTER (WHERE contains(artists, '[''')) FROM {source}"
    ).fetchone()[0]
    assert raw > 0
    broken = (
        f"(SELECT * FROM {source} UNION ALL SELECT * REPLACE ('[Uli' AS artists) FROM {source})"
    )
    assert artists_check(con, broken) == (2 * len(TRACKS_600K_LINES), len(TRACKS_600K_LINES), 0)


def test_as_artists_on_the_whole_foreign_600k_sample(con):
    source = f"read_csv('{(FOREIGN / 'tracks_600k_sample.csv').as_posix()}', all_varchar = true)"
    non_blank, converted, with_list_text = artists_check(con, source)
    assert non_blank > 10_000
    assert converted == non_blank
    assert with_list_text == 0
