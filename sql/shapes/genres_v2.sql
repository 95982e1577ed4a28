-- genres_v2: Kaggle "Dataset of songs in Spotify" (genres_v2.csv: audio-features API rows)
-- detect: type, id, uri, trackhref, analysisurl, songname, genre
-- No artists, album, popularity or explicit.
SELECT
    id AS track_id,
    songname AS track_name,
    genre AS track_genre,
    durationms AS duration_ms,
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
