-- The distance of every row of a run to its cluster's centre, by cluster and distance: a
-- placed song's typicality is the share of its cluster's rows further from the centre.
SELECT cluster, distance FROM assignments
WHERE run_id = $run_id
ORDER BY cluster, distance
