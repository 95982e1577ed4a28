-- Each cluster of run $run_id with its size, share and name, for the index page: as
-- cluster_summary counts them, without reading its genres.
WITH sizes AS (
    SELECT cluster, count(*) AS size FROM assignments WHERE run_id = $run_id GROUP BY cluster
)
SELECT s.cluster, s.size, s.size / sum(s.size) OVER () AS share, l.label
FROM sizes AS s
LEFT JOIN cluster_labels AS l ON l.run_id = $run_id AND l.cluster = s.cluster
ORDER BY s.cluster
