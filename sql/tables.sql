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
    spotclust_version VARCHAR NOT NULL,
    shape             VARCHAR,            -- the file's layout, as detected (NULL: before v4)
    column_mapping    MAP(VARCHAR, VARCHAR), -- canonical column -> the file's column it came from
    ignored_columns   VARCHAR[]           -- the file's columns no canonical column came from
);
COMMENT ON TABLE ingests IS 'One row per ingest: source file, its sha256, rows, when, spotclust version, shape and column mapping';

-- The file as loaded, typed; replaced whole by each ingest. The whole-number columns
-- (popularity, duration_ms, key, mode, time_signature) are DOUBLE so that a value such as
-- 1.5 arrives as it is: cleaning sets its row aside (sql/cleaning), nothing rounds it.
CREATE TABLE IF NOT EXISTS raw_tracks (
    row_number       BIGINT NOT NULL,   -- 1-based position of the data row in the file
    source_index     BIGINT,            -- the file's unnamed index column, when it has one
    track_id         VARCHAR,
    artists          VARCHAR,
    album_name       VARCHAR,
    track_name       VARCHAR,
    popularity       DOUBLE,
    duration_ms      DOUBLE,
    explicit         BOOLEAN,
    danceability     DOUBLE,
    energy           DOUBLE,
    "key"            DOUBLE,
    loudness         DOUBLE,
    "mode"           DOUBLE,
    speechiness      DOUBLE,
    acousticness     DOUBLE,
    instrumentalness DOUBLE,
    liveness         DOUBLE,
    valence          DOUBLE,
    tempo            DOUBLE,
    time_signature   DOUBLE,
    track_genre      VARCHAR,
    ingest_id        INTEGER NOT NULL,
    genre_list       VARCHAR[],         -- every genre of the row, when the file lists several
    extra            MAP(VARCHAR, VARCHAR) -- the file's other columns, kept as text, not used
);
COMMENT ON TABLE raw_tracks IS 'The last ingested file as loaded (typed), plus its row number';

-- Clustering results, one set of rows per run_id. A run is written in one transaction.
CREATE SEQUENCE IF NOT EXISTS run_id_seq START 1;

CREATE TABLE IF NOT EXISTS runs (
    run_id                  INTEGER PRIMARY KEY,
    created_at              TIMESTAMP WITH TIME ZONE NOT NULL,
    status                  VARCHAR NOT NULL,        -- 'complete': only finished runs are ever committed
    k                       INTEGER NOT NULL,
    features                VARCHAR[] NOT NULL,
    pca_components          INTEGER,                 -- NULL: k-means on the scaled features (--no-pca)
    algorithm               VARCHAR NOT NULL,        -- 'kmeans' or 'minibatch'
    seed                    INTEGER NOT NULL,
    n_init                  INTEGER NOT NULL,
    row_rule                VARCHAR NOT NULL,        -- 'tracks' (one row per track) or 'listings'
    rows_used               BIGINT NOT NULL,
    ingest_id               INTEGER NOT NULL,
    data_sha256             VARCHAR NOT NULL,
    inertia                 DOUBLE NOT NULL,
    silhouette              DOUBLE,
    silhouette_method       VARCHAR NOT NULL,        -- 'exact' or 'sampled'
    silhouette_sample_size  BIGINT,
    silhouette_ci_low       DOUBLE,
    silhouette_ci_high      DOUBLE,
    calinski_harabasz       DOUBLE,
    davies_bouldin          DOUBLE,
    adjusted_rand           DOUBLE,                  -- agreement with genres: one genre per row, see README
    normalized_mutual_info  DOUBLE,
    homogeneity             DOUBLE,
    completeness            DOUBLE,
    purity                  DOUBLE,
    explained_variance      DOUBLE,                  -- share of variance kept by the PCA components
    seconds_load            DOUBLE,
    seconds_scale           DOUBLE,
    seconds_pca             DOUBLE,
    seconds_kmeans          DOUBLE,
    seconds_silhouette      DOUBLE,
    seconds_metrics         DOUBLE,
    seconds_write           DOUBLE,
    seconds_total           DOUBLE,
    spotclust_version       VARCHAR NOT NULL,
    sklearn_version         VARCHAR NOT NULL,
    duckdb_version          VARCHAR NOT NULL,
    polars_version          VARCHAR NOT NULL,
    numpy_version           VARCHAR NOT NULL,
    -- Where the run was fitted (version 7). 'local': scikit-learn in one process, which
    -- leaves the Spark columns NULL (k-means++, its own max_iter and tol); 'spark': MLlib.
    engine                  VARCHAR NOT NULL DEFAULT 'local',  -- 'local' or 'spark'
    engine_version          VARCHAR,                 -- Spark's version
    engine_master           VARCHAR,                 -- Spark's master URL, e.g. local[2], spark://host:7077
    kmeans_init             VARCHAR,                 -- 'k-means||' (Spark)
    max_iter                INTEGER,                 -- k-means iterations allowed (Spark)
    tol                     DOUBLE,                  -- k-means convergence tolerance (Spark)
    iterations              INTEGER,                 -- iterations the kept k-means fit took (Spark)
    silhouette_reference_rows BIGINT,                -- rows a sampled silhouette was scored against; NULL: all
    engine_silhouette       DOUBLE,                  -- the engine's own silhouette (Spark: all rows)
    engine_silhouette_method VARCHAR,                -- 'spark_squared_euclidean': not the Euclidean silhouette
    seconds_engine_start    DOUBLE                   -- starting Spark (part of seconds_load)
);
COMMENT ON TABLE runs IS 'One row per clustering run: config, rows used, metrics, stage timings, versions';

CREATE TABLE IF NOT EXISTS assignments (
    run_id      INTEGER NOT NULL,
    row_number  BIGINT NOT NULL,   -- the raw_tracks row the point came from
    track_id    VARCHAR NOT NULL,
    cluster     INTEGER NOT NULL,
    pc1         DOUBLE,            -- first two principal components of the scaled features
    pc2         DOUBLE,
    distance    DOUBLE NOT NULL    -- Euclidean distance to its centroid, in the space clustered
);
COMMENT ON TABLE assignments IS 'Cluster of every row a run used, its PCA coordinates and distance to its centroid';

CREATE TABLE IF NOT EXISTS centroids (
    run_id     INTEGER NOT NULL,
    cluster    INTEGER NOT NULL,
    space      VARCHAR NOT NULL,   -- 'original' and 'scaled': member means per feature; 'model': k-means centre
    dimension  VARCHAR NOT NULL,   -- a feature name, or pc1, pc2, ... in the model space
    value      DOUBLE NOT NULL
);
COMMENT ON TABLE centroids IS 'Cluster centres per run in original units, scaled units and the space k-means ran in';

CREATE TABLE IF NOT EXISTS cluster_profiles (
    run_id    INTEGER NOT NULL,
    cluster   INTEGER NOT NULL,
    feature   VARCHAR NOT NULL,
    in_model  BOOLEAN NOT NULL,    -- whether the run clustered on this feature
    count     BIGINT NOT NULL,
    mean      DOUBLE,
    std       DOUBLE,
    min       DOUBLE,
    p25       DOUBLE,
    p50       DOUBLE,
    p75       DOUBLE,
    max       DOUBLE
);
COMMENT ON TABLE cluster_profiles IS 'Per run, cluster and feature: count, mean, std, min, quartiles, max (describe())';

CREATE TABLE IF NOT EXISTS run_features (
    run_id    INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    feature   VARCHAR NOT NULL,
    mean      DOUBLE NOT NULL,     -- the fitted StandardScaler: scaled = (value - mean) / scale
    scale     DOUBLE NOT NULL,
    pca_mean  DOUBLE NOT NULL      -- PCA's centre in scaled units: pc = (scaled - pca_mean) . loadings
);
COMMENT ON TABLE run_features IS 'Features of each run in order, with the fitted scaler (mean, scale)';

CREATE TABLE IF NOT EXISTS pca_components (
    run_id                    INTEGER NOT NULL,
    component                 INTEGER NOT NULL,   -- 1 = pc1
    feature                   VARCHAR NOT NULL,
    loading                   DOUBLE NOT NULL,
    explained_variance        DOUBLE NOT NULL,
    explained_variance_ratio  DOUBLE NOT NULL
);
COMMENT ON TABLE pca_components IS 'PCA loadings per run and component, with the variance each component explains';

CREATE SEQUENCE IF NOT EXISTS sweep_id_seq START 1;

CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id            INTEGER NOT NULL,
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    k                   INTEGER NOT NULL,
    features            VARCHAR[] NOT NULL,
    pca_components      INTEGER,
    seed                INTEGER NOT NULL,
    n_init              INTEGER NOT NULL,
    row_rule            VARCHAR NOT NULL,
    rows_used           BIGINT NOT NULL,
    ingest_id           INTEGER NOT NULL,
    inertia             DOUBLE NOT NULL,
    silhouette          DOUBLE,
    silhouette_method   VARCHAR NOT NULL,   -- 'exact', 'sampled' or 'skipped'
    calinski_harabasz   DOUBLE,
    davies_bouldin      DOUBLE,
    seconds             DOUBLE NOT NULL,    -- spent on this k: fit, scores, stability, gap
    is_knee             BOOLEAN NOT NULL,   -- the knee of the inertia curve
    is_best_silhouette  BOOLEAN NOT NULL,
    -- Evidence added later: NULL in the rows of older sweeps, and when it was not measured.
    stability_mean      DOUBLE,             -- mean adjusted Rand between clusterings of resample pairs
    stability_std       DOUBLE,
    stability_pairs     INTEGER,            -- resample pairs per k (--stability)
    gap                 DOUBLE,             -- gap statistic (Tibshirani 2001)
    gap_se              DOUBLE,             -- its s_k = sd * sqrt(1 + 1/refs)
    gap_refs            INTEGER,            -- uniform reference datasets per k (--gap-refs)
    is_most_stable      BOOLEAN,
    is_gap_choice       BOOLEAN,            -- smallest k with gap_k >= gap_next - s_next
    is_suggested        BOOLEAN,
    suggestion_reason   VARCHAR,            -- why the suggested k (the same on every row of a sweep)
    engine              VARCHAR NOT NULL DEFAULT 'local'  -- where the k-means fits ran: 'local' or 'spark' (version 7)
);
COMMENT ON TABLE sweeps IS 'Elbow sweeps: inertia, silhouette, Calinski-Harabasz, Davies-Bouldin per k';

CREATE TABLE IF NOT EXISTS cluster_labels (
    run_id   INTEGER NOT NULL,
    cluster  INTEGER NOT NULL,
    label    VARCHAR NOT NULL,     -- traits · genres, e.g. 'calm, acoustic · classical, new-age'
    traits   VARCHAR NOT NULL,     -- from the standardised means of the run's features
    genres   VARCHAR NOT NULL      -- the cluster's top genres
);
COMMENT ON TABLE cluster_labels IS 'A short generated name for each cluster of a run: its traits and top genres';

-- Counted once, when the run is written (version 8): the labels, genre_breakdown and so
-- every page and report of the run read these few rows instead of joining the run's
-- assignments with track_genres again.
CREATE TABLE IF NOT EXISTS cluster_genres (
    run_id   INTEGER NOT NULL,
    cluster  INTEGER NOT NULL,
    genre    VARCHAR NOT NULL,
    tracks   BIGINT NOT NULL       -- the cluster's tracks listed under the genre (a track once)
);
COMMENT ON TABLE cluster_genres IS 'Tracks of each genre in each cluster of a run, counted when the run was written';

CREATE TABLE IF NOT EXISTS silhouette_values (
    run_id      INTEGER NOT NULL,
    row_number  BIGINT NOT NULL,   -- the raw_tracks row (as in assignments)
    silhouette  DOUBLE NOT NULL    -- s(i), exact against all the run's rows
);
COMMENT ON TABLE silhouette_values IS 'Each scored row''s silhouette s(i) per run: every row (exact) or the rows sampled';
