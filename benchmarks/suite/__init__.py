"""The spotclust benchmark, run by benchmarks/run.py.

harness.py measures child processes, environment.py describes the machine, spotclust_cli.py
probes spotclust, one module per section (listed in sections.py) runs and renders it, and
report.py writes RESULTS.md from the saved results.

Nothing here imports duckdb, numpy or spotclust (see harness.py): keep it that way.
"""
