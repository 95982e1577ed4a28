-- spotify_tracks: the shipped Kaggle "Spotify Tracks Dataset" (114,000 rows, 114 genres)
-- detect: trackid, artists, albumname, trackname, trackgenre
-- With all of its 20 columns and nothing else, the file is loaded typed and checked by
-- DuckDB's CSV reader directly; otherwise column by column, like every other shape.
SELECT
    trackid AS track_id,
    artists AS artists,
    albumname AS album_name,
    trackname AS track_name,
    trackgenre AS track_genre,
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
