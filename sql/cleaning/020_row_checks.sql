-- row_checks: every file row's cleaning checks, by row_number (grain: one row per file row)
-- materialized: table
-- unique: row_number
-- has_missing: an empty field of a column the file has. problems: impossible values. is_duplicate: an exact copy of
-- an earlier row (same in every column but the row number). Join stg_tracks USING
-- (row_number) for the row's values.
-- Materialized as a table at ingest, and kept narrow (no copy of the values) so that it
-- stays cheap at 10M rows.
WITH staged AS NOT MATERIALIZED (
    -- read again by each step below: a stored copy of 10M rows would spill to disk
    SELECT * FROM stg_tracks
),

present AS (
    -- a column the file did not have is NULL in every row: absent, so never 'missing'
    SELECT
        count(track_id) > 0 AS has_track_id,
        count(artists) > 0 AS has_artists,
        count(album_name) > 0 AS has_album_name,
        count(track_name) > 0 AS has_track_name,
        count(genre) > 0 AS has_genre,
        count(popularity) > 0 AS has_popularity,
        count(duration_ms) > 0 AS has_duration_ms,
        count(explicit) > 0 AS has_explicit,
        count(danceability) > 0 AS has_danceability,
        count(energy) > 0 AS has_energy,
        count("key") > 0 AS has_key,
        count(loudness) > 0 AS has_loudness,
        count("mode") > 0 AS has_mode,
        count(speechiness) > 0 AS has_speechiness,
        count(acousticness) > 0 AS has_acousticness,
        count(instrumentalness) > 0 AS has_instrumentalness,
        count(liveness) > 0 AS has_liveness,
        count(valence) > 0 AS has_valence,
        count(tempo) > 0 AS has_tempo,
        count(time_signature) > 0 AS has_time_signature,
        count(genre_list) > 0 AS has_genre_list
    FROM staged
),

checked AS (
    SELECT
        s.row_number,
        (
            (p.has_track_id AND s.track_id IS NULL)
            OR (p.has_artists AND s.artists IS NULL)
            OR (p.has_album_name AND s.album_name IS NULL)
            OR (p.has_track_name AND s.track_name IS NULL)
            -- a playlist lists genres per track, and a track may have none
            OR (p.has_genre AND NOT p.has_genre_list AND s.genre IS NULL)
            OR (p.has_popularity AND s.popularity IS NULL)
            OR (p.has_duration_ms AND s.duration_ms IS NULL)
            OR (p.has_explicit AND s.explicit IS NULL)
            OR (p.has_danceability AND s.danceability IS NULL)
            OR (p.has_energy AND s.energy IS NULL)
            OR (p.has_key AND s."key" IS NULL)
            OR (p.has_loudness AND s.loudness IS NULL)
            OR (p.has_mode AND s."mode" IS NULL)
            OR (p.has_speechiness AND s.speechiness IS NULL)
            OR (p.has_acousticness AND s.acousticness IS NULL)
            OR (p.has_instrumentalness AND s.instrumentalness IS NULL)
            OR (p.has_liveness AND s.liveness IS NULL)
            OR (p.has_valence AND s.valence IS NULL)
            OR (p.has_tempo AND s.tempo IS NULL)
            OR (p.has_time_signature AND s.time_signature IS NULL)
        ) AS has_missing,
        list_filter([
            CASE WHEN NOT (isfinite(danceability) AND isfinite(energy) AND isfinite(loudness)
                           AND isfinite(speechiness) AND isfinite(acousticness)
                           AND isfinite(instrumentalness) AND isfinite(liveness)
                           AND isfinite(valence) AND isfinite(tempo) AND isfinite(popularity)
                           AND isfinite(duration_ms) AND isfinite("key") AND isfinite("mode")
                           AND isfinite(time_signature))
                 THEN 'NaN or infinite number' END,
            -- whole-number columns arrive as DOUBLE, as the file has them: never rounded
            CASE WHEN popularity <> trunc(popularity) THEN 'popularity is not a whole number' END,
            CASE WHEN duration_ms <> trunc(duration_ms)
                 THEN 'duration_ms is not a whole number' END,
            CASE WHEN "key" <> trunc("key") THEN 'key is not a whole number' END,
            CASE WHEN "mode" <> trunc("mode") THEN 'mode is not a whole number' END,
            CASE WHEN time_signature <> trunc(time_signature)
                 THEN 'time_signature is not a whole number' END,
            -- beyond BIGINT (9.2e18 ms): no track, and no integer to store it as
            CASE WHEN duration_ms >= 9223372036854775807 THEN 'duration_ms too large' END,
            CASE WHEN tempo <= 0 THEN 'tempo <= 0' END,
            CASE WHEN time_signature NOT BETWEEN 3 AND 7 THEN 'time_signature outside 3..7' END,
            CASE WHEN duration_ms <= 0 THEN 'duration_ms <= 0' END,
            CASE WHEN NOT (danceability BETWEEN 0 AND 1 AND energy BETWEEN 0 AND 1
                           AND speechiness BETWEEN 0 AND 1 AND acousticness BETWEEN 0 AND 1
                           AND instrumentalness BETWEEN 0 AND 1 AND liveness BETWEEN 0 AND 1
                           AND valence BETWEEN 0 AND 1)
                 THEN '0..1 feature outside 0..1' END,
            CASE WHEN "key" NOT BETWEEN -1 AND 11 THEN 'key outside -1..11' END,
            CASE WHEN "mode" NOT IN (0, 1) THEN 'mode not 0/1' END,
            CASE WHEN popularity NOT BETWEEN 0 AND 100 THEN 'popularity outside 0..100' END,
            CASE WHEN track_id = '' THEN 'empty track_id' END
        ], lambda problem: problem IS NOT NULL) AS problems
    FROM staged AS s, present AS p
),

hashed AS NOT MATERIALIZED (
    SELECT
        *,
        hash(
            track_id, artists, album_name, track_name, genre, popularity, duration_ms, explicit,
            danceability, energy, "key", loudness, "mode", speechiness, acousticness,
            instrumentalness, liveness, valence, tempo, time_signature, genre_list
        ) AS row_hash
    FROM staged
),

repeated_hashes AS (
    -- Identical rows hash alike, so only rows whose hash repeats can be copies: grouping
    -- one 64-bit hash is far cheaper than grouping 20 columns at 10M rows.
    SELECT row_hash FROM hashed GROUP BY row_hash HAVING count(*) > 1
),

candidates AS (
    SELECT * EXCLUDE (row_hash) FROM hashed
    WHERE row_hash IN (SELECT row_hash FROM repeated_hashes)
),

duplicates AS (
    -- exact comparison on every column, so a hash collision never drops a row
    SELECT row_number FROM candidates
    WHERE row_number NOT IN (
        SELECT min(row_number)
        FROM candidates
        GROUP BY track_id, artists, album_name, track_name, genre, popularity, duration_ms,
            explicit, danceability, energy, "key", loudness, "mode", speechiness, acousticness,
            instrumentalness, liveness, valence, tempo, time_signature, genre_list
    )
),

final AS (
    SELECT
        row_number,
        has_missing,
        problems,
        row_number IN (SELECT row_number FROM duplicates) AS is_duplicate
    FROM checked
)

SELECT * FROM final
