-- Per cluster and feature of run $run_id: the 5th, 25th, 50th, 75th and 95th percentiles of
-- the raw values of its tracks (quantile_cont), in units a listener knows: duration in
-- minutes, loudness in dB, tempo in BPM, popularity 0..100, the others 0..1 as they are.
-- Each feature's percentiles are taken per cluster (one column each), then the few rows of
-- the result unpivoted: a feature per row.
WITH members AS (
    SELECT
        a.cluster, r.popularity, r.duration_ms / 60000.0 AS duration_min, r.danceability,
        r.energy, r.loudness, r.speechiness, r.acousticness, r.instrumentalness, r.liveness,
        r.valence, r.tempo
    FROM assignments AS a JOIN raw_tracks AS r USING (row_number)
    WHERE a.run_id = $run_id
),
per_cluster AS (
    SELECT
        cluster,
        struct_pack(
            tracks := count(COLUMNS(* EXCLUDE (cluster))),
            q := quantile_cont(COLUMNS(* EXCLUDE (cluster)), [0.05, 0.25, 0.5, 0.75, 0.95])
        )
    FROM members
    GROUP BY cluster
),
long AS (
    UNPIVOT per_cluster ON COLUMNS(* EXCLUDE (cluster)) INTO NAME feature VALUE stats
)
SELECT
    cluster, feature, stats.tracks AS tracks,
    stats.q[1] AS p05, stats.q[2] AS p25, stats.q[3] AS p50, stats.q[4] AS p75, stats.q[5] AS p95
FROM long
ORDER BY feature, cluster
