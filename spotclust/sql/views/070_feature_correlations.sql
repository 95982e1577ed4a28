-- feature_correlations: Pearson r between every pair of numeric audio features over clean tracks (grain: one row per ordered feature pair, diagonal included)
CREATE OR REPLACE VIEW feature_correlations AS
WITH long AS (
    UNPIVOT (
        SELECT
            track_id,
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
    )
    ON COLUMNS(* EXCLUDE (track_id))
    INTO NAME feature VALUE value
),

final AS (
    SELECT
        a.feature AS feature_a,
        b.feature AS feature_b,
        corr(a.value, b.value) AS r
    FROM long AS a
    JOIN long AS b USING (track_id)
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY feature_a, feature_b
