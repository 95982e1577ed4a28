-- feature_correlations: Pearson r between every pair of numeric audio features over clean tracks (grain: one row per ordered feature pair, diagonal included)
-- One corr() pass per feature against all columns at once (COLUMNS(*)), then to long format.
-- Materialized as a table at ingest: 225 rows that charts and feature_selection read often.
CREATE OR REPLACE TABLE feature_correlations AS
WITH features AS (
    SELECT
        popularity::DOUBLE AS popularity,
        duration_ms::DOUBLE AS duration_ms,
        explicit::DOUBLE AS explicit,
        danceability,
        energy,
        "key"::DOUBLE AS "key",
        loudness,
        "mode"::DOUBLE AS "mode",
        speechiness,
        acousticness,
        instrumentalness,
        liveness,
        valence,
        tempo,
        time_signature::DOUBLE AS time_signature
    FROM tracks
),

wide AS (
              SELECT 'popularity' AS feature_a, corr(COLUMNS(*), popularity) FROM features
    UNION ALL SELECT 'duration_ms', corr(COLUMNS(*), duration_ms) FROM features
    UNION ALL SELECT 'explicit', corr(COLUMNS(*), explicit) FROM features
    UNION ALL SELECT 'danceability', corr(COLUMNS(*), danceability) FROM features
    UNION ALL SELECT 'energy', corr(COLUMNS(*), energy) FROM features
    UNION ALL SELECT 'key', corr(COLUMNS(*), "key") FROM features
    UNION ALL SELECT 'loudness', corr(COLUMNS(*), loudness) FROM features
    UNION ALL SELECT 'mode', corr(COLUMNS(*), "mode") FROM features
    UNION ALL SELECT 'speechiness', corr(COLUMNS(*), speechiness) FROM features
    UNION ALL SELECT 'acousticness', corr(COLUMNS(*), acousticness) FROM features
    UNION ALL SELECT 'instrumentalness', corr(COLUMNS(*), instrumentalness) FROM features
    UNION ALL SELECT 'liveness', corr(COLUMNS(*), liveness) FROM features
    UNION ALL SELECT 'valence', corr(COLUMNS(*), valence) FROM features
    UNION ALL SELECT 'tempo', corr(COLUMNS(*), tempo) FROM features
    UNION ALL SELECT 'time_signature', corr(COLUMNS(*), time_signature) FROM features
),

final AS (
    UNPIVOT wide ON COLUMNS(* EXCLUDE (feature_a)) INTO NAME feature_b VALUE r
)

SELECT * FROM final
ORDER BY feature_a, feature_b
