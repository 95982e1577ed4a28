-- Per cluster and feature of run $run_id: the 5th, 25th, 50th, 75th and 95th percentiles of
-- the raw values of its tracks (quantile_cont), in units a listener knows: duration in
-- minutes, loudness in dB, tempo in BPM, popularity 0..100, the others 0..1 as they are.
WITH long AS (
    UNPIVOT (
        SELECT
            a.cluster, r.popularity, r.duration_ms / 60000.0 AS duration_min, r.danceability,
            r.energy, r.loudness, r.speechiness, r.acousticness, r.instrumentalness,
            r.liveness, r.valence, r.tempo
        FROM assignments AS a JOIN raw_tracks AS r USING (row_number)
        WHERE a.run_id = $run_id
    )
    ON COLUMNS(* EXCLUDE (cluster)) INTO NAME feature VALUE value
)
SELECT cluster, feature, tracks, q[1] AS p05, q[2] AS p25, q[3] AS p50, q[4] AS p75, q[5] AS p95
FROM (
    SELECT cluster, feature, count(value) AS tracks,
           quantile_cont(value, [0.05, 0.25, 0.5, 0.75, 0.95]) AS q
    FROM long
    GROUP BY cluster, feature
)
ORDER BY feature, cluster
