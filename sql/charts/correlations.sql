-- feature_correlations with each feature's position and whether run $run_id clustered on it,
-- and the reason feature_selection gives for keeping or dropping it.
WITH run AS (
    SELECT features FROM runs WHERE run_id = $run_id
),
candidates AS (
    SELECT c.feature, c.position, list_contains(run.features, c.feature) AS in_run
    FROM feature_candidates AS c, run
)
SELECT
    corr.feature_a, corr.feature_b, corr.r,
    a.position AS position_a, b.position AS position_b,
    a.in_run AS in_run_a, b.in_run AS in_run_b,
    sel.reason
FROM feature_correlations AS corr
JOIN candidates AS a ON a.feature = corr.feature_a
JOIN candidates AS b ON b.feature = corr.feature_b
LEFT JOIN feature_selection AS sel ON sel.feature = corr.feature_a
ORDER BY position_a, position_b
