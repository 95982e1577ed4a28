-- The $top genres of each cluster of run $run_id that are most over-represented in it, by lift
-- (share of the cluster / share of all the run's genre listings, as `spotclust explain`),
-- among the genres with at least $min_tracks tracks in the cluster (fewer when the cluster has
-- no genre that large), with their share of the cluster.
WITH breakdown AS (
    SELECT * FROM genre_breakdown WHERE run_id = $run_id
),
overall AS (
    SELECT genre, sum(tracks) / sum(sum(tracks)) OVER () AS overall_share
    FROM breakdown GROUP BY genre
),
lifted AS (
    SELECT b.cluster, b.genre, b.tracks, b.share_of_cluster, b.share_of_genre,
           o.overall_share, b.share_of_cluster / o.overall_share AS lift,
           b.rank_in_cluster AS rank_by_share,
           max(b.tracks) OVER (PARTITION BY b.cluster) AS largest
    FROM breakdown AS b JOIN overall AS o USING (genre)
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY cluster ORDER BY lift DESC, genre)
        AS rank_in_cluster
    FROM lifted
    WHERE tracks >= least($min_tracks, largest)
)
SELECT cluster, genre, tracks, share_of_cluster, share_of_genre, overall_share, lift,
       rank_by_share, rank_in_cluster
FROM ranked
WHERE rank_in_cluster <= $top
ORDER BY cluster, rank_in_cluster
