-- Whether the warehouse has the cluster_labels table (older ones do not).
SELECT count(*) FROM information_schema.tables
WHERE table_schema = 'main' AND table_name = 'cluster_labels'
