-- The per-sample silhouette plot of run $run_id: each cluster's s(i) sorted from highest to
-- lowest, cut into at most $bins bands per cluster (one band per track when fewer), one row
-- per band: its mean, lowest and highest s(i) and its place [y0, y1) on a vertical axis that
-- stacks the clusters in order, each as tall as its scored tracks, $gap of the total apart.
WITH scored AS (
    SELECT a.cluster, v.silhouette
    FROM silhouette_values AS v
    JOIN assignments AS a USING (run_id, row_number)
    WHERE v.run_id = $run_id
),
ranked AS (
    SELECT
        cluster,
        silhouette,
        row_number() OVER (PARTITION BY cluster ORDER BY silhouette DESC) - 1 AS rank,
        count(*) OVER (PARTITION BY cluster) AS n,
        avg(silhouette) OVER (PARTITION BY cluster) AS cluster_mean
    FROM scored
),
bands AS (
    SELECT
        cluster,
        (rank * least(n, $bins) // n) AS band,
        min(rank) AS first,
        max(rank) + 1 AS last,
        avg(silhouette) AS silhouette,
        min(silhouette) AS lowest,
        max(silhouette) AS highest,
        any_value(n) AS n,
        any_value(cluster_mean) AS cluster_mean
    FROM ranked
    GROUP BY cluster, band
),
stacks AS (
    SELECT
        cluster,
        sum(n) OVER (ORDER BY cluster ROWS UNBOUNDED PRECEDING) - n
            + (row_number() OVER (ORDER BY cluster) - 1)
              * ceil(sum(n) OVER () * $gap) AS offset
    FROM (SELECT cluster, count(*) AS n FROM scored GROUP BY cluster)
)
SELECT
    b.cluster,
    CAST(s.offset + b.first AS BIGINT) AS y0,
    CAST(s.offset + b.last AS BIGINT) AS y1,
    b.silhouette,
    b.lowest,
    b.highest,
    b.last - b.first AS tracks,
    b.n AS cluster_tracks,
    b.cluster_mean
FROM bands AS b JOIN stacks AS s USING (cluster)
ORDER BY b.cluster, b.band
