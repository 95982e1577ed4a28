-- Each cluster of run $run_id with its size, share and name, for the index page.
SELECT cluster, size, share, label FROM cluster_summary WHERE run_id = $run_id
ORDER BY cluster
