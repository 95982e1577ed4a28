-- A run's assignments from the rows registered as new_assignments. track_id comes from the
-- source table by row_number, so no strings travel through Python. {source} is the row
-- rule's table, from features.ROW_RULES (never user text).
INSERT INTO assignments
SELECT $run_id, n.row_number, s.track_id, n.cluster, n.pc1, n.pc2, n.distance
FROM new_assignments AS n JOIN {source} AS s USING (row_number)
