-- Every k of one sweep, k first: its scores, the evidence and what each rule marks.
SELECT k, * EXCLUDE (k, features) FROM sweeps WHERE sweep_id = $sweep_id ORDER BY k
