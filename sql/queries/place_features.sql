-- A run's features with the scaler's mean and scale and the PCA centre, in order.
SELECT feature, mean, scale, pca_mean FROM run_features WHERE run_id = $run_id
ORDER BY position
