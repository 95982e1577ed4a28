-- Share of variance of each principal component run $run_id fitted, pc1 first.
SELECT any_value(explained_variance_ratio) FROM pca_components
WHERE run_id = $run_id GROUP BY component ORDER BY component
