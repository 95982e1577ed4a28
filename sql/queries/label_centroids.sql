-- A run's centroids in scaled units (z-scores), for naming its clusters.
SELECT cluster, dimension, value FROM centroids
WHERE run_id = $run_id AND space = 'scaled'
