"""What the tests share: running spotclust (in this process: support.cli; as a real process:
support.processes), reading a warehouse back (support.warehouse_state) and synthetic input
(support.grouped_data).

Tests import it as `support.<module>`: pytest puts tests/ (the folder of the rootdir's
conftest.py, which has no __init__.py) on sys.path.
"""
