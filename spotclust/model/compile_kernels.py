"""Compile every numba kernel once, into numba's on-disk cache, so that no command compiles
on the user's clock (compiling them all takes about a minute of CPU; loading them from the
cache, well under a second).

`make install` runs `python -m spotclust.model.compile_kernels` after installing the
package. Each kernel is compiled for the argument types spotclust calls it with, by calling
the public functions on small data that takes every path: exact silhouette with pruned
tiles (k >= 3) and without (k = 2), the sampled silhouette, k-means and its prediction.
"""

from __future__ import annotations

import sys

import numpy as np

# The kernels Python calls; the others are compiled into these (inlined or called from them).
ENTRY_POINTS = {
    "_silhouette_kernels": ("_tile_sums", "_symmetric_sums", "_row_sums", "_candidates"),
    "_kmeans_kernels": ("lloyd", "nearest", "plusplus"),
}


def kernels() -> dict[str, object]:
    """'module.name' -> numba dispatcher, for every kernel spotclust calls from Python."""
    from importlib import import_module

    return {
        f"{module}.{name}": getattr(import_module(f"spotclust.model.{module}"), name)
        for module, names in ENTRY_POINTS.items()
        for name in names
    }


def exercise() -> None:
    """Call every kernel through spotclust's own functions, with the types they use."""
    rng = np.random.default_rng(0)
    for d in (2, 3):  # the 2-D and n-D paths of the silhouette kernels
        centres = rng.normal(scale=20, size=(4, d))
        labels = np.repeat(np.arange(4), 200)
        _call_every_kernel(centres[labels] + rng.normal(size=(800, d)), labels, 100)


def cached() -> bool:
    """Whether numba's cache holds every kernel, compiled from the current source (its index
    stamped with the source file's time and size). Only then may spotclust.preload load
    them in a background thread: there, a kernel that is not cached would be compiled while
    the analysis compiles others, and two threads compiling at once crash LLVM (an empty
    cache made `spotclust run` abort 3 times in 3). False when numba's cache layout is not
    the one this reads."""
    try:
        return all(kernel._cache._cache_file._load_index() for kernel in kernels().values())
    except Exception:  # noqa: BLE001 - numba's internals moved: do not load in the background
        return False


def load_cached() -> None:
    """Load the kernels a 2-D analysis calls from numba's cache into this process, k-means
    first (spotclust.preload runs this while DuckDB ingests), on a few rows."""
    _call_every_kernel(np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 4, 10)


def _call_every_kernel(X: np.ndarray, labels: np.ndarray, sample: int) -> None:
    """k-means and its prediction, then the silhouettes: exact with k = 4 labels (bounds and
    pruned tiles) and k = 2 (the plain upper triangle), and sampled."""
    from spotclust.model.kmeans import lloyd_kmeans
    from spotclust.model.silhouette import sampled_silhouette, silhouette_samples

    lloyd_kmeans(X, 4, 0).predict(X)
    silhouette_samples(X, labels)
    silhouette_samples(X, labels % 2)
    sampled_silhouette(X, labels, sample, seed=0)


def main() -> int:
    exercise()
    compiled = kernels()
    missing = [name for name, kernel in compiled.items() if not kernel.signatures]
    if missing:  # a kernel no path reached: it would compile on first use
        print(f"not compiled: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"spotclust: {len(compiled)} compiled kernels cached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
