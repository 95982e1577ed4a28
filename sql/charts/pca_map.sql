-- The tracks of run $run_id counted on a $bins x $bins grid over (pc1, pc2): one row per
-- non-empty bin with its edges, its tracks, its most common cluster, that cluster's share
-- and the count of every cluster in it ("mix").
WITH points AS (
    SELECT cluster, pc1, pc2 FROM assignments
    WHERE run_id = $run_id AND pc1 IS NOT NULL AND pc2 IS NOT NULL
),
extent AS (
    SELECT
        min(pc1) AS x_min,
        min(pc2) AS y_min,
        greatest(max(pc1) - min(pc1), 1e-9) / $bins AS x_step,
        greatest(max(pc2) - min(pc2), 1e-9) / $bins AS y_step
    FROM points
),
binned AS (
    SELECT
        least(floor((pc1 - x_min) / x_step), $bins - 1) AS bin_x,
        least(floor((pc2 - y_min) / y_step), $bins - 1) AS bin_y,
        cluster
    FROM points, extent
),
per_cluster AS (
    SELECT bin_x, bin_y, cluster, count(*) AS tracks FROM binned GROUP BY ALL
),
per_bin AS (
    SELECT
        bin_x,
        bin_y,
        sum(tracks)::BIGINT AS tracks,
        first(cluster ORDER BY tracks DESC, cluster) AS cluster,
        max(tracks) AS cluster_tracks,
        string_agg('cluster ' || cluster || ': ' || tracks, ', '
                   ORDER BY tracks DESC, cluster) AS mix
    FROM per_cluster
    GROUP BY ALL
)
SELECT
    round(x_min + bin_x * x_step, 4) AS x0,
    round(x_min + (bin_x + 1) * x_step, 4) AS x1,
    round(y_min + bin_y * y_step, 4) AS y0,
    round(y_min + (bin_y + 1) * y_step, 4) AS y1,
    tracks,
    cluster,
    round(cluster_tracks / tracks, 4) AS cluster_share,
    mix
FROM per_bin, extent
ORDER BY bin_x, bin_y
