-- Per cluster of run $run_id, how its tracks spread over the values of each nominal feature
-- (key, mode, time_signature: categories coded as numbers, so shares, never means): tracks,
-- share of the cluster, and the share of all the run's tracks for comparison. Labels in words:
-- key 0..11 as C..B (-1: none detected), mode as minor/major, time_signature as 3/4..7/4.
-- The tracks are counted per combination of the three first (a few hundred rows), then
-- unpivoted. Each row's values are read by its row number, as the run read them (a join
-- on row_number, not on the track_id text): whole numbers in every clean row, made integers
-- as valid_rows makes them.
WITH combinations AS (
    SELECT
        a.cluster,
        CAST(r."key" AS INTEGER) AS "key",
        CAST(r."mode" AS INTEGER) AS "mode",
        CAST(r.time_signature AS INTEGER) AS time_signature,
        count(*) AS tracks
    FROM assignments AS a JOIN raw_tracks AS r USING (row_number)
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
