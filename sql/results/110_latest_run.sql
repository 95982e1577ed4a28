-- latest_run: the most recent complete clustering run (grain: one row)
-- materialized: view
-- unique: run_id
-- The newest complete run's id first, then its row: half the time of sorting the wide rows
-- (DuckDB carries every one of runs' 50 columns through an ORDER BY ... LIMIT 1).
WITH latest AS (
    SELECT max(run_id) AS run_id FROM runs WHERE status = 'complete'
),

final AS (
    SELECT runs.* FROM runs JOIN latest USING (run_id)
)

SELECT * FROM final
