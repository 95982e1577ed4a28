-- The per-sample silhouette plot of run $run_id: each cluster's s(i) sorted from highest to
-- lowest, cut into at most $bins bands per cluster (one band per track when fewer), one row
-- per band: its mean, lowest and highest s(i) and its place [y0, y1) on a vertical axis that
-- stacks the clusters in order, each as tall as its scored tracks, $gap of the total apart.
-- Each cluster's values are sorted as one list (list_sort), then numbered as they unnest.
WITH scored AS (
    SELECT a.cluster, v.silhouette
    FROM silhouette_values AS v
    JOIN assignments AS a USING (run_id, row_number)
    WHERE v.run_id = $run_id
),
sorted AS (
    SELECT
        cluster,
        list_sort(list(silhouette), 'DESC', 'NULLS LAST') AS values,
        count(*) AS n,
        avg(silhouette) AS cluster_mean
    FROM scored
    GROUP BY cluster
),
ranked AS (
    SELECT cluster, n, cluster_mean, unnest(values) AS silhouette, unnest(range(n)) AS rank
    FROM sorted
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
    FROM sorted
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
