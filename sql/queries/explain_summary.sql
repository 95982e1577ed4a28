-- Each cluster's label, size and share, counted as cluster_summary counts them (without
-- reading its genres).
WITH sizes AS (
    SELECT cluster, count(*) AS size FROM assignments WHERE run_id = $run_id GROUP BY cluster
)
SELECT s.cluster, coalesce(l.label, ''), s.size, s.size / sum(s.size) OVER () AS share
FROM sizes AS s
LEFT JOIN cluster_labels AS l ON l.run_id = $run_id AND l.cluster = s.cluster
ORDER BY s.cluster
