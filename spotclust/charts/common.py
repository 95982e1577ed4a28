"""What every chart shares, without Altair: sizes, the cluster labels and colours, titles, so
that a cluster looks the same on every page of a run (theme.py adds the Altair side)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

WIDTH = 900  # plot width of single charts: with axis labels and a legend, fits 1280 px
FONT = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"

Data = pl.DataFrame | Sequence[dict]


def as_frame(data: Data) -> pl.DataFrame:
    """Chart functions take a polars frame or a list of dicts (rows)."""
    return data if isinstance(data, pl.DataFrame) else pl.DataFrame(list(data))


def cluster_label(cluster: int, name: str | None = None) -> str:
    """The label every chart uses for a cluster: its number, then its short name when it has
    one ('2 · energetic, loud (metal)'), else 'cluster 2'; 'cluster 0' is the largest."""
    return f"{cluster} · {name}" if name else f"cluster {cluster}"


def cluster_number(label: str) -> int:
    """The cluster's number in a label from cluster_label (its first integer)."""
    return int(re.search(r"\d+", str(label)).group())


def cluster_domain(data: Data, field: str = "cluster") -> list[str]:
    """The cluster labels found in data, in cluster order (0, 1, ..., 10, not 0, 1, 10, 2)."""
    frame = as_frame(data)
    if frame.height == 0 or field not in frame.columns:
        return []
    return sorted(set(frame[field].to_list()), key=cluster_number)


# One categorical palette for every page, readable with red-green colour blindness up to
# k = 12 (tests/test_palette.py): Okabe & Ito's seven colours (2008), a dark grey in place of
# their black (the PCA map draws its centroids in black), then four of Paul Tol's (indigo,
# purple and red of his "bright" and "muted" sets, sand). Cluster i always has colour i.
PALETTE = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#444444",  # dark grey
    "#332288",  # indigo
    "#AA3377",  # purple
    "#EE6677",  # red
    "#DDCC77",  # sand
)
OTHER = "#999999"  # a 13th cluster and beyond: grey (k > 12 outruns any readable palette)

# One diverging scheme, one meaning on every page: red = above (more than average, positive),
# blue = below. Vega's "redblue" runs red to blue, hence reversed.
DIVERGING = {"scheme": "redblue", "reverse": True}
ABOVE, BELOW = "#b2182b", "#2166ac"  # its two ends, for marks coloured by sign


def cluster_colour(i: int, k: int) -> str:
    """The colour of cluster i (0-based) of a run with k clusters: the same on every page."""
    if not 0 <= i < k:
        raise ValueError(f"no cluster {i} in a run of {k}")
    return PALETTE[i] if i < len(PALETTE) else OTHER


def cluster_colours(clusters: Sequence[str]) -> list[str]:
    """The colour of each cluster label, in order (a colour scale's range for that domain)."""
    k = max((cluster_number(c) for c in clusters), default=-1) + 1
    return [cluster_colour(cluster_number(c), k) for c in clusters]


def title(text: str, subtitle: str | Sequence[str] = ()) -> dict:
    """A chart's title and its subtitle lines, as every page sets them (Vega-Lite TitleParams)."""
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    return {"text": text, "subtitle": lines, "anchor": "start", "offset": 12}
