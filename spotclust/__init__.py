"""spotclust: cluster music tracks by their audio features, with a DuckDB warehouse.

The Python API under the CLI: every command is a function taking `db` (the warehouse file;
default warehouse/spotclust.duckdb or $SPOTCLUST_DB), raising only SpotclustError::

    import spotclust
    spotclust.ingest()                           # the shipped Spotify Tracks dataset
    result = spotclust.cluster(k=4)              # -> ClusterResult (run_id, sizes, metrics, ...)
    sweep = spotclust.sweep("2..12")             # -> SweepResult (rows per k, suggested k)
    columns, rows = spotclust.query("SELECT * FROM cluster_summary WHERE run_id = $r", {"r": 1})
    run_id, explanations = spotclust.explain()   # why each cluster of the latest run is what it is

In a notebook, `wh = spotclust.open()` gives the warehouse as one object (notebook.py) whose
results are polars DataFrames and Altair charts; spotclust.sql() is query() as a DataFrame.
"""

from typing import TYPE_CHECKING

# Names are imported on first use (PEP 562), so that `import spotclust` and the command's
# start-up load nothing: a Ctrl-C while starting meets spotclust's own handler, and
# `spotclust --help` stays fast.
_PUBLIC = {
    "AUDIO_FEATURES": "spotclust.audio_features",
    "STAGES": "spotclust.model.config",
    "parse_k_range": "spotclust.model.config",
    "SpotclustError": "spotclust.errors",
    "CommittedError": "spotclust.errors",
    "Engine": "spotclust.engine",
    "open": "spotclust.notebook",
    "Warehouse": "spotclust.notebook",
    **{
        name: "spotclust.api"
        for name in (
            "check",
            "cluster",
            "compare",
            "compare_chart",
            "delete_runs",
            "explain",
            "export",
            "ingest",
            "keep_runs",
            "list_runs",
            "place",
            "query",
            "query_batches",
            "read_column_map",
            "repeat",
            "report",
            "run_rows",
            "shipped_dataset",
            "sql",
            "sweep",
            "synth",
            "tables",
            "write_charts",
        )
    },
}

# `open` would shadow the built-in under `from spotclust import *`: reachable, not exported.
__all__ = ["__version__", *sorted(set(_PUBLIC) - {"open"})]


def __getattr__(name: str):
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("spotclust")
        except PackageNotFoundError:  # running from a source tree that is not installed
            value = "0.0.0+unknown"
    elif name in _PUBLIC:
        from importlib import import_module

        value = getattr(import_module(_PUBLIC[name]), name)
    else:
        raise AttributeError(f"module 'spotclust' has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what the names are, for editors and type checkers
    from spotclust.api import (  # noqa: F401
        check,
        cluster,
        compare,
        compare_chart,
        delete_runs,
        explain,
        export,
        ingest,
        keep_runs,
        list_runs,
        place,
        query,
        query_batches,
        read_column_map,
        repeat,
        report,
        shipped_dataset,
        sql,
        sweep,
        synth,
        tables,
        write_charts,
    )
    from spotclust.audio_features import AUDIO_FEATURES  # noqa: F401
    from spotclust.engine import Engine  # noqa: F401
    from spotclust.errors import CommittedError, SpotclustError  # noqa: F401
    from spotclust.model.config import STAGES, parse_k_range  # noqa: F401
    from spotclust.notebook import Warehouse, open  # noqa: F401
