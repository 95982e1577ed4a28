-- row_checks: every file row's cleaning checks, by row_number (grain: one row per file row)
-- materialized: table
-- unique: row_number
-- has_missing: any empty field. problems: impossible values. is_duplicate: an exact copy of
-- an earlier row (same in every column but the row number). Join stg_tracks USING
-- (row_number) for the row's values.
-- Materialized as a table at ingest, and kept narrow (no copy of the values) so that it
-- stays cheap at 10M rows.
WITH staged AS NOT MATERIALIZED (
    -- read again by each step below: a stored copy of 10M rows would spill to disk
    SELECT * FROM stg_tracks
),

checked AS (
    SELECT
        row_number,
        (
            track_id IS NULL OR artists IS NULL OR album_name IS NULL OR track_name IS NULL
            OR genre IS NULL OR popularity IS NULL OR duration_ms IS NULL OR explicit IS NULL
            OR danceability IS NULL OR energy IS NULL OR "key" IS NULL OR loudness IS NULL
            OR "mode" IS NULL OR speechiness IS NULL OR acousticness IS NULL
            OR instrumentalness IS NULL OR liveness IS NULL OR valence IS NULL OR tempo IS NULL
            OR time_signature IS NULL
        ) AS has_missing,
        list_filter([
            CASE WHEN NOT (isfinite(danceability) AND isfinite(energy) AND isfinite(loudness)
                           AND isfinite(speechiness) AND isfinite(acousticness)
                           AND isfinite(instrumentalness) AND isfinite(liveness)
                           AND isfinite(valence) AND isfinite(tempo))
                 THEN 'NaN or infinite number' END,
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
    FROM staged
),

hashed AS NOT MATERIALIZED (
    SELECT
        *,
        hash(
            track_id, artists, album_name, track_name, genre, popularity, duration_ms, explicit,
            danceability, energy, "key", loudness, "mode", speechiness, acousticness,
            instrumentalness, liveness, valence, tempo, time_signature
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
            instrumentalness, liveness, valence, tempo, time_signature
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
