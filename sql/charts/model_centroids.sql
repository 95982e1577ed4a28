-- The k-means centres of run $run_id in the space it clustered in (one row per cluster and
-- dimension), with each cluster's tracks: for the inter-cluster distance map.
SELECT c.cluster, c.dimension, c.value, s.size AS tracks
FROM centroids AS c JOIN cluster_summary AS s USING (run_id, cluster)
WHERE c.run_id = $run_id AND c.space = 'model'
ORDER BY c.cluster, c.dimension
