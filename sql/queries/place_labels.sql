-- A run's cluster names.
SELECT cluster, label FROM cluster_labels WHERE run_id = $run_id
