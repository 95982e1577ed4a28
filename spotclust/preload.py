"""Import the modelling and chart stack, and load the compiled kernels, in the background
while DuckDB ingests.

`spotclust run` spends its first seconds in DuckDB (which lets go of Python's lock while it
reads and cleans the file) and then needs scikit-learn, numba's cached kernels and the chart
code, whose imports take about 2 s of one core, and loading the kernels from numba's cache
another 0.2 s. A thread does both meanwhile. The command waits for the imports only: a
kernel still loading when the analysis first calls it is waited for by numba's own lock,
never loaded twice. It only imports and loads: a failure here is left for the command's own
import or call to raise, where it is reported as usual.
"""

from __future__ import annotations

import importlib
import sys
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


class Loading:
    """The background loading; join() returns once MODULES are imported."""

    # While it imports, the thread holds Python's lock most of the time, and the ingest's
    # thread, back from each of its DuckDB statements, waits for it: up to the switch interval
    # (5 ms) each time. A short interval hands the lock back at once, until join().
    SHARING_INTERVAL = 0.0002

    def __init__(self) -> None:
        self.interval = sys.getswitchinterval()
        self.imported = threading.Event()
        self.thread = threading.Thread(target=self._load, name="spotclust-preload", daemon=True)

    def join(self) -> None:
        self.imported.wait()
        sys.setswitchinterval(self.interval)

    def _load(self) -> None:
        try:
            for name in MODULES:
                importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the command's own import reports it
            return
        finally:
            self.imported.set()
        try:  # the kernels the analysis calls first: k-means, then the silhouette's
            from spotclust.model.compile_kernels import cached, load_cached

            if cached():  # never compile here: see cached()
                load_cached()
        except Exception:  # noqa: BLE001, S110 - the analysis's own call reports it
            pass


def start() -> Loading:
    """Import INGEST_MODULES, then start loading in a daemon thread; join() before using
    MODULES."""
    for name in INGEST_MODULES:
        importlib.import_module(name)
    loading = Loading()
    sys.setswitchinterval(Loading.SHARING_INTERVAL)
    loading.thread.start()
    return loading
