-- feature_selection: every candidate feature, whether it is in the default clustering set, and why (grain: one row per feature)
-- materialized: view
-- unique: feature
-- Candidates and the default set come from feature_candidates; this adds the evidence.
WITH candidates AS (
    SELECT * FROM feature_candidates
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
