-- Which of the tables named $names the warehouse has (an older layout lacks some).
SELECT table_name FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
    AND list_contains($names, table_name)
ORDER BY table_name
