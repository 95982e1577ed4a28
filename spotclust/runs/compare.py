"""Compare two clustering runs on the tracks they share: how far they agree (adjusted Rand,
NMI) and where the tracks of each cluster went (the contingency table).

    from spotclust.runs.compare import compare
    comparison = compare(1, 2)
    comparison.adjusted_rand, comparison.contingency
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from spotclust.errors import ConfigError
from spotclust.runs.resolve import resolve_run
from spotclust.warehouse import connection, read_sql
from spotclust.whole_file import write_whole

CONTINGENCY_COLUMNS = ("cluster_a", "cluster_b", "tracks", "share_of_a", "share_of_b")


@dataclass(frozen=True)
class Comparison:
    run_a: int
    run_b: int
    k_a: int
    k_b: int
    tracks_a: int  # distinct tracks each run clustered
    tracks_b: int
    common_tracks: int
    adjusted_rand: float
    normalized_mutual_info: float
    # The non-empty cells, by cluster_a then cluster_b (keys: CONTINGENCY_COLUMNS).
    # share_of_a: the share of cluster_a's common tracks that are in cluster_b.
    contingency: list[dict]
    # {cluster: chart label, '2 · energetic, loud (metal)'} of each run (charts.data)
    names_a: dict[int, str] = field(default_factory=dict)
    names_b: dict[int, str] = field(default_factory=dict)
    columns = CONTINGENCY_COLUMNS  # the keys of each contingency cell, in table order

    @property
    def summary(self) -> str:
        return (
            f"run {self.run_a} (k={self.k_a}) vs run {self.run_b} (k={self.k_b}): "
            f"{self.common_tracks} common tracks (of {self.tracks_a} and {self.tracks_b}), "
            f"adjusted Rand {self.adjusted_rand:.4f}, NMI {self.normalized_mutual_info:.4f}"
        )


def compare(run_a: int, run_b: int, db: str | Path | None = None) -> Comparison:
    """Adjusted Rand, NMI and the contingency table of two runs over their common tracks."""
    from spotclust.charts.data import cluster_names

    with connection(db, read_only=True) as con:
        a, b = resolve_run(con, run_a), resolve_run(con, run_b)
        params = {"run_a": run_a, "run_b": run_b}
        result = con.execute(read_sql("queries/compare_contingency.sql"), params)
        columns = [d[0] for d in result.description]
        cells = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
        [(tracks_a, tracks_b)] = con.execute(
            read_sql("queries/compare_tracks.sql"), params
        ).fetchall()
        names_a, names_b = cluster_names(con, run_a), cluster_names(con, run_b)
    if not cells:
        raise ConfigError(
            f"runs {run_a} and {run_b} have no tracks in common (they clustered ingests "
            f"{a['ingest_id']} and {b['ingest_id']}): compare runs made on the same data"
        )
    # Both scores depend on the contingency table only: rebuild one label pair per track.
    tracks = np.array([c["tracks"] for c in cells])
    labels_a = np.repeat([c["cluster_a"] for c in cells], tracks)
    labels_b = np.repeat([c["cluster_b"] for c in cells], tracks)
    return Comparison(
        run_a=run_a,
        run_b=run_b,
        k_a=a["k"],
        k_b=b["k"],
        tracks_a=tracks_a,
        tracks_b=tracks_b,
        common_tracks=int(tracks.sum()),
        adjusted_rand=float(adjusted_rand_score(labels_a, labels_b)),
        normalized_mutual_info=float(normalized_mutual_info_score(labels_a, labels_b)),
        contingency=cells,
        names_a=names_a,
        names_b=names_b,
    )


def default_chart_path(run_a: int, run_b: int) -> Path:
    return Path("charts") / f"compare_{run_a}_{run_b}.html"


def save_chart(comparison: Comparison, out: str | Path | None = None) -> Path:
    """The contingency heatmap as a self-contained HTML page; returns its path."""
    from spotclust.charts import chart_page, contingency_chart

    c = comparison
    out = Path(out) if out is not None else default_chart_path(c.run_a, c.run_b)
    chart = contingency_chart(
        c.contingency, c.run_a, c.run_b, note=c.summary, names_a=c.names_a, names_b=c.names_b
    )
    page = chart_page(
        chart,
        f"Run {c.run_a} vs run {c.run_b}",
        f"Where the tracks of each cluster of run {c.run_a} went in run {c.run_b}.",
        c.run_a,
        # a link back only to an index beside the page (a run's folder), never to none
        back=("index.html", "index") if (out.parent / "index.html").is_file() else None,
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out.parent}: {exc.strerror}; pass --out") from exc
    write_whole(out, lambda partial: partial.write_text(page, encoding="utf-8"), "; pass --out")
    return out
