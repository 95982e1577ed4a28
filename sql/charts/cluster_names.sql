-- The generated name of each cluster of run $run_id (cluster_labels): its traits and genres.
SELECT cluster, traits, genres FROM cluster_labels WHERE run_id = $run_id ORDER BY cluster
