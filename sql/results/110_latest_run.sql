-- latest_run: the most recent complete clustering run (grain: one row)
-- materialized: view
-- unique: run_id
WITH complete AS (
    SELECT * FROM runs WHERE status = 'complete'
),

final AS (
    SELECT * FROM complete ORDER BY run_id DESC LIMIT 1
)

SELECT * FROM final
