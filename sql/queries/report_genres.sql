-- The genre of every row run $run_id clustered, with its cluster (rows without a genre left
-- out), in row order: what the shuffled-genre baseline permutes (the same permutation then
-- pairs the same rows every time) and the purity counts. $table: 'tracks' or 'valid_rows'.
SELECT a.cluster, g.genre
FROM assignments AS a
JOIN (
    SELECT row_number, genre FROM tracks WHERE $table = 'tracks'
    UNION ALL
    SELECT row_number, genre FROM valid_rows WHERE $table = 'valid_rows'
) AS g USING (row_number)
WHERE a.run_id = $run_id AND g.genre IS NOT NULL
ORDER BY a.row_number
