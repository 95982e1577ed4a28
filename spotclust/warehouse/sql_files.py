"""The project's SQL files (top-level `sql/`, shipped in the wheel as `spotclust/sql`).

Models are the numbered files of the model folders, applied in the order of their number.
Each declares itself in its header::

    -- name: what it holds (grain: ...)      <- the first line becomes the table comment
    -- materialized: view | table
    -- unique: col[, col]                   <- the columns that identify a row (tested)

and its body is one SELECT; `CREATE OR REPLACE VIEW|TABLE name AS` is added when applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

MODEL_FOLDERS = ("staging", "cleaning", "features", "results")
_SOURCE_TREE = Path(__file__).resolve().parents[2] / "sql"  # a checkout run without install
_SETTING = re.compile(r"^--\s*(materialized|unique)\s*:\s*(.+?)\s*$")
_MATERIALIZATIONS = ("view", "table")


def sql_root() -> Traversable:
    """`spotclust/sql` in an installed wheel (or the editable install's mapping), else the
    top-level `sql/` of the source tree."""
    packaged = resources.files("spotclust") / "sql"
    return packaged if packaged.is_dir() else _SOURCE_TREE


@cache
def read_sql(name: str) -> str:
    """The text of sql/NAME, e.g. read_sql('charts/pca_map.sql')."""
    node = sql_root()
    for part in name.split("/"):
        node = node / part
    return node.read_text()


@dataclass(frozen=True)
class Model:
    """One SQL model: a view or a table built from one SELECT."""

    name: str
    folder: str
    materialized: str  # 'view' or 'table'
    unique: tuple[str, ...]  # the grain: columns whose values identify a row
    description: str  # the header's first line
    body: str  # the SELECT

    def create_statement(self) -> str:
        return f"CREATE OR REPLACE {self.materialized.upper()} {self.name} AS\n{self.body}"


def parse_model(folder: str, filename: str, text: str) -> Model:
    lines = text.splitlines(keepends=True)
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("--")), 0)
    header = [line.rstrip("\n") for line in lines[:header_end]]
    settings = dict(m.groups() for line in header if (m := _SETTING.match(line)))
    name = filename.removesuffix(".sql").split("_", 1)[1]
    where = f"sql/{folder}/{filename}"
    if settings.get("materialized") not in _MATERIALIZATIONS:
        raise ValueError(f"{where}: the header needs '-- materialized: view' (or table)")
    if not settings.get("unique"):
        raise ValueError(f"{where}: the header needs '-- unique: column[, column]'")
    return Model(
        name=name,
        folder=folder,
        materialized=settings["materialized"],
        unique=tuple(c.strip() for c in settings["unique"].split(",")),
        description=header[0].split(":", 1)[1].strip() if header else name,
        body="".join(lines[header_end:]),
    )


@cache
def models() -> tuple[Model, ...]:
    """Every model, in the order it is applied (the number its file name starts with)."""
    found = []
    for folder in MODEL_FOLDERS:
        for f in (sql_root() / folder).iterdir():
            if f.name.endswith(".sql"):
                found.append((f.name, parse_model(folder, f.name, f.read_text())))
    return tuple(model for _, model in sorted(found, key=lambda pair: pair[0]))
