-- The cluster_summary rows of one run, in cluster order.
SELECT * FROM cluster_summary WHERE run_id = $run_id ORDER BY cluster
