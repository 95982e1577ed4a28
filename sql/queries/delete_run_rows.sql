-- Every row of the runs $run_ids in one table; gives the number deleted. {table}: a table
-- of tables.sql with a run_id column, quoted as an identifier.
DELETE FROM {table} WHERE list_contains($run_ids, run_id)
