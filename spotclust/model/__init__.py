"""The numerics, with no DuckDB and no I/O: a config, scaling and PCA (projection), k-means
in memory (kmeans) or streamed from batches (streaming), the scores (metrics, silhouette)
and the evidence for choosing k (selection).

Importing this package is cheap; scikit-learn and numba load with the modules that use them.
"""
