-- Rows of two runs compared by row_number: how many, and how many changed cluster.
SELECT count(*), count(*) FILTER (WHERE a.cluster IS DISTINCT FROM b.cluster)
FROM (SELECT * FROM assignments WHERE run_id = $old) AS a
FULL JOIN (SELECT * FROM assignments WHERE run_id = $new) AS b USING (row_number)
