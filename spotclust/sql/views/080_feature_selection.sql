-- feature_selection: every candidate feature, whether it is in the default clustering set, and why (grain: one row per feature)
-- The default set is the 12 features of the original analysis, so results stay comparable.
CREATE OR REPLACE VIEW feature_selection AS
WITH candidates (feature, position, in_default, reason) AS (
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

strongest AS (
    -- for each feature, the default feature it correlates with most (by |r|)
    SELECT
        c.feature_a AS feature,
        arg_max(c.feature_b, abs(c.r)) AS most_correlated_with,
        arg_max(c.r, abs(c.r)) AS r
    FROM feature_correlations AS c
    JOIN candidates AS d ON d.feature = c.feature_b AND d.in_default
    WHERE c.feature_a <> c.feature_b
    GROUP BY ALL
),

final AS (
    SELECT
        c.feature,
        c.in_default,
        s.most_correlated_with,
        round(s.r, 4) AS r,
        CASE
            WHEN c.in_default THEN c.reason
            WHEN s.r IS NOT NULL AND abs(s.r) >= 0.4
                THEN c.reason || ' (' || s.most_correlated_with || ', r = ' || round(s.r, 2) || ')'
            ELSE c.reason
        END AS reason,
        c.position
    FROM candidates AS c
    LEFT JOIN strongest AS s USING (feature)
)

SELECT * EXCLUDE (position) FROM final
ORDER BY position
