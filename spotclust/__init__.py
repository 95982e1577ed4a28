"""spotclust: cluster music tracks by their audio features, with a DuckDB warehouse.

The Python API under the CLI::

    import spotclust
    spotclust.ingest()                         # the shipped Spotify Tracks dataset
    result = spotclust.cluster(k=4)            # -> ClusterResult (run_id, sizes, metrics, ...)
    sweep = spotclust.sweep(range(2, 13))      # -> SweepResult (rows per k, suggested k)
    columns, rows = spotclust.query("SELECT * FROM cluster_summary WHERE run_id = $r", {"r": 1})
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spotclust")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from spotclust.errors import SpotclustError  # noqa: E402
from spotclust.ingest import ingest  # noqa: E402
from spotclust.warehouse import run_query as query  # noqa: E402

__all__ = ["SpotclustError", "__version__", "cluster", "ingest", "query", "sweep"]


# scikit-learn and numba load only when a model is fitted, so the CLI starts fast.
def cluster(k: int = 4, db=None, **options):
    """Cluster the warehouse's clean tracks; options are ClusterConfig fields."""
    from spotclust.clustering import ClusterConfig, run

    return run(ClusterConfig(k=k, **options), db)


def sweep(ks=range(2, 13), db=None, **options):
    """Fit and score k-means for every k in ks; options are ClusterConfig fields."""
    from spotclust.clustering import ClusterConfig
    from spotclust.sweeps import sweep as run_sweep

    return run_sweep(sorted(set(ks)), ClusterConfig(**options), db)
