-- The runs a table holds rows of. {table}: a table of tables.sql with a run_id column,
-- quoted as an identifier.
SELECT DISTINCT run_id FROM {table} ORDER BY run_id
