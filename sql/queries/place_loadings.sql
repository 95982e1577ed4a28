-- The PCA loadings of the components a run clusters on.
SELECT component, feature, loading FROM pca_components
WHERE run_id = $run_id AND component <= $pcs
