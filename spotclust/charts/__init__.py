"""Charts of a clustering run: HTML pages sharing one local vega-bundle.js (or PNG/SVG), an
index page, and the one-file report.

Kept apart, one concern a module:

* data: each chart's data from DuckDB (SQL in sql/charts/), small polars frames;
* theme: what every chart shares (cluster colours, titles, fonts);
* features, map, clusters, genres, selection, compare: the chart functions, which take those
  frames (or lists of dicts) and return Altair charts, with no database access;
* registry: which pages a run has (CHARTS) and build_charts;
* pages: the pages written from templates/ (save_all, chart_page, index_page).

    from spotclust.charts import save_all
    index = save_all(db="warehouse/spotclust.duckdb", run_id=None, out_dir="charts")

Importing this package imports Altair: nothing outside it imports it at module level, so that
`import spotclust` and `spotclust --help` stay fast.
"""

from spotclust.charts.clusters import cluster_profiles_chart, cluster_sizes_chart
from spotclust.charts.compare import contingency_chart
from spotclust.charts.data import (
    chart_run,
    correlation_data,
    elbow_data,
    explained_variance,
    genre_heatmap_data,
    loadings_data,
    pca_map_data,
    profiles_data,
    sizes_data,
    stability_data,
    top_genres_data,
)
from spotclust.charts.features import correlation_heatmap, pca_loadings_chart
from spotclust.charts.genres import TOP_GENRES, genre_cluster_heatmap, top_genres_chart
from spotclust.charts.map import PCA_BINS, pca_map
from spotclust.charts.pages import FORMATS, chart_page, index_page, save_all
from spotclust.charts.registry import CHARTS, ChartEntry, build_charts
from spotclust.charts.selection import elbow_chart, stability_chart
from spotclust.charts.theme import WIDTH, cluster_color, cluster_domain, cluster_label

__all__ = [
    "CHARTS",
    "FORMATS",
    "PCA_BINS",
    "TOP_GENRES",
    "WIDTH",
    "ChartEntry",
    "build_charts",
    "chart_page",
    "chart_run",
    "cluster_color",
    "cluster_domain",
    "cluster_label",
    "cluster_profiles_chart",
    "cluster_sizes_chart",
    "contingency_chart",
    "correlation_data",
    "correlation_heatmap",
    "elbow_chart",
    "elbow_data",
    "explained_variance",
    "genre_cluster_heatmap",
    "genre_heatmap_data",
    "index_page",
    "loadings_data",
    "pca_loadings_chart",
    "pca_map",
    "pca_map_data",
    "profiles_data",
    "save_all",
    "sizes_data",
    "stability_chart",
    "stability_data",
    "top_genres_chart",
    "top_genres_data",
]
