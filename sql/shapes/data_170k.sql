-- data_170k: Kaggle "Spotify Dataset 1921-2020, 160k+ Tracks" (data.csv and its copies)
-- detect: id, name, artists, year
-- No genre, no album, no time signature.
SELECT
    id AS track_id,
    name AS track_name,
    artists AS artists,
    popularity AS popularity,
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
