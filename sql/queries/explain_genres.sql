-- Each cluster's genres with their share of the cluster and lift (share / overall share).
WITH overall AS (
    SELECT genre, sum(tracks) / sum(sum(tracks)) OVER () AS overall_share
    FROM genre_breakdown WHERE run_id = $run_id GROUP BY genre
)
SELECT b.cluster, b.genre, b.tracks, b.share_of_cluster,
       b.share_of_cluster / o.overall_share AS lift
FROM genre_breakdown b JOIN overall o USING (genre)
WHERE b.run_id = $run_id
