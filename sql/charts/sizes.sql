-- cluster_summary of run $run_id: each cluster's size, share, top genres and distinctive
-- features.
SELECT
    cluster,
    size AS tracks,
    share,
    array_to_string(top_genres, ', ') AS top_genres,
    distinctive_features
FROM cluster_summary
WHERE run_id = $run_id
ORDER BY cluster
