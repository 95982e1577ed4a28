-- The cluster_profiles rows of one run (describe() per cluster and feature), in cluster order.
SELECT * FROM cluster_profiles WHERE run_id = $run_id ORDER BY cluster, feature
