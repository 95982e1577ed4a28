"""The baseline notebook's preparation, shared by the benchmark helpers that redo one of its
steps at another scale (notebook_sweep.py, silhouette_bench.py): pandas read_csv, dropna,
its 12 features, StandardScaler, PCA(2, random_state=0), exactly as baseline_notebook.py does.
"""

from __future__ import annotations

FEATURES = [
    "popularity",
    "explicit",
    "danceability",
    "energy",
    "key",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "tempo",
    "time_signature",
]


def notebook_points(csv: str):
    """The notebook's 2-D PCA points of every complete row of the CSV (a NumPy array)."""
    import pandas as pd
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    df = pd.read_csv(csv).dropna()
    X = df[FEATURES].astype(float).to_numpy()
    return PCA(n_components=2, random_state=0).fit_transform(StandardScaler().fit_transform(X))
