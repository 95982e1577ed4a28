-- The $top most common genres of each cluster of run $run_id, from genre_breakdown.
SELECT 'cluster ' || cluster AS cluster, genre, tracks, share_of_cluster,
       share_of_genre, rank_in_cluster
FROM genre_breakdown
WHERE run_id = $run_id AND rank_in_cluster <= $top
ORDER BY cluster, rank_in_cluster
