-- Clean tracks by id, to place them like songs: their name and every audio feature.
SELECT
    track_name, track_id, popularity, duration_ms, explicit, danceability, energy, "key",
    loudness, "mode", speechiness, acousticness, instrumentalness, liveness, valence, tempo,
    time_signature
FROM tracks
WHERE list_contains($ids, track_id)
