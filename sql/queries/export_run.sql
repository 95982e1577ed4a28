-- A run's assignments with each track's details, genres and cluster label, for export.
-- {label_column} and {label_join}: the cluster_labels join when that table exists (warehouses
-- from before it have none). Only fixed SQL goes into them; the run id is bound.
WITH genres AS (
    SELECT track_id, list(genre ORDER BY genre) AS genres FROM track_genres GROUP BY track_id
)
SELECT
    a.run_id, a.track_id, a.row_number, a.cluster, {label_column} AS cluster_label,
    a.pc1, a.pc2, a.distance,
    v.artists, v.album_name, v.track_name, v.genre, g.genres,
    v.popularity, v.duration_ms, v.explicit, v.danceability, v.energy, v."key", v.loudness,
    v."mode", v.speechiness, v.acousticness, v.instrumentalness, v.liveness, v.valence,
    v.tempo, v.time_signature
FROM assignments AS a
JOIN valid_rows AS v USING (row_number)
LEFT JOIN genres AS g ON g.track_id = a.track_id
{label_join}
WHERE a.run_id = $run_id
ORDER BY a.row_number
