-- The genre counts of run $run_id into cluster_genres, from its assignments (written first):
-- each track the run clustered counts once in its cluster for every genre it is listed
-- under in track_genres (a track clustered in several listings, --rows listings, still
-- once). The one place genres are counted per cluster: genre_breakdown reads the result.
INSERT INTO cluster_genres (run_id, cluster, genre, tracks)
WITH clustered_tracks AS (
    SELECT DISTINCT track_id, cluster FROM assignments WHERE run_id = $run_id
)
SELECT $run_id, c.cluster, g.genre, count(*)
FROM clustered_tracks AS c
JOIN track_genres AS g USING (track_id)
GROUP BY c.cluster, g.genre
