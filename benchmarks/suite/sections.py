"""The benchmark sections, in the order they run and appear in the report.

Each is a module with run(args, dataset) -> dict (its record in results.json) and
render(record, claims) -> list[str] (its part of RESULTS.md; it appends its summary lines to
claims).
"""

from __future__ import annotations

from . import cold, e2e, ingest, pages, place, scale, silhouette, spark, startup, sweep

SECTIONS = {
    "e2e": e2e,
    "silhouette": silhouette,
    "sweep": sweep,
    "scale": scale,
    "place": place,
    "ingest": ingest,
    "startup": startup,
    "cold": cold,
    "spark": spark,
    "pages": pages,
}
