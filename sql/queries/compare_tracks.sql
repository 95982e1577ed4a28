-- Distinct tracks each of two runs clustered.
SELECT
    (SELECT count(DISTINCT track_id) FROM assignments WHERE run_id = $run_a),
    (SELECT count(DISTINCT track_id) FROM assignments WHERE run_id = $run_b)
