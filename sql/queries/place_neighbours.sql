-- The $limit tracks of a run nearest a song, by distance over the run's scaled features.
-- {terms} is the sum of squared scaled differences, one term per feature, built from the
-- run's own feature names (checked against the known features); values are parameters.
WITH used AS (SELECT DISTINCT track_id, cluster FROM assignments WHERE run_id = $run_id)
SELECT t.track_id, t.artists, t.track_name, u.cluster,
       (SELECT string_agg(genre, ', ' ORDER BY genre) FROM track_genres g
        WHERE g.track_id = t.track_id) AS genres,
       sqrt({terms}) AS distance
FROM tracks t JOIN used u USING (track_id)
ORDER BY distance, t.track_id
LIMIT $limit
