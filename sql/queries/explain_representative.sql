-- The $top tracks nearest each cluster's centroid.
SELECT cluster, track_id, artists, track_name, genre, distance FROM (
    SELECT a.cluster, a.track_id, t.artists, t.track_name, t.genre, a.distance,
           row_number() OVER (
               PARTITION BY a.cluster ORDER BY a.distance, a.row_number
           ) AS rank
    FROM assignments a JOIN tracks t USING (track_id)
    WHERE a.run_id = $run_id
) WHERE rank <= $top ORDER BY cluster, rank
