-- tracks: one clean row per track_id, its first valid listing in file order (grain: one row per track)
-- materialized: table
-- unique: track_id
-- A track listed under several genres has identical audio features in every listing (only
-- popularity can differ); we keep the first listing's values and count its genres.
-- Materialized as a table at ingest: every clustering run reads it.
WITH listings AS NOT MATERIALIZED (
    -- read twice: a stored copy of 10M rows would spill to disk
    SELECT * FROM valid_rows
),

genre_firsts AS (
    -- each track's first listing under each genre; counting these rows per track counts
    -- its genres, which is cheaper than min() and count(DISTINCT) side by side (DuckDB
    -- would group the rows twice)
    SELECT track_id, genre, min(row_number) AS row_number
    FROM listings
    GROUP BY track_id, genre
),

firsts AS (
    SELECT
        track_id,
        min(row_number) AS row_number,
        count(*) AS genre_count
    FROM genre_firsts
    GROUP BY track_id
),

final AS (
    SELECT listings.*, firsts.genre_count
    FROM listings
    JOIN firsts ON listings.row_number = firsts.row_number
)

SELECT * FROM final
