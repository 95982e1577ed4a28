-- Per cluster of one run and feature: z (the scaled centroid: the members' mean in standard
-- deviations from the mean of all the run's rows), the raw mean, and the rank by |z| that
-- cluster_summary's distinctive_features (ranks 1 to 3) use.
SELECT
    z.run_id,
    z.cluster,
    z.dimension AS feature,
    z.value AS z,
    raw.value AS mean,
    row_number() OVER (PARTITION BY z.cluster ORDER BY abs(z.value) DESC, z.dimension) AS rank
FROM centroids AS z
LEFT JOIN centroids AS raw
    ON raw.run_id = z.run_id AND raw.cluster = z.cluster AND raw.dimension = z.dimension
    AND raw.space = 'original'
WHERE z.run_id = $run_id AND z.space = 'scaled'
ORDER BY z.cluster, rank
