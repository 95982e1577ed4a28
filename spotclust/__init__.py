"""spotclust: cluster music tracks by their audio features, with a DuckDB warehouse.

The Python API under the CLI: every command is a function taking `db` (the warehouse file;
default warehouse/spotclust.duckdb or $SPOTCLUST_DB), raising only SpotclustError::

    import spotclust
    spotclust.ingest()                           # the shipped Spotify Tracks dataset
    result = spotclust.cluster(k=4)              # -> ClusterResult (run_id, sizes, metrics, ...)
    sweep = spotclust.sweep("2..12")             # -> SweepResult (rows per k, suggested k)
    columns, rows = spotclust.query("SELECT * FROM cluster_summary WHERE run_id = $r", {"r": 1})
    run_id, explanations = spotclust.explain()   # why each cluster of the latest run is what it is
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spotclust")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from spotclust.api import (  # noqa: E402
    cluster,
    compare,
    compare_chart,
    explain,
    export,
    ingest,
    place,
    query,
    read_column_map,
    repeat,
    shipped_dataset,
    sweep,
    synth,
    tables,
    write_charts,
)
from spotclust.errors import SpotclustError  # noqa: E402
from spotclust.features import AUDIO_FEATURES  # noqa: E402
from spotclust.model.config import STAGES, parse_k_range  # noqa: E402

__all__ = [
    "AUDIO_FEATURES",
    "STAGES",
    "SpotclustError",
    "__version__",
    "cluster",
    "compare",
    "compare_chart",
    "explain",
    "parse_k_range",
    "export",
    "ingest",
    "place",
    "query",
    "read_column_map",
    "repeat",
    "sweep",
    "synth",
    "shipped_dataset",
    "tables",
    "write_charts",
]
