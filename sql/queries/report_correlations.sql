-- Every pair of audio features correlated at |r| >= $min_r over the clean tracks, strongest
-- first (each pair once).
SELECT feature_a, feature_b, r FROM feature_correlations
WHERE feature_a < feature_b AND abs(r) >= $min_r
ORDER BY abs(r) DESC, feature_a, feature_b
