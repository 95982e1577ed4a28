"""One run's chart data: what several charts draw (the clusters' labels, the loadings, the
genres) read once, and the charts' queries run two at a time.

DuckDB runs a query this small on one core, so the pages' queries go on a thread each (two:
this machine's cores), each thread on its own cursor of the one connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import duckdb
import polars as pl

from spotclust.charts import data
from spotclust.charts.common import cluster_label
from spotclust.runs.resolve import check_run_data

T = TypeVar("T")
THREADS = 2  # queries at a time


class RunData:
    """One run's chart data, from one connection (or its cursors: RunData.on)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run: dict, sweep_id: int | None = None):
        self.con, self.run, self.sweep_id = con, run, sweep_id
        self.run_id: int = run["run_id"]
        self._read: dict[str, object] = {}  # shared with every RunData.on
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @classmethod
    def checked(
        cls, con: duckdb.DuckDBPyConnection, run_id: int | None, sweep_id: int | None
    ) -> RunData:
        """The data of run_id (None: the latest), refused when the warehouse no longer holds
        the data it clustered, or holds no sweep sweep_id."""
        run = data.chart_run(con, run_id)
        check_run_data(con, run, then="draw the charts")
        data.chart_sweep(con, sweep_id)
        return cls(con, run, sweep_id)

    def on(self, con: duckdb.DuckDBPyConnection) -> RunData:
        """The same data through another connection (a cursor, for another thread)."""
        other = RunData(con, self.run, self.sweep_id)
        other._read, other._locks, other._lock = self._read, self._locks, self._lock
        return other

    def _once(self, name: str, read: Callable[[], T]) -> T:
        """read(), the first time any thread asks for name; what it read, after."""
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._read:
                self._read[name] = read()
            return self._read[name]

    @property
    def clusters(self) -> list[str]:
        """Every cluster of the run, by its number and short name, so that a cluster keeps its
        colour even where it is absent."""
        return self.run.get("cluster_labels") or [cluster_label(c) for c in range(self.run["k"])]

    @property
    def names(self) -> dict[int, str]:
        """{cluster: its chart label} (data.named's mapping)."""
        return dict(enumerate(self.clusters))

    @property
    def loadings(self) -> pl.DataFrame:
        return self._once("loadings", lambda: data.loadings_data(self.con, self.run_id))

    @property
    def genres(self) -> pl.DataFrame:
        """data.genre_grid: for the sizes, the top genres and the heatmap."""
        return self._once("genres", lambda: data.genre_grid(self.con, self.run_id))


def each(run_data: RunData, work: Callable[[RunData], T], items: Sequence) -> list[T]:
    """[work(item, run_data) for item in items], THREADS at a time, each thread reading
    through its own cursor; in order."""
    local, cursors = threading.local(), []

    def one(item):
        if not hasattr(local, "data"):
            cursor = run_data.con.cursor()
            cursors.append(cursor)
            local.data = run_data.on(cursor)
        return work(item, local.data)

    try:
        with ThreadPoolExecutor(min(THREADS, max(len(items), 1))) as pool:
            return list(pool.map(one, items))
    finally:
        for cursor in cursors:
            cursor.close()
