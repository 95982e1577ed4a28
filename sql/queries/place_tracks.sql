-- Every track a run assigned, once per (track, cluster), in the order of the nearest-tracks
-- tie-break (track_id): names, genres joined by ', ', and every audio feature as DOUBLE
-- (the code takes the run's own features by name; no column name is pasted).
WITH used AS (
    SELECT DISTINCT track_id, cluster FROM assignments WHERE run_id = $run_id
),

genres AS (
    SELECT track_id, string_agg(genre, ', ' ORDER BY genre) AS genres
    FROM track_genres
    WHERE track_id IN (SELECT track_id FROM used)
    GROUP BY track_id
)

SELECT
    t.track_id, t.artists, t.track_name, u.cluster, g.genres,
    CAST(t.popularity AS DOUBLE) AS popularity,
    CAST(t.duration_ms AS DOUBLE) AS duration_ms,
    CAST(t.explicit AS DOUBLE) AS explicit,
    CAST(t.danceability AS DOUBLE) AS danceability,
    CAST(t.energy AS DOUBLE) AS energy,
    CAST(t."key" AS DOUBLE) AS "key",
    CAST(t.loudness AS DOUBLE) AS loudness,
    CAST(t."mode" AS DOUBLE) AS "mode",
    CAST(t.speechiness AS DOUBLE) AS speechiness,
    CAST(t.acousticness AS DOUBLE) AS acousticness,
    CAST(t.instrumentalness AS DOUBLE) AS instrumentalness,
    CAST(t.liveness AS DOUBLE) AS liveness,
    CAST(t.valence AS DOUBLE) AS valence,
    CAST(t.tempo AS DOUBLE) AS tempo,
    CAST(t.time_signature AS DOUBLE) AS time_signature
FROM tracks AS t
JOIN used AS u USING (track_id)
LEFT JOIN genres AS g USING (track_id)
ORDER BY t.track_id, u.cluster
