"""No compile on the user's clock: `make install` compiles every numba kernel into numba's
cache (python -m spotclust.model.compile_kernels), and a fresh process loads them from it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from support.processes import run_command, run_process, spotclust_env

from spotclust.model.compile_kernels import ENTRY_POINTS, kernels

# A fresh interpreter takes every kernel path (as compile_kernels does) on data of its own,
# then reports numba's cache statistics of each kernel.
_REPORT = """
import json
import numpy as np
from spotclust.model.compile_kernels import kernels
from spotclust.model.kmeans import lloyd_kmeans
from spotclust.model.silhouette import sampled_silhouette, silhouette_samples

rng = np.random.default_rng(7)
for d in (2, 5):
    labels = np.repeat(np.arange(6), 500)
    X = rng.normal(scale=15, size=(6, d))[labels] + rng.normal(size=(3000, d))
    silhouette_samples(X, labels)
    silhouette_samples(X, labels % 2)
    sampled_silhouette(X, labels, 300, seed=1)
    lloyd_kmeans(X, 6, 3).predict(X)
print(json.dumps({
    name: [sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values()), k.stats.cache_path]
    for name, k in kernels().items()
}))
"""


def test_every_kernel_called_from_python_is_listed():
    listed = set(kernels())
    assert len(listed) == sum(len(names) for names in ENTRY_POINTS.values())
    assert {"_silhouette_kernels._tile_sums", "_kmeans_kernels.lloyd"} <= listed


def test_install_cached_every_kernel_and_a_fresh_process_compiles_none():
    run = run_command([sys.executable, "-c", _REPORT], env=spotclust_env())
    assert run.exit_code == 0, run.output
    stats = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(stats) == set(kernels())
    for name, (hits, misses, cache_path) in stats.items():
        assert misses == 0, f"{name} was compiled in a fresh process: run make install"
        assert hits >= 1, f"{name} was not loaded from numba's cache"
        module, kernel = name.split(".")
        assert list(Path(cache_path).glob(f"{module}.{kernel}-*.nbi")), cache_path


def test_a_cli_run_loads_the_kernels_and_compiles_nothing(tmp_path, small_template):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_template, db)
    run = run_process(
        ["cluster", "--k", "4", "--no-charts", "--db", db, "-q"],
        cwd=tmp_path,
        env=spotclust_env({"NUMBA_DEBUG_CACHE": "1"}),
    )
    assert run.exit_code == 0, run.output
    assert "data loaded from" in run.output  # numba's cache debug lines
    assert "data saved to" not in run.output and "index saved to" not in run.output


def test_without_the_cache_a_fresh_process_compiles_and_the_statistics_say_so(tmp_path):
    # The control of the test above: numba's statistics do tell a compile from a load.
    # The smallest kernel (nearest, k-means' prediction): compiling it takes 7 s, lloyd 16 s.
    script = _REPORT.replace("for d in (2, 5):", "for d in ():") + (
        "from spotclust.model.kmeans import KMeansFit\n"
        "KMeansFit(np.zeros((3, 2)), None, 0.0, 0).predict(rng.normal(size=(50, 2)))\n"
        "print(sum(kernels()['_kmeans_kernels.nearest'].stats.cache_misses.values()))\n"
    )
    run = run_command(
        [sys.executable, "-c", script],
        env=spotclust_env({"NUMBA_CACHE_DIR": str(tmp_path / "empty")}),
    )
    assert run.exit_code == 0, run.output
    assert int(run.stdout.strip().splitlines()[-1]) == 1


def test_preloading_loads_every_kernel_from_the_cache_before_the_analysis_calls_one():
    # `spotclust run` loads the kernels in its preload thread while DuckDB ingests
    # (spotclust/preload.py): every kernel has its code after load_cached(), from the cache.
    script = (
        "import json\n"
        "from spotclust.model.compile_kernels import kernels, load_cached\n"
        "load_cached()\n"
        "print(json.dumps({name: [len(k.signatures), sum(k.stats.cache_misses.values())]"
        " for name, k in kernels().items()}))\n"
    )
    run = run_command([sys.executable, "-c", script], env=spotclust_env())
    assert run.exit_code == 0, run.output
    stats = json.loads(run.stdout.strip().splitlines()[-1])
    assert stats == {name: [1, 0] for name in kernels()}


# The preload thread of `spotclust run`, started and left to finish; then whether numba's cache
# held the kernels, and how many signatures each kernel has in this process.
_PRELOAD = """
import json
from spotclust import preload
from spotclust.model.compile_kernels import cached, kernels
loading = preload.start()
loading.join()
loading.thread.join()
compiled = {name: len(kernel.signatures) for name, kernel in kernels().items()}
print(json.dumps({"cached": cached(), "compiled": compiled}))
"""


def test_the_preload_loads_cached_kernels_and_never_compiles_one(tmp_path):
    # With an empty cache, the preload thread compiled kernels while the analysis compiled
    # others: LLVM aborted `spotclust run` (3 runs in 3). It now leaves them to the analysis.
    for cache, expected in ((None, True), (tmp_path / "empty", False)):
        env = spotclust_env({} if cache is None else {"NUMBA_CACHE_DIR": str(cache)})
        run = run_command([sys.executable, "-c", _PRELOAD], env=env)
        assert run.exit_code == 0, run.output
        found = json.loads(run.stdout.strip().splitlines()[-1])
        assert found["cached"] is expected
        assert set(found["compiled"].values()) == ({1} if expected else {0}), found
