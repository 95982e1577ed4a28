-- Every k of a sweep (the latest unless $sweep_id) with its stability, gap statistic and the
-- suggestion (no rows when there is no sweep).
SELECT sweep_id, k, stability_mean, stability_std, stability_pairs, gap, gap_se,
       gap_refs, is_knee, is_best_silhouette, is_most_stable, is_gap_choice,
       is_suggested, suggestion_reason, rows_used
FROM sweeps
WHERE sweep_id = coalesce($sweep_id, (SELECT max(sweep_id) FROM sweeps))
ORDER BY k
