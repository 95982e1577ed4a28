-- Purity of run $run_id against genres: the share of rows whose genre is the most common
-- genre of their cluster (rows without a genre left out). $table: 'tracks' or 'valid_rows'.
WITH rows AS (
    SELECT a.cluster, g.genre
    FROM assignments AS a
    JOIN (
        SELECT row_number, genre FROM tracks WHERE $table = 'tracks'
        UNION ALL
        SELECT row_number, genre FROM valid_rows WHERE $table = 'valid_rows'
    ) AS g USING (row_number)
    WHERE a.run_id = $run_id AND g.genre IS NOT NULL
),
counts AS (
    SELECT cluster, genre, count(*) AS n FROM rows GROUP BY ALL
)
SELECT sum(top)::DOUBLE / nullif((SELECT count(*) FROM rows), 0)
FROM (SELECT max(n) AS top FROM counts GROUP BY cluster)
