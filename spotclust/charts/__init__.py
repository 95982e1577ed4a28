"""Charts of a clustering run: HTML pages sharing one local vega-bundle.js (or PNG/SVG), an
index page, and the one-file report.

Kept apart, one concern a module:

* data: each chart's data from DuckDB (SQL in sql/charts/), small polars frames;
* plans/: from that data, what each chart draws (its rows, domains, orders, sizes, titles);
* spec: a chart's Vega-Lite spec, its template (templates/vega-lite/) filled with its plan;
* features, map, clusters, genres, selection, diagnostics, compare: the same charts drawn by
  Altair (data in, Altair chart out: for notebooks, and the source of the templates), with
  theme (what every chart shares) and authoring (the drawings and their templates);
* registry: which pages a run has (CHARTS), chart_specs and build_charts;
* pages: the pages written from templates/ (save_all, chart_page, index_page).

    from spotclust.charts import save_all
    index = save_all(db="warehouse/spotclust.duckdb", run_id=None, out_dir="charts")

Writing pages imports no Altair; the chart functions (pca_map, elbow_chart, ...) do. Every
name is imported when first used, so that `import spotclust.charts.pages` stays light.
"""

import importlib

_NAMES = {  # module -> the names it gives the package
    "clusters": "cluster_profiles_chart cluster_sizes_chart",
    "common": "WIDTH cluster_domain cluster_label",
    "compare": "contingency_chart",
    "data": "chart_run correlation_data elbow_data explained_variance genre_heatmap_data "
    "loadings_data pca_map_data profiles_data sizes_data stability_data top_genres_data",
    "features": "correlation_heatmap pca_loadings_chart",
    "genres": "genre_cluster_heatmap top_genres_chart",
    "map": "pca_map",
    "pages": "FORMATS chart_page index_page save_all",
    "plans.genres": "TOP_GENRES",
    "plans.map": "PCA_BINS",
    "registry": "CHARTS ChartEntry build_charts chart_specs",
    "selection": "elbow_chart stability_chart",
    "theme": "cluster_color",
}
_WHERE = {name: module for module, names in _NAMES.items() for name in names.split()}
_MODULES = {
    "authoring", "clusters", "common", "compare", "data", "diagnostics", "features", "genres",
    "map", "pages", "plans", "registry", "report_page", "run_data", "selection", "spec", "theme",
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    """A name of the package, or one of its modules, imported on first use."""
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE, *_MODULES})
