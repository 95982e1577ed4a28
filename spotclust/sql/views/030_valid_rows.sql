-- valid_rows: file rows that pass every cleaning check, one per genre listing (grain: track x genre listing)
CREATE OR REPLACE VIEW valid_rows AS
WITH checked AS (
    SELECT * FROM row_checks
),

final AS (
    SELECT * EXCLUDE (has_missing, problems, copy_number)
    FROM checked
    WHERE NOT has_missing AND len(problems) = 0 AND copy_number = 1
)

SELECT * FROM final
