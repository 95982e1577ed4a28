-- tracks_features: Kaggle "Spotify 1.2M+ Songs" (tracks_features.csv)
-- detect: id, name, album, albumid, artistids
-- Artists as list text, explicit as True/False, time signature as 4.0; no genre, no
-- popularity.
SELECT
    id AS track_id,
    name AS track_name,
    album AS album_name,
    artists AS artists,
    durationms AS duration_ms,
    explicit AS explicit,
    danceability AS danceability,
    energy AS energy,
    key AS key,
    loudness AS loudness,
    mode AS mode,
    speechiness AS speechiness,
    acousticness AS acousticness,
    instrumentalness AS instrumentalness,
    liveness AS liveness,
    valence AS valence,
    tempo AS tempo,
    timesignature AS time_signature
FROM source_rows
