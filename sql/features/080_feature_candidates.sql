-- feature_candidates: the numeric audio features a run can cluster on, and the default set (grain: one row per feature)
-- materialized: view
-- unique: feature
-- The default set is the 12 features of the original analysis, so results stay comparable,
-- less those this data does not have or never varies (available = false).
WITH listed (feature, position, in_original, reason) AS (
    VALUES
        ('popularity',       1, true,  'in the original analysis''s 12 features'),
        ('explicit',         2, true,  'in the original analysis''s 12 features'),
        ('danceability',     3, true,  'in the original analysis''s 12 features'),
        ('energy',           4, true,  'in the original analysis''s 12 features'),
        ('key',              5, true,  'in the original analysis''s 12 features'),
        ('mode',             6, true,  'in the original analysis''s 12 features'),
        ('speechiness',      7, true,  'in the original analysis''s 12 features'),
        ('acousticness',     8, true,  'in the original analysis''s 12 features'),
        ('instrumentalness', 9, true,  'in the original analysis''s 12 features'),
        ('liveness',        10, true,  'in the original analysis''s 12 features'),
        ('tempo',           11, true,  'in the original analysis''s 12 features'),
        ('time_signature',  12, true,  'in the original analysis''s 12 features'),
        ('loudness',        13, false, 'dropped: strongly correlated with a kept feature'),
        ('valence',         14, false, 'dropped: correlated with a kept feature'),
        ('duration_ms',     15, false, 'dropped: track length says little about how a track sounds')
),

varying AS (
    -- a feature the file does not have, or that never changes, has no correlation (NULL)
    SELECT feature_a AS feature FROM feature_correlations
    WHERE feature_a = feature_b AND r IS NOT NULL
),

final AS (
    SELECT
        feature,
        position,
        in_original AND feature IN (SELECT feature FROM varying) AS in_default,
        CASE
            WHEN feature NOT IN (SELECT feature FROM varying)
                THEN 'left out: absent from this data, or the same in every track'
            ELSE reason
        END AS reason,
        feature IN (SELECT feature FROM varying) AS available
    FROM listed
)

SELECT * FROM final
ORDER BY position
