-- spotifyfeatures: Kaggle "Ultimate Spotify Tracks DB" (SpotifyFeatures.csv, 232,725 rows, 26 genres)
-- detect: genre, artistname, trackname, trackid
-- Key as pitch letters (C#), mode as Major/Minor, time signature as 4/4 (or, in copies that
-- went through a spreadsheet, as a date such as 4-Apr): each is converted by its column's type.
SELECT
    trackid AS track_id,
    artistname AS artists,
    trackname AS track_name,
    genre AS track_genre,
    popularity AS popularity,
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
