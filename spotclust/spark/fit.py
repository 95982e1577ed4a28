"""The MLlib pipeline, in Spark only: the staged rows -> VectorAssembler -> StandardScaler ->
PCA -> KMeans (k-means||; of --n-init fits, the lowest cost kept), then the pass that numbers
the clusters by size and measures each row's distance to its centre. What comes back to
Python is small: the fitted numbers, per-cluster sums, and a bounded sample of rows."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from pyspark import StorageLevel
from pyspark.ml.clustering import KMeans, KMeansModel
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import PCA, StandardScaler, VectorAssembler, VectorSlicer
from pyspark.ml.functions import vector_to_array
from pyspark.ml.stat import Summarizer
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from spotclust.errors import ConfigError
from spotclust.model.config import ClusterConfig
from spotclust.model.projection import pca_axes
from spotclust.spark.fitted import FittedPCA, FittedScaler, pca_from, scaler_from
from spotclust.spark.scores import ClusterSums

MAX_ITER = 300  # k-means iterations allowed, as scikit-learn's (Spark's default is 20)
TOL = 1e-4  # converged when no centre moves further (scikit-learn's tol is relative)
INIT = "k-means||"  # Spark's parallel k-means++ (Bahmani et al. 2012)
SPARK_SILHOUETTE = "spark_squared_euclidean"  # ClusteringEvaluator's: not the Euclidean one


@dataclass(frozen=True)
class Projected:
    """The rows scaled and projected (lazily: each action reads the stage again), with the
    fitted scaler and PCA. frame: row_number, genre, raw, space, pc1, pc2."""

    frame: DataFrame
    scaler: FittedScaler
    pca: FittedPCA


@dataclass(frozen=True)
class KMeansFit:
    """The kept k-means fit; clusters numbered by size (0 = largest), as a local run's."""

    model: KMeansModel  # Spark's numbering
    renumbered: list[int]  # Spark's cluster i is cluster renumbered[i]
    centres: np.ndarray  # k x model dimensions, in the new numbering
    cost: float
    iterations: int


def project(
    spark: SparkSession, staged: str, n_features: int, config: ClusterConfig, timings: dict
) -> Projected:
    """Fit the scaler and the PCA on the staged rows (a pass each)."""
    columns = [f"f{i}" for i in range(n_features)]
    rows = spark.read.parquet(staged).select("row_number", "genre", *columns)
    raw = VectorAssembler(inputCols=columns, outputCol="raw").transform(rows)
    t = time.perf_counter()
    scaler = StandardScaler(withMean=True, withStd=True, inputCol="raw", outputCol="scaled")
    scaler_model = scaler.fit(raw)
    timings["scale"] = time.perf_counter() - t
    scaled = scaler_model.transform(raw)
    axes = pca_axes(config, n_features)
    t = time.perf_counter()
    pca_model = PCA(k=axes, inputCol="scaled", outputCol="projected").fit(scaled)
    timings["pca"] = time.perf_counter() - t
    projected = pca_model.transform(scaled)
    if config.pca_components:
        slicer = VectorSlicer(inputCol="projected", outputCol="space")
        projected = slicer.setIndices(list(range(config.pca_components))).transform(projected)
    else:
        projected = projected.withColumn("space", F.col("scaled"))
    coordinates = vector_to_array("projected")
    frame = projected.select(
        "row_number",
        "genre",
        "raw",
        "space",
        coordinates[0].alias("pc1"),
        (coordinates[1] if axes > 1 else F.lit(0.0)).alias("pc2"),
    )
    std = scaler_model.std.toArray()
    fitted_scaler = scaler_from(scaler_model.mean.toArray(), std)
    ratio = pca_model.explainedVariance.toArray()
    fitted_pca = pca_from(pca_model.pc.toArray(), ratio, fitted_scaler, std)
    return Projected(frame, fitted_scaler, fitted_pca)


def cached_space(projected: Projected) -> DataFrame:
    """The rows' number and model-space coordinates, held by Spark (spilling to disk), in
    at least a partition a core: what the k-means iterations and the silhouettes read."""
    space = projected.frame.select("row_number", "space")
    cores = space.sparkSession.sparkContext.defaultParallelism
    if space.rdd.getNumPartitions() < cores:  # a small stage is one Parquet row group
        space = space.repartition(cores)
    return space.persist(StorageLevel.MEMORY_AND_DISK)


def fit_kmeans(space: DataFrame, k: int, config: ClusterConfig) -> KMeansFit:
    """config.n_init fits (seeds seed, seed + 1, ...); the one of lowest cost is kept.

    Each fit is given a projection of the cached rows, which is not itself cached: KMeans
    then holds its own copy as objects, which its iterations read twice as fast as they
    read Spark's columnar cache (measured at 1M rows); the fit reads the cache once."""
    rows = space.select("space")
    best = None
    for restart in range(config.n_init):
        kmeans = KMeans(
            k=k,
            seed=config.seed + restart,
            maxIter=MAX_ITER,
            tol=TOL,
            initMode=INIT,
            featuresCol="space",
            predictionCol="spark_cluster",
        )
        model = kmeans.fit(rows)
        if best is None or model.summary.trainingCost < best.summary.trainingCost:
            best = model
    centres = np.array([np.asarray(c) for c in best.clusterCenters()])
    if len(centres) < k:
        raise ConfigError(
            f"--k {k}: k-means found only {len(centres)} distinct centres in these rows: "
            "use a smaller --k"
        )
    sizes = np.asarray(best.summary.clusterSizes)
    order = np.lexsort((np.arange(k), -sizes))  # by size, then Spark's id (model.kmeans's rule)
    renumbered = np.empty(k, dtype=int)
    renumbered[order] = np.arange(k)
    return KMeansFit(
        best, renumbered.tolist(), centres[order], best.summary.trainingCost, best.summary.numIter
    )


def labelled(frame: DataFrame, fit: KMeansFit) -> DataFrame:
    """frame with each row's cluster (numbered by size) and Euclidean distance to its centre
    in the model space, computed in Spark's own expressions (no Python per row)."""
    spark_centres = fit.centres[fit.renumbered]  # back in Spark's numbering
    centre = F.element_at(_literal(spark_centres), F.col("spark_cluster") + 1)
    squares = F.zip_with(vector_to_array("space"), centre, lambda a, b: (a - b) * (a - b))
    cluster = F.element_at(F.array(*map(F.lit, fit.renumbered)), F.col("spark_cluster") + 1)
    return (
        fit.model.transform(frame)
        .withColumn("cluster", cluster)
        .withColumn("distance", F.sqrt(_total(squares)))
        .drop("spark_cluster")
    )


def _literal(matrix: np.ndarray) -> Column:
    return F.array(*(F.array(*(F.lit(float(v)) for v in row)) for row in matrix))


def _total(values: Column) -> Column:
    return F.aggregate(values, F.lit(0.0), lambda total, v: total + v)


def write_assignments(rows: DataFrame, path: str) -> None:
    """row_number, cluster, pc1, pc2, distance of every row, as Parquet (Spark's _SUCCESS
    marks it complete)."""
    rows.select("row_number", "cluster", "pc1", "pc2", "distance").write.parquet(path)


def cluster_sums(rows: DataFrame, k: int, genres: int | None = None) -> ClusterSums:
    """One pass: per cluster (and genre, if genres: how many the genre index counts) the
    sums the scores need (spark/scores.py)."""
    keys = ["cluster", "genre"] if genres is not None else ["cluster"]
    sums = [
        F.count(F.lit(1)).alias("n"),
        Summarizer.sum(F.col("space")).alias("space_sum"),
        F.sum(_total(F.transform(vector_to_array("space"), lambda v: v * v))).alias("squares"),
        F.sum("distance").alias("distance_sum"),
        F.sum(F.col("distance") * F.col("distance")).alias("distance_squares"),
    ]
    if genres is not None:
        sums.append(Summarizer.sum(F.col("raw")).alias("raw_sum"))
    found = rows.groupBy(*keys).agg(*sums).collect()
    dims = len(found[0]["space_sum"]) if found else 0
    out = ClusterSums(
        counts=np.zeros(k, dtype=np.int64),
        space_sums=np.zeros((k, dims)),
        space_squares=np.zeros(k),
        distance_sums=np.zeros(k),
        distance_squares=np.zeros(k),
        raw_sums=np.zeros((k, len(found[0]["raw_sum"]))) if genres is not None else None,
        contingency=np.zeros((genres, k), dtype=np.int64) if genres is not None else None,
    )
    for row in found:  # k x genres rows at most: small
        c = row["cluster"]
        out.counts[c] += row["n"]
        out.space_sums[c] += row["space_sum"].toArray()
        out.space_squares[c] += row["squares"]
        out.distance_sums[c] += row["distance_sum"]
        out.distance_squares[c] += row["distance_squares"]
        if genres is not None:
            out.raw_sums[c] += row["raw_sum"].toArray()
            if row["genre"] >= 0:
                out.contingency[row["genre"], c] += row["n"]
    return out


def overall_sums(space: DataFrame) -> tuple[int, np.ndarray, float]:
    """(rows, coordinate sums, sum of squared norms) of all rows: for k = 1."""
    squares = _total(F.transform(vector_to_array("space"), lambda v: v * v))
    row = space.agg(
        F.count(F.lit(1)).alias("n"),
        Summarizer.sum(F.col("space")).alias("total"),
        F.sum(squares).alias("squares"),
    ).first()
    return row["n"], row["total"].toArray(), float(row["squares"])


def spark_silhouette(rows: DataFrame) -> float:
    """Spark's ClusteringEvaluator silhouette over every row: with squared Euclidean
    distances, so not the Euclidean silhouette a local run reports."""
    evaluator = ClusteringEvaluator(
        featuresCol="space",
        predictionCol="cluster",
        metricName="silhouette",
        distanceMeasure="squaredEuclidean",
    )
    return float(evaluator.evaluate(rows))


def collect_rows(
    rows: DataFrame, fraction: float, seed: int, with_cluster: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(row_number, model-space coordinates, cluster or None) of a uniform random share of
    the rows (all of them at fraction 1), in row_number order, through Arrow."""
    if fraction < 1:
        rows = rows.sample(withReplacement=False, fraction=fraction, seed=seed)
    columns = [F.col("row_number"), vector_to_array("space").alias("space")]
    if with_cluster:
        columns.append(F.col("cluster"))
    table = rows.select(*columns).toArrow()
    order = np.argsort(table.column("row_number").to_numpy(), kind="stable")
    flat = table.column("space").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    space = flat.reshape(len(table), -1) if len(table) else flat.reshape(0, 0)
    cluster = table.column("cluster").to_numpy()[order] if with_cluster else None
    return table.column("row_number").to_numpy()[order], space[order], cluster
