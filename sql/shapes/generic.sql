-- generic: any table whose columns are named like the canonical ones (case, spaces and
-- punctuation ignored: "Track Name" = track_name); --map and --mapping name the others.
-- detect:
SELECT
    trackid AS track_id,
    artists AS artists,
    albumname AS album_name,
    trackname AS track_name,
    name AS track_name,
    trackgenre AS track_genre,
    genre AS track_genre,
    genres AS genre_list,
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
