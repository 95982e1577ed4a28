"""Apache Spark as a clustering engine (`--engine spark`): the same runs and sweeps, fitted
by MLlib (StandardScaler -> PCA -> KMeans with k-means||) on local[*] or a cluster, written
to the same tables as a local run so that every later command works on them unchanged.

`prerequisites` checks pyspark, Java and the master first; `session` starts Spark (or uses
the process's session) and turns its failures into one line; `stage` is the Parquet
directory the rows travel through; `fit` is the MLlib pipeline (Spark only); `scores` the
metrics from per-cluster sums (NumPy only); `fitted` the fitted model as plain numbers;
`run` and `sweep` put them together. pyspark is imported only here, and only when a Spark
run starts.
"""
