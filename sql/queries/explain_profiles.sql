-- Each cluster's count, mean and std of every feature, for effect sizes.
SELECT cluster, feature, count, mean, std FROM cluster_profiles WHERE run_id = $run_id
