-- track_genres: every genre each clean track is listed under (grain: one row per track and genre)
-- materialized: table
-- unique: track_id, genre
-- Materialized as a table at ingest: every genre breakdown joins it.
WITH listings AS (
    SELECT track_id, genre FROM valid_rows WHERE genre IS NOT NULL
    UNION ALL
    -- a playlist export lists every genre of a track in one row
    SELECT track_id, unnest(genre_list) AS genre FROM valid_rows WHERE genre_list IS NOT NULL
),

final AS (
    SELECT DISTINCT track_id, genre FROM listings
)

SELECT * FROM final
