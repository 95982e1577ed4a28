-- What an ingest loaded: distinct tracks, genres, rows set aside by cleaning, clean tracks.
SELECT
    (SELECT count(DISTINCT track_id) FROM raw_tracks),
    (SELECT count(DISTINCT track_genre) FROM raw_tracks),
    (SELECT count(*) FROM raw_tracks) - (SELECT count(*) FROM valid_rows),
    (SELECT count(*) FROM tracks)
