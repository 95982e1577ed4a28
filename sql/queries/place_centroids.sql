-- A run's k-means centres in the space it clustered in.
SELECT cluster, dimension, value FROM centroids
WHERE run_id = $run_id AND space = 'model'
