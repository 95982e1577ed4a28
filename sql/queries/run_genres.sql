-- The genre_breakdown rows of one run: each cluster's genres, most common first.
SELECT * FROM genre_breakdown WHERE run_id = $run_id ORDER BY cluster, rank_in_cluster
