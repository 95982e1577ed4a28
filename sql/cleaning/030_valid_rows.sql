-- valid_rows: file rows that pass every cleaning check, one per genre listing (grain: track x genre listing)
-- materialized: view
-- unique: row_number
-- Set-aside rows are few, so leaving them out is an anti-join against a small list
-- rather than a join of every row with its checks.
WITH staged AS (
    SELECT * FROM stg_tracks
),

set_aside AS (
    SELECT row_number FROM row_checks
    WHERE has_missing OR len(problems) > 0 OR is_duplicate
),

final AS (
    -- the whole-number columns are whole (and in range) in every row left: exact integers
    SELECT * REPLACE (
        CAST(popularity AS INTEGER) AS popularity,
        CAST(duration_ms AS BIGINT) AS duration_ms,
        CAST("key" AS INTEGER) AS "key",
        CAST("mode" AS INTEGER) AS "mode",
        CAST(time_signature AS INTEGER) AS time_signature
    )
    FROM staged
    WHERE row_number NOT IN (SELECT row_number FROM set_aside)
)

SELECT * FROM final
