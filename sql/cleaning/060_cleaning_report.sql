-- cleaning_report: each cleaning step with rows in, rows out and why (grain: one row per step)
-- materialized: view
-- unique: step
WITH checks AS (
    SELECT * FROM row_checks
),

counts AS (
    SELECT
        count(*) AS loaded,
        count(*) FILTER (WHERE NOT has_missing) AS complete,
        count(*) FILTER (WHERE NOT has_missing AND len(problems) = 0) AS possible,
        count(*) FILTER (
            WHERE NOT has_missing AND len(problems) = 0 AND NOT is_duplicate
        ) AS distinct_rows,
        (SELECT count(*) FROM tracks) AS distinct_tracks
    FROM checks
),

problem_counts AS (
    SELECT coalesce(string_agg(problem || ': ' || rows, '; ' ORDER BY rows DESC, problem), 'none') AS detail
    FROM (
        SELECT problem, count(*) AS rows
        FROM (SELECT unnest(problems) AS problem FROM checks WHERE NOT has_missing)
        GROUP BY problem
    )
),

final AS (
    SELECT 1 AS step, 'load' AS name, loaded AS rows_in, loaded AS rows_out,
           'rows read from the file' AS reason
    FROM counts
    UNION ALL
    SELECT 2, 'missing values', loaded, complete,
           'a row with any empty field is set aside'
    FROM counts
    UNION ALL
    SELECT 3, 'impossible values', complete, possible,
           'values no real track has (a row can fail several): ' || detail
    FROM counts, problem_counts
    UNION ALL
    SELECT 4, 'duplicate rows', possible, distinct_rows,
           'a row identical to an earlier one in every column is kept once'
    FROM counts
    UNION ALL
    SELECT 5, 'one row per track', distinct_rows, distinct_tracks,
           'a track listed under several genres is kept once (its first listing); '
           || 'its genres stay in track_genres'
    FROM counts
)

SELECT step, name, rows_in, rows_out, rows_in - rows_out AS rows_removed, reason
FROM final
ORDER BY step
