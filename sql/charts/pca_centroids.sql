-- Each cluster's centroid on the PCA map of run $run_id: mean pc1, pc2 of its tracks.
SELECT cluster, avg(pc1) AS pc1, avg(pc2) AS pc2,
       count(*) AS tracks
FROM assignments
WHERE run_id = $run_id
GROUP BY cluster
ORDER BY cluster
