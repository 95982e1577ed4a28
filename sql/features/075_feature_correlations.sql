-- feature_correlations: Pearson r between every pair of numeric audio features over clean tracks (grain: one row per ordered feature pair, diagonal included)
-- materialized: table
-- unique: feature_a, feature_b
-- Two scans whatever the number of features: the means, then the sums of products of
-- centred values for every pair (COLUMNS names each one 'a:b'); r = s_ab / sqrt(s_aa s_bb).
-- Centring first keeps the sums exact enough (to ~1e-12 of corr()) even for duration_ms.
-- Materialized as a table at ingest: 225 rows that charts and feature_selection read often.
WITH features AS NOT MATERIALIZED (
    -- recomputed per scan rather than stored: a stored copy spills at 10M rows
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

means AS (
    SELECT avg(COLUMNS('(.*)')) AS 'mean_\1' FROM features
),

centred AS (
    SELECT
        popularity - mean_popularity AS popularity,
        duration_ms - mean_duration_ms AS duration_ms,
        explicit - mean_explicit AS explicit,
        danceability - mean_danceability AS danceability,
        energy - mean_energy AS energy,
        "key" - mean_key AS "key",
        loudness - mean_loudness AS loudness,
        "mode" - mean_mode AS "mode",
        speechiness - mean_speechiness AS speechiness,
        acousticness - mean_acousticness AS acousticness,
        instrumentalness - mean_instrumentalness AS instrumentalness,
        liveness - mean_liveness AS liveness,
        valence - mean_valence AS valence,
        tempo - mean_tempo AS tempo,
        time_signature - mean_time_signature AS time_signature
    FROM features, means
),

products AS (
    SELECT
        sum(COLUMNS('(.*)') * popularity) AS 'popularity:\1',
        sum(COLUMNS('(.*)') * duration_ms) AS 'duration_ms:\1',
        sum(COLUMNS('(.*)') * explicit) AS 'explicit:\1',
        sum(COLUMNS('(.*)') * danceability) AS 'danceability:\1',
        sum(COLUMNS('(.*)') * energy) AS 'energy:\1',
        sum(COLUMNS('(.*)') * "key") AS 'key:\1',
        sum(COLUMNS('(.*)') * loudness) AS 'loudness:\1',
        sum(COLUMNS('(.*)') * "mode") AS 'mode:\1',
        sum(COLUMNS('(.*)') * speechiness) AS 'speechiness:\1',
        sum(COLUMNS('(.*)') * acousticness) AS 'acousticness:\1',
        sum(COLUMNS('(.*)') * instrumentalness) AS 'instrumentalness:\1',
        sum(COLUMNS('(.*)') * liveness) AS 'liveness:\1',
        sum(COLUMNS('(.*)') * valence) AS 'valence:\1',
        sum(COLUMNS('(.*)') * tempo) AS 'tempo:\1',
        sum(COLUMNS('(.*)') * time_signature) AS 'time_signature:\1'
    FROM centred
),

pairs AS (
    SELECT split_part(pair, ':', 1) AS feature_a, split_part(pair, ':', 2) AS feature_b, s
    FROM (UNPIVOT products ON COLUMNS(*) INTO NAME pair VALUE s)
),

final AS (
    SELECT
        pairs.feature_a,
        pairs.feature_b,
        -- a constant feature has no correlation: NULL (corr() gives NaN, which DuckDB
        -- sorts above every number, so it would win feature_selection's arg_max)
        CASE WHEN a.s > 0 AND b.s > 0 THEN pairs.s / sqrt(a.s * b.s) END AS r
    FROM pairs
    JOIN pairs AS a ON a.feature_a = pairs.feature_a AND a.feature_b = pairs.feature_a
    JOIN pairs AS b ON b.feature_a = pairs.feature_b AND b.feature_b = pairs.feature_b
)

SELECT * FROM final
ORDER BY feature_a, feature_b
