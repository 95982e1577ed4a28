-- exportify: a playlist exported with Exportify (Title Case headers, one row per track)
-- detect: trackuri, trackname, artistnames
-- Track URI as spotify:track:ID, Artist Name(s) separated by ';', Genres as a comma list
-- (every genre becomes a track_genres row; the first is the track's genre).
SELECT
    trackuri AS track_id,
    trackname AS track_name,
    artistnames AS artists,
    albumname AS album_name,
    popularity AS popularity,
    durationms AS duration_ms,
    explicit AS explicit,
    genres AS genre_list,
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
