-- The runs a warehouse holds, oldest first: what `spotclust runs` lists.
SELECT run_id, status, k, features, silhouette, rows_used, created_at
FROM runs
ORDER BY run_id
