-- The contingency table of two runs over their common tracks.
-- One cluster per track and run. A `--rows listings` run has a row per genre listing, and
-- the listings of a track can differ (in popularity), so in cluster too: a track counts
-- with the cluster of its first listing in file order, the listing `tracks` keeps.
WITH track_a AS (
    SELECT track_id, arg_min(cluster, row_number) AS cluster
    FROM assignments WHERE run_id = $run_a GROUP BY track_id
),
track_b AS (
    SELECT track_id, arg_min(cluster, row_number) AS cluster
    FROM assignments WHERE run_id = $run_b GROUP BY track_id
),
cells AS (
    SELECT a.cluster AS cluster_a, b.cluster AS cluster_b, count(*) AS tracks
    FROM track_a AS a JOIN track_b AS b USING (track_id)
    GROUP BY ALL
)
SELECT
    cluster_a,
    cluster_b,
    tracks,
    tracks / sum(tracks) OVER (PARTITION BY cluster_a) AS share_of_a,
    tracks / sum(tracks) OVER (PARTITION BY cluster_b) AS share_of_b
FROM cells
ORDER BY cluster_a, cluster_b
