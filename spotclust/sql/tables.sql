-- Tables spotclust writes. Created when missing; never dropped by spotclust.
-- Views over them live in views/, one per file, applied in order.

CREATE TABLE IF NOT EXISTS spotclust_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
COMMENT ON TABLE spotclust_meta IS 'Warehouse facts such as the schema version';

CREATE SEQUENCE IF NOT EXISTS ingest_id_seq START 1;

CREATE TABLE IF NOT EXISTS ingests (
    ingest_id         INTEGER PRIMARY KEY,
    source_path       VARCHAR NOT NULL,
    source_sha256     VARCHAR NOT NULL,
    source_bytes      BIGINT NOT NULL,
    source_format     VARCHAR NOT NULL,
    rows              BIGINT NOT NULL,
    started_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    finished_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    spotclust_version VARCHAR NOT NULL
);
COMMENT ON TABLE ingests IS 'One row per ingest: source file, its sha256, rows, when, spotclust version';

-- The file as loaded, typed; replaced whole by each ingest.
CREATE TABLE IF NOT EXISTS raw_tracks (
    row_number       BIGINT NOT NULL,   -- 1-based position of the data row in the file
    source_index     BIGINT,            -- the file's unnamed index column, when it has one
    track_id         VARCHAR,
    artists          VARCHAR,
    album_name       VARCHAR,
    track_name       VARCHAR,
    popularity       INTEGER,
    duration_ms      BIGINT,
    explicit         BOOLEAN,
    danceability     DOUBLE,
    energy           DOUBLE,
    "key"            INTEGER,
    loudness         DOUBLE,
    "mode"           INTEGER,
    speechiness      DOUBLE,
    acousticness     DOUBLE,
    instrumentalness DOUBLE,
    liveness         DOUBLE,
    valence          DOUBLE,
    tempo            DOUBLE,
    time_signature   INTEGER,
    track_genre      VARCHAR,
    ingest_id        INTEGER NOT NULL
);
COMMENT ON TABLE raw_tracks IS 'The last ingested file as loaded (typed), plus its row number';
