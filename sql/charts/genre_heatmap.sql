-- Every genre x cluster of run $run_id (zeros included), genres ordered by the cluster that
-- holds most of their tracks (main_cluster), so that blocks show; lift: the genre's share of
-- the cluster over its share of all the run's genre listings (1 = as common as overall).
WITH breakdown AS (
    SELECT * FROM genre_breakdown WHERE run_id = $run_id
),
genres AS (
    SELECT
        genre,
        first(cluster ORDER BY share_of_genre DESC, cluster) AS main_cluster,
        max(share_of_genre) AS main_share,
        sum(tracks) / sum(sum(tracks)) OVER () AS overall_share
    FROM breakdown
    GROUP BY genre
),
clusters AS (
    SELECT range AS cluster FROM range((SELECT k FROM runs WHERE run_id = $run_id))
)
SELECT
    g.genre,
    c.cluster,
    coalesce(b.tracks, 0) AS tracks,
    coalesce(b.share_of_genre, 0) AS share_of_genre,
    coalesce(b.share_of_cluster, 0) AS share_of_cluster,
    coalesce(b.share_of_cluster, 0) / g.overall_share AS lift,
    g.main_cluster,
    dense_rank() OVER (ORDER BY g.main_cluster, g.main_share DESC, g.genre)
        AS genre_order
FROM genres AS g
CROSS JOIN clusters AS c
LEFT JOIN breakdown AS b ON b.genre = g.genre AND b.cluster = c.cluster
ORDER BY genre_order, c.cluster
