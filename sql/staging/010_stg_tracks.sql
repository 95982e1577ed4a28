-- stg_tracks: raw_tracks renamed and cast for analysis, nothing removed (grain: one row per file row)
-- materialized: view
-- unique: row_number
-- The whole-number columns (popularity, duration_ms, key, mode, time_signature) stay DOUBLE
-- here, fractions and all, for the row checks to see them; valid_rows makes them integers.
WITH source AS (
    SELECT * FROM raw_tracks
),

final AS (
    SELECT
        row_number,
        track_id,
        artists,
        album_name,
        track_name,
        track_genre AS genre,
        popularity,
        duration_ms,
        CAST(explicit AS INTEGER) AS explicit,
        danceability,
        energy,
        "key",
        loudness,
        "mode",
        speechiness,
        acousticness,
        instrumentalness,
        liveness,
        valence,
        tempo,
        time_signature,
        genre_list
    FROM source
)

SELECT * FROM final
