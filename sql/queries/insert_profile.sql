-- The per-cluster describe() of one feature of profile_rows. One feature at a time: exact
-- quartiles must hold a feature's values for the whole run (80 MB at 10M rows), and all 15
-- at once would not fit DuckDB's memory budget. {feature} comes from features.AUDIO_FEATURES.
INSERT INTO cluster_profiles
SELECT $run_id, cluster, $feature, $in_model, n, mean, std, lo, q[1], q[2], q[3], hi
FROM (
    SELECT cluster, count(value) AS n, avg(value) AS mean, stddev_samp(value) AS std,
           min(value) AS lo, quantile_cont(value, [0.25, 0.5, 0.75]) AS q,
           max(value) AS hi
    FROM (SELECT cluster, "{feature}" AS value FROM profile_rows)
    GROUP BY cluster
)
