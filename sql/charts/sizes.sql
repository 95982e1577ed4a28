-- Each cluster of run $run_id: its tracks, share and distinctive features, as
-- cluster_summary has them (its definition, the one there is: the three features whose
-- scaled centroid, in standard deviations from the mean of all the run's rows, is furthest
-- from 0). The sizes chart takes the top genres from the genres query (charts/data.py).
SELECT cluster, size AS tracks, share, distinctive_features
FROM cluster_summary
WHERE run_id = $run_id
ORDER BY cluster
