-- Each cluster's top genres by tracks, for its name.
SELECT cluster, list(genre ORDER BY rank_in_cluster)
FROM genre_breakdown WHERE run_id = $run_id AND rank_in_cluster <= $top
GROUP BY cluster
