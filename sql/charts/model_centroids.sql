-- The k-means centres of run $run_id in the space it clustered in (one row per cluster and
-- dimension), with each cluster's tracks: for the inter-cluster distance map.
WITH sizes AS (
    SELECT cluster, count(*) AS tracks FROM assignments WHERE run_id = $run_id GROUP BY cluster
)
SELECT c.cluster, c.dimension, c.value, s.tracks
FROM centroids AS c JOIN sizes AS s USING (cluster)
WHERE c.run_id = $run_id AND c.space = 'model'
ORDER BY c.cluster, c.dimension
