"""The audio features a track may have, by name. Nothing is imported here, so that the command
line builds its options from them (`place --energy ...`) without loading the data stack."""

AUDIO_FEATURES = (
    "popularity", "duration_ms", "explicit", "danceability", "energy", "key", "loudness", "mode",
    "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
    "time_signature",
)  # fmt: skip
