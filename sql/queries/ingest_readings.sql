-- How a run's ingest and the latest one read their file: shape and column mapping (NULL
-- for ingests made before spotclust recorded them).
SELECT shape, column_mapping FROM ingests
WHERE ingest_id = $ingest_id OR ingest_id = (SELECT max(ingest_id) FROM ingests)
