# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The Spotify Tracks analysis, with spotclust in a notebook
#
# The analysis spotclust was made from, cell by cell: load the tracks, look at how the
# audio features correlate, draw the elbow, cluster with k = 4, describe each cluster and
# its genres; then what the notebook could not do: place a song of your own, ask why each
# cluster is what it is, and compare two runs.
#
# This file is in Jupytext's percent format: open it in JupyterLab or VS Code with Jupytext,
# or run `jupytext --to notebook docs/notebook.py`. Run as a script, it does the same work
# and shows nothing. (tests/test_notebook_api.py runs it.)
#
# Every table below is a polars DataFrame, every chart an Altair chart. The `Warehouse`
# object holds only the warehouse's path: each call opens the DuckDB file and closes it
# again, so the CLI (`spotclust sql ...`) can read the same warehouse between cells.

# %%
# ruff: noqa: B018 (a cell's last expression is what Jupyter shows)
import polars as pl

import spotclust

wh = spotclust.open()  # $SPOTCLUST_DB if set, else warehouse/spotclust.duckdb; or give a path
wh

# %% [markdown]
# ## Load the tracks
#
# The Spotify Tracks dataset ships inside the package (114,000 rows). `ingest` also takes
# your own CSV or Parquet file, or a polars or pandas DataFrame or a pyarrow Table; the
# rows it sets aside, and why, are in the `cleaning_report` view.

# %%
ingested = wh.ingest(spotclust.shipped_dataset())
print(f"{ingested.rows:,} rows, {ingested.clean_tracks:,} clean tracks")
wh.sql("SELECT * FROM cleaning_report")

# %% [markdown]
# ## Which features to cluster on
#
# The original analysis dropped the features most correlated with another (loudness and
# valence go with energy). `feature_correlations` holds Pearson r for every pair;
# `feature_selection` says what the default feature set keeps and why.

# %%
correlations = wh.sql(
    """
    SELECT feature_a, feature_b, r FROM feature_correlations
    WHERE feature_a < feature_b ORDER BY abs(r) DESC LIMIT $top
    """,
    {"top": 8},
)
correlations

# %%
wh.sql("SELECT feature, in_default, reason FROM feature_selection")

# %% [markdown]
# ## The elbow
#
# Inertia for every k, as the notebook plotted it (silhouette and stability skipped here,
# to keep it quick: they are on by default). The suggested k is the knee of the curve.

# %%
sweep = wh.sweep("2..8", score_silhouette=False, stability_pairs=0)
print(f"suggested k = {sweep.suggested_k}: {sweep.suggestion_reason}")
sweep.table.select("k", "inertia", "is_knee")

# %%
sweep.chart()

# %% [markdown]
# ## Cluster with k = 4
#
# Scaling, PCA to two components and k-means, as the notebook did; the run and every table
# of it are stored in the warehouse. Its repr shows the clusters and their generated names.

# %%
run = wh.cluster(4)
run

# %%
run.summary  # size, share, label, top genres and the most distinctive features per cluster

# %% [markdown]
# `profiles` is the notebook's per-cluster `describe()` (count, mean, std, quartiles), one
# row per cluster and feature; as a table of means:

# %%
run.profiles.pivot(on="cluster", index="feature", values="mean", sort_columns=True)

# %% [markdown]
# Top genres per cluster, and each track with its cluster (what PyCaret's `assign_model`
# gives: the data with a cluster column):

# %%
run.genres.filter(pl.col("rank_in_cluster") <= 5).select(
    "cluster", "genre", "tracks", "share_of_cluster"
)

# %%
run.assignments.select("track_name", "artists", "genre", "cluster", "cluster_label").head()

# %% [markdown]
# ## Charts
#
# Every page of `spotclust charts` is one chart of the run: correlations, pca_map, elbow,
# profiles, sizes, top_genres, genre_heatmap, pca_loadings, stability. `run.charts()` gives
# them all by name; `wh.charts()` writes them as pages that work offline.

# %%
run.chart("pca_map")

# %%
run.chart("profiles")

# %% [markdown]
# ## Where would my song land?
#
# Give any audio features you know (the rest default to the run's averages).

# %%
placed = wh.place(
    [
        {
            "name": "My song",
            "danceability": 0.62,
            "energy": 0.35,
            "acousticness": 0.81,
            "instrumentalness": 0.02,
            "tempo": 96,
            "speechiness": 0.04,
        }
    ],
    run=run,
)
placed.table

# %%
placed.neighbours.select("track_name", "artists", "genres", "distance")

# %% [markdown]
# ## Why each cluster is what it is
#
# Effect sizes (Cohen's d of each feature, the cluster against the rest), the genres that
# are over-represented in it (lift) and its most typical tracks.

# %%
explained = wh.explain(run)
explained.effects

# %%
explained.genres_by_lift

# %% [markdown]
# ## Compare two runs
#
# How does k = 5 split the four clusters? The adjusted Rand index and NMI say how far two
# runs agree; the contingency table where each cluster's tracks went.

# %%
other = wh.cluster(5)
comparison = wh.compare(run, other)
print(comparison.summary)
comparison.contingency

# %%
comparison.chart()

# %% [markdown]
# Every run stays in the warehouse: `wh.runs()` lists them, `wh.keep_runs(3)` deletes all
# but the last three.

# %%
wh.runs()
