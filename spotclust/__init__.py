"""spotclust: cluster music tracks by their audio features, with a DuckDB warehouse."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spotclust")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from spotclust.errors import SpotclustError  # noqa: E402
from spotclust.ingest import ingest  # noqa: E402

__all__ = ["SpotclustError", "__version__", "ingest"]
