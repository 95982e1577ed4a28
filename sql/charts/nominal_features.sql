-- Per cluster of run $run_id, how its tracks spread over the values of each nominal feature
-- (key, mode, time_signature: categories coded as numbers, so shares, never means): tracks,
-- share of the cluster, and the share of all the run's tracks for comparison. Labels in words:
-- key 0..11 as C..B (-1: none detected), mode as minor/major, time_signature as 3/4..7/4.
-- The tracks are counted per combination of the three first (a few hundred rows), then
-- unpivoted.
WITH combinations AS (
    SELECT a.cluster, t."key", t."mode", t.time_signature, count(*) AS tracks
    FROM assignments AS a JOIN tracks AS t USING (track_id)
    WHERE a.run_id = $run_id
    GROUP BY ALL
),
long AS (
    UNPIVOT combinations ON "key", "mode", time_signature INTO NAME feature VALUE value
),
counts AS (
    SELECT cluster, feature, value, sum(tracks)::BIGINT AS tracks FROM long GROUP BY ALL
)
SELECT
    cluster,
    feature,
    value,
    CASE feature
        WHEN 'key' THEN CASE WHEN value BETWEEN 0 AND 11
            THEN ['C', 'C♯', 'D', 'D♯', 'E', 'F', 'F♯', 'G', 'G♯', 'A', 'A♯', 'B'][value + 1]
            ELSE 'none' END
        WHEN 'mode' THEN CASE value WHEN 0 THEN 'minor' WHEN 1 THEN 'major' END
        ELSE value || '/4'
    END AS value_label,
    tracks,
    tracks / sum(tracks) OVER (PARTITION BY cluster, feature) AS share,
    sum(tracks) OVER (PARTITION BY feature, value)
        / sum(tracks) OVER (PARTITION BY feature) AS overall_share
FROM counts
ORDER BY feature, cluster, value
