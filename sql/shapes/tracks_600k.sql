-- tracks_600k: Kaggle "Spotify Dataset 1921-2020, 600k+ Tracks" (tracks.csv)
-- detect: id, name, artists, idartists, releasedate
-- Artists as list text (['A', "B's"]); no genre (the dataset keeps genres per artist, in
-- another file).
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
