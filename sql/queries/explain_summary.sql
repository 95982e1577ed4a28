-- Each cluster's label, size and share.
SELECT s.cluster, coalesce(l.label, ''), s.size, s.share
FROM cluster_summary s LEFT JOIN cluster_labels l USING (run_id, cluster)
WHERE s.run_id = $run_id ORDER BY s.cluster
