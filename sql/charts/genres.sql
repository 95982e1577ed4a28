-- Every genre x cluster of run $run_id (zeros included), genre_breakdown read once for the
-- three charts that show genres: tracks, the genre's share of the cluster and the cluster's
-- share of the genre, lift (its share of the cluster over its share of all the run's genre
-- listings; 1 = as common as overall), the cluster holding most of the genre (main_cluster)
-- and the genres' order by it (genre_order: blocks on the heatmap); and two ranks within the
-- cluster: by tracks (rank_by_share: genre_breakdown's, whose first three are
-- cluster_summary's top genres), and by lift (rank_in_cluster: the top genres chart's) among
-- the genres with at least $min_tracks tracks in the cluster (fewer when it has no genre
-- that large; others: NULL).
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
),
grid AS (
    SELECT
        g.genre,
        c.cluster,
        coalesce(b.tracks, 0) AS tracks,
        coalesce(b.share_of_genre, 0) AS share_of_genre,
        coalesce(b.share_of_cluster, 0) AS share_of_cluster,
        g.overall_share,
        coalesce(b.share_of_cluster, 0) / g.overall_share AS lift,
        g.main_cluster,
        dense_rank() OVER (ORDER BY g.main_cluster, g.main_share DESC, g.genre)
            AS genre_order,
        b.rank_in_cluster AS rank_by_share,
        b.tracks >= least($min_tracks, max(b.tracks) OVER (PARTITION BY c.cluster))
            AS rankable
    FROM genres AS g
    CROSS JOIN clusters AS c
    LEFT JOIN breakdown AS b ON b.genre = g.genre AND b.cluster = c.cluster
)
SELECT
    * EXCLUDE (rankable),
    CASE WHEN rankable THEN
        row_number() OVER (PARTITION BY cluster, rankable ORDER BY lift DESC, genre)
    END AS rank_in_cluster
FROM grid
ORDER BY genre_order, cluster
