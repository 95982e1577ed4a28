"""The DuckDB warehouse: opening it (connection), its layout (schema), the SQL files
(sql_files), ad-hoc queries (query) and the translation of DuckDB's errors (errors)."""

from spotclust.warehouse.connection import (
    atomic,
    connect,
    connection,
    default_db_path,
    memory_limit,
    quote_identifier,
    recording_commits,
)
from spotclust.warehouse.query import run_query, stream_query
from spotclust.warehouse.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    apply_models,
    ensure_schema,
    list_relations,
    schema_version,
)
from spotclust.warehouse.sql_files import read_sql

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "apply_models",
    "atomic",
    "connect",
    "connection",
    "default_db_path",
    "recording_commits",
    "ensure_schema",
    "list_relations",
    "memory_limit",
    "quote_identifier",
    "read_sql",
    "run_query",
    "schema_version",
    "stream_query",
]
