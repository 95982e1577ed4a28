-- Share of a cluster's members that lie further from its centre than distance $d.
SELECT avg(CASE WHEN distance > $d THEN 1.0 ELSE 0.0 END) FROM assignments
WHERE run_id = $run_id AND cluster = $cluster
