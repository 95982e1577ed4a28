-- Every k of a sweep (the latest unless $sweep_id) with its scores and marks (no rows when
-- there is no sweep).
SELECT sweep_id, k, inertia, silhouette, silhouette_method, calinski_harabasz,
       davies_bouldin, is_knee, is_best_silhouette, rows_used
FROM sweeps
WHERE sweep_id = coalesce($sweep_id, (SELECT max(sweep_id) FROM sweeps))
ORDER BY k
