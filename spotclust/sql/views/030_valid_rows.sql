-- valid_rows: file rows that pass every cleaning check, one per genre listing (grain: track x genre listing)
CREATE OR REPLACE VIEW valid_rows AS
WITH checked AS (
    SELECT * FROM row_checks
),

final AS (
    SELECT * EXCLUDE (has_missing, problems, is_duplicate)
    FROM checked
    WHERE NOT has_missing AND len(problems) = 0 AND NOT is_duplicate
)

SELECT * FROM final
