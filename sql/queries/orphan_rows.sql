-- Rows of a table whose run has no runs row (deleted by hand), one line per run, for
-- `spotclust check`. {table}: a table of tables.sql with a run_id column, quoted.
SELECT 'run ' || run_id || ': ' || count(*) || CASE WHEN count(*) = 1 THEN ' row' ELSE ' rows' END
    || ' but no runs row (remove them: spotclust runs delete ' || run_id || ')'
FROM {table}
WHERE run_id NOT IN (SELECT run_id FROM runs)
GROUP BY run_id
ORDER BY run_id
