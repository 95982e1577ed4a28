-- The $top tracks nearest each cluster's centroid (ties: the earlier row first). The nearest
-- rows are picked from the run's assignments alone (min_by, no sort or window over all of
-- them); only those few are joined with their tracks.
WITH nearest AS (
    SELECT unnest(min_by(row_number, (distance, row_number), $top)) AS row_number
    FROM assignments
    WHERE run_id = $run_id
    GROUP BY cluster
),
chosen AS (
    SELECT cluster, track_id, distance, row_number
    FROM assignments
    WHERE run_id = $run_id AND row_number IN (SELECT row_number FROM nearest)
)
SELECT c.cluster, c.track_id, t.artists, t.track_name, t.genre, c.distance
FROM chosen AS c JOIN tracks AS t USING (track_id)
ORDER BY c.cluster, c.distance, c.row_number
