-- The PCA loadings of run $run_id: every fitted component (pc1 and pc2 are the map's axes),
-- features in their feature_candidates order.
SELECT p.component, 'PC' || p.component AS axis, p.feature, p.loading,
       p.explained_variance_ratio, coalesce(c.position, 99) AS position
FROM pca_components AS p
LEFT JOIN feature_candidates AS c USING (feature)
WHERE p.run_id = $run_id
ORDER BY p.component, position
