-- Value conversions for users' own Spotify files, as DuckDB macros.
--
-- A user's file is read with all_varchar, so every value arrives as VARCHAR (possibly NULL);
-- these macros turn one such value into the type spotclust stores. Each one returns NULL for
-- NULL or blank (whitespace only) input, and NULL for a value it cannot convert: it never
-- guesses. A caller that sees non-blank input with a NULL result reports a bad value and names
-- the row. Range checks (key 0..11, danceability 0..1, ...) are not done here.
--
-- "Whitespace" is Unicode whitespace: ASCII space, tab, CR, LF, vertical tab, form feed, NEL,
-- no-break space and the other Unicode space separators (\p{Z}).
--
-- Macros are temporary (per connection) and build on each other, so they are created in
-- order. The whole file runs as one statement batch: con.execute(text).

-- as_text(x) -> VARCHAR: any text, trimmed of whitespace at both ends; NULL if blank.
CREATE OR REPLACE TEMP MACRO as_text(x) AS
    nullif(regexp_replace(x, '^[\s\v\x{85}\p{Z}]+|[\s\v\x{85}\p{Z}]+$', '', 'g'), '');

-- as_double(x) -> DOUBLE: number text as DuckDB's TRY_CAST reads it, after trimming: '0.5',
-- '-5.6', '+4', '.5', '1e-3', '1.10E-05'. Not '1,5' (decimal comma) and not '1 000'.
-- TRY_CAST's own leniencies are kept on purpose, so know them: 'nan'/'NaN' gives NaN,
-- 'inf'/'-Infinity' gives +-Infinity, an overflow such as '1e400' gives Infinity (all
-- non-NULL, so range checks must catch them), and '1_000' (digit separators) gives 1000.
CREATE OR REPLACE TEMP MACRO as_double(x) AS
    TRY_CAST(as_text(x) AS DOUBLE);

-- as_integer(x) -> BIGINT: a whole number in any form as_double accepts: '63', '+4', '63.0',
-- '6.3e1'. Digits-only text is exact over the whole BIGINT range; other forms go through
-- DOUBLE (exact up to 2^53). A fraction is never rounded ('63.5' -> NULL); NaN, Infinity and
-- values outside BIGINT give NULL. (A bare TRY_CAST to BIGINT would round '63.5' to 64 and
-- read '0x10' as 16, hence the two branches.)
CREATE OR REPLACE TEMP MACRO as_integer(x) AS
    CASE
        WHEN regexp_full_match(as_text(x), '[+-]?[0-9]+') THEN TRY_CAST(as_text(x) AS BIGINT)
        WHEN isfinite(as_double(x)) AND as_double(x) = trunc(as_double(x))
            THEN TRY_CAST(as_double(x) AS BIGINT)
    END;

-- as_fraction(x) -> DOUBLE: a finite number with a fractional part, as as_double reads it
-- ('1.5', '-0.25', '6.35e1'); NULL for a whole number ('63', '63.0'), NaN, Infinity and
-- anything else. Ingest keeps such a value in a whole-number column (popularity 1.5) as it
-- is, for cleaning to set its row aside: never rounded, never a reason to refuse the file.
CREATE OR REPLACE TEMP MACRO as_fraction(x) AS
    CASE WHEN isfinite(as_double(x)) AND as_double(x) <> trunc(as_double(x)) THEN as_double(x) END;

-- as_boolean(x) -> BOOLEAN, case-insensitive: 'true', 't', 'yes', 'y', '1', '1.0' -> true;
-- 'false', 'f', 'no', 'n', '0', '0.0' -> false (so Python's 'True'/'False' too).
CREATE OR REPLACE TEMP MACRO as_boolean(x) AS
    CASE
        WHEN lower(as_text(x)) IN ('true', 't', 'yes', 'y', '1', '1.0') THEN true
        WHEN lower(as_text(x)) IN ('false', 'f', 'no', 'n', '0', '0.0') THEN false
    END;

-- as_key(x) -> INTEGER, the pitch class: an integer in any form as_integer accepts, returned
-- as is ('-1', '11', '5.0'); or a pitch letter A-G (either case) followed by any number of
-- accidentals, '#' or '♯' raising by one and 'b' or '♭' lowering by one, taken mod 12:
-- 'C' 0, 'C#' 1, 'Db' 1, 'Eb' 3, 'Fb' 4, 'E#' 5, 'Bb' 10, 'Cb' 11, 'B#' 0. Only a lowercase
-- 'b' is a flat ('EB' -> NULL); anything else ('H', 'Cmaj', 'C##x', 'C m') -> NULL.
CREATE OR REPLACE TEMP MACRO as_key(x) AS
    CASE
        WHEN as_integer(x) IS NOT NULL THEN TRY_CAST(as_integer(x) AS INTEGER)
        WHEN regexp_full_match(as_text(x), '[A-Ga-g][#♯b♭]*') THEN
            (([0, 2, 4, 5, 7, 9, 11][list_position(['c', 'd', 'e', 'f', 'g', 'a', 'b'],
                                                   lower(left(as_text(x), 1)))]
              + length(regexp_replace(as_text(x)[2:], '[^#♯]', '', 'g'))
              - length(regexp_replace(as_text(x)[2:], '[^b♭]', '', 'g'))) % 12 + 12) % 12
    END::INTEGER;

-- as_mode(x) -> INTEGER: 1 or 0 in any form as_integer accepts ('1', '0', '1.0', '0.0');
-- case-insensitive 'major'/'maj' -> 1 and 'minor'/'min' -> 0. Any other number -> NULL.
CREATE OR REPLACE TEMP MACRO as_mode(x) AS
    CASE
        WHEN lower(as_text(x)) IN ('major', 'maj') THEN 1
        WHEN lower(as_text(x)) IN ('minor', 'min') THEN 0
        WHEN as_integer(x) IN (0, 1) THEN as_integer(x)
    END::INTEGER;

-- as_time_signature(x) -> INTEGER, beats per bar: an integer in any form as_integer accepts
-- ('4', '4.0'); a fraction 'N/D' -> N ('3/4' -> 3, '6/8' -> 6; D must be a positive whole
-- number, spaces around '/' allowed); or a fraction a spreadsheet turned into a day-month
-- date, where the MONTH is the beat count: 'D-Mon' or 'Mon-D' with a day 1..31 and a
-- three-letter English month in either case ('4-Mar' -> 3, '4-Apr' -> 4, 'May-04' -> 5).
-- Full month names ('4-March') -> NULL.
CREATE OR REPLACE TEMP MACRO as_time_signature(x) AS
    CASE
        WHEN as_integer(x) IS NOT NULL THEN TRY_CAST(as_integer(x) AS INTEGER)
        WHEN regexp_full_match(as_text(x), '[0-9]+\s*/\s*0*[1-9][0-9]*')
            THEN TRY_CAST(regexp_extract(as_text(x), '^[0-9]+') AS INTEGER)
        ELSE list_position(
            ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
            lower(coalesce(
                nullif(regexp_extract(as_text(x),
                                      '^(?:0?[1-9]|[12][0-9]|3[01])-([A-Za-z]{3})$', 1), ''),
                nullif(regexp_extract(as_text(x),
                                      '^([A-Za-z]{3})-(?:0?[1-9]|[12][0-9]|3[01])$', 1), ''))))
    END::INTEGER;

-- as_track_id(x) -> VARCHAR, the bare Spotify track id: 'spotify:track:ID' -> 'ID';
-- 'https://open.spotify.com/track/ID' -> 'ID', also with http or no scheme, an optional
-- '/intl-xx' (or '/intl-xx-YY') segment, a trailing '/' and a '?si=...' query or '#' part.
-- The prefix may be in any case (URI schemes and host names are case-insensitive).
-- In both forms ID must be letters and digits. Any other text without ':' or '/' is a user's
-- own id and is returned trimmed as is. Any other URI or URL ('spotify:album:...',
-- 'https://open.spotify.com/album/...', a track id with a stray character) -> NULL.
CREATE OR REPLACE TEMP MACRO as_track_id(x) AS
    CASE
        WHEN NOT regexp_matches(as_text(x), '[:/]') THEN as_text(x)
        ELSE nullif(coalesce(
            nullif(regexp_extract(as_text(x), '^(?i:spotify:track:)([0-9A-Za-z]+)$', 1), ''),
            regexp_extract(as_text(x),
                           '^(?i:(?:https?://)?open\.spotify\.com(?:/intl-[a-z]{2}(?:-[a-z]{2})?)?'
                           || '/track/)([0-9A-Za-z]+)/?(?:[?#].*)?$', 1)), '')
    END;

-- list_text_items(x) -> VARCHAR[], a helper for as_artists and as_genres: the items of a
-- Python list of strings written as text the way Python's repr writes it (values shown raw):
--     ['A', 'B']    ["B's", 'C']    ['Bertha "Chippie" Hill']    ['It\'s']    []
-- Each item in either quote kind; inside an item the escapes \\ \' \" are undone. Items are
-- trimmed and blank ones dropped, order kept; [] gives an empty list. NULL for anything that
-- is not such a list in full, including items with other escapes such as \n or \x.. (never
-- guessed at) and unquoted items like [A, B].
CREATE OR REPLACE TEMP MACRO list_text_items(x) AS
    CASE
        WHEN regexp_full_match(
                as_text(x),
                '\[\s*(?:(?:''(?:[^''\\]|\\[\\''"])*''|"(?:[^"\\]|\\[\\''"])*")'
                || '(?:\s*,\s*(?:''(?:[^''\\]|\\[\\''"])*''|"(?:[^"\\]|\\[\\''"])*"))*\s*,?)?\s*\]')
            THEN list_filter(
                list_transform(
                    regexp_extract_all(as_text(x),
                                       '''(?:[^''\\]|\\[\\''"])*''|"(?:[^"\\]|\\[\\''"])*"'),
                    lambda item: as_text(regexp_replace(item[2:-2], '\\([\\''"])', '\1', 'g'))),
                lambda item: item IS NOT NULL)
    END;

-- as_artists(x) -> VARCHAR: artist names joined by ';'. A Python list text (see
-- list_text_items; values shown raw): ['A', 'B'] -> A;B, ["B's", 'C'] -> B's;C; an empty list
-- [] -> NULL; text starting with '[' that is not a well-formed list -> NULL. Anything not
-- starting with '[' is returned trimmed as is: the shipped dataset and playlist exports
-- already separate artists with ';'. A name that itself contains ';' (it happens in the 600k
-- dataset) is kept as it is, so it reads as several artists afterwards.
CREATE OR REPLACE TEMP MACRO as_artists(x) AS
    CASE
        WHEN NOT starts_with(as_text(x), '[') THEN as_text(x)
        -- string_agg over no items is NULL; array_to_string and nullif would be macros that
        -- evaluate the list two or four times
        ELSE list_aggr(list_text_items(x), 'string_agg', ';')
    END;

-- as_genres(x) -> VARCHAR[]: a comma-separated list 'bollywood,hindi pop, desi' ->
-- ['bollywood', 'hindi pop', 'desi'] (items trimmed, empty items dropped, order kept), or a
-- Python list text as for as_artists: ['pop', 'dance pop']. NULL when no genre is left
-- (',,', '[]') or the list text is malformed.
CREATE OR REPLACE TEMP MACRO as_genres(x) AS
    nullif(
        CASE
            WHEN starts_with(as_text(x), '[') THEN list_text_items(x)
            ELSE list_filter(list_transform(string_split(as_text(x), ','),
                                            lambda genre: as_text(genre)),
                             lambda genre: genre IS NOT NULL)
        END,
        []::VARCHAR[]);
