-- The rows a Spark run clusters, written as Parquet for Spark to read: each row's
-- row_number, its genre as an index into $genres (-1: none), and the features cast to
-- DOUBLE under positional names f0, f1, ... ({columns}), partitioned by row_number into
-- $partitions parts that Spark reads side by side. {source} is the row rule's table
-- (features.ROW_RULES); {columns} is built from checked feature names (spark/stage.py).
COPY (
    SELECT row_number,
           coalesce(CAST(list_position($genres, genre) - 1 AS SMALLINT), -1) AS genre,
           {columns},
           row_number % $partitions AS part
    FROM {source}
    ORDER BY row_number  -- the same files for the same rows: a seeded fit repeats
) TO $path (FORMAT parquet, PARTITION_BY (part))
