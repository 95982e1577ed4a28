"""Runs: fit a config on the warehouse's data and record it (cluster), sweep k (sweep), find
a run (resolve), run one again (repeat), and write its tables (write)."""
