"""Import the modelling and chart stack in the background while DuckDB ingests.

`spotclust run` spends its first seconds in DuckDB (which lets go of Python's lock while it
reads and cleans the file) and then needs scikit-learn, numba's cached kernels and Altair,
whose imports take about 2 s of one core. A thread imports them meanwhile, so that the
analysis starts with them loaded. It only imports: a failure here is left for the
command's own import to raise, where it is reported as usual.
"""

from __future__ import annotations

import importlib
import threading

# What `run` needs after the ingest, heaviest first.
MODULES = (
    "spotclust.runs.sweep",
    "spotclust.runs.cluster",
    "spotclust.model.silhouette",
    "spotclust.charts.pages",
    "spotclust.runs.report",
)


# What the ingest itself imports: loaded first, in the caller's thread, so that the two
# threads never import the same modules at once.
INGEST_MODULES = ("spotclust.api", "spotclust.files.ingest")


def start() -> threading.Thread:
    """Import INGEST_MODULES, then start importing MODULES in a daemon thread; join it
    before using them."""
    for name in INGEST_MODULES:
        importlib.import_module(name)
    thread = threading.Thread(target=_import_all, name="spotclust-preload", daemon=True)
    thread.start()
    return thread


def _import_all() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - the command's own import reports it
            return
