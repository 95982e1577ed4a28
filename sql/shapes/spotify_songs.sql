-- spotify_songs: tidytuesday 2020-01-21 spotify_songs.csv (songs of genre playlists)
-- detect: trackid, trackname, trackartist, playlistgenre
-- The playlist's genre is the label (--label-column playlist_subgenre picks the finer one);
-- no explicit, no time signature.
SELECT
    trackid AS track_id,
    trackname AS track_name,
    trackartist AS artists,
    trackalbumname AS album_name,
    trackpopularity AS popularity,
    playlistgenre AS track_genre,
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
