-- genre_breakdown: tracks of each genre in each cluster, with shares and rank (grain: run x cluster x genre)
-- materialized: view
-- unique: run_id, cluster, genre
-- A track listed under several genres counts once for each of them (through track_genres),
-- so share_of_cluster is a share of the cluster's genre listings and adds up to 1 per cluster;
-- share_of_genre is the share of the genre's tracks in this cluster and adds up to 1 per genre.
-- The counts are cluster_genres', made when the run was written (queries/insert_cluster_genres.sql).
-- Only runs that runs holds: the rows of a run deleted by hand are not shown.
WITH counts AS (
    SELECT run_id, cluster, genre, tracks FROM cluster_genres
    WHERE run_id IN (SELECT run_id FROM runs)
),

final AS (
    SELECT
        run_id,
        cluster,
        genre,
        tracks,
        tracks / sum(tracks) OVER (PARTITION BY run_id, cluster) AS share_of_cluster,
        tracks / sum(tracks) OVER (PARTITION BY run_id, genre) AS share_of_genre,
        row_number() OVER (
            PARTITION BY run_id, cluster ORDER BY tracks DESC, genre
        ) AS rank_in_cluster
    FROM counts
)

SELECT * FROM final
