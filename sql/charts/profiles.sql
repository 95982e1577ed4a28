-- Per cluster and feature of run $run_id: raw mean, and the mean standardised against all
-- the run's rows (z). The overall mean and (population) standard deviation are pooled from
-- the per-cluster counts, means and standard deviations of cluster_profiles, so for the
-- features the run clustered on, z equals the 'scaled' centroid.
WITH profiles AS (
    SELECT * FROM cluster_profiles WHERE run_id = $run_id
),
overall AS (
    SELECT feature, sum(count * mean) / sum(count) AS overall_mean, sum(count) AS n
    FROM profiles
    GROUP BY feature
),
spread AS (
    SELECT
        p.feature,
        sqrt(sum((p.count - 1) * coalesce(p.std, 0) ^ 2
                 + p.count * (p.mean - o.overall_mean) ^ 2) / any_value(o.n))
            AS overall_std
    FROM profiles AS p JOIN overall AS o USING (feature)
    GROUP BY p.feature
)
SELECT
    p.cluster,
    p.feature,
    p.feature || CASE WHEN p.in_model THEN '' ELSE ' (not clustered)' END AS label,
    p.in_model,
    coalesce(c.position, 99) AS position,
    (p.mean - o.overall_mean) / nullif(s.overall_std, 0) AS z,
    p.mean,
    p.std,
    p.p50 AS median,
    o.overall_mean,
    s.overall_std
FROM profiles AS p
JOIN overall AS o USING (feature)
JOIN spread AS s USING (feature)
LEFT JOIN feature_candidates AS c USING (feature)
ORDER BY p.cluster, position
