"""Figures and Markdown for the report: seconds, megabytes, ratios, tables, commands."""

from __future__ import annotations

import contextlib
import statistics
from pathlib import Path

from .harness import PYTHON, ROOT


def summary(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {
        "n": len(values),
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
    }


def fmt_s(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f} s"


def fmt_mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


def fmt_x(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}x"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def median_pct(values: list) -> str:
    values = [v for v in values if v is not None]
    return pct(statistics.median(values)) if values else "–"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def met(margin: float | None, threshold: float) -> str:
    """The "met" column of the summary: is margin at least threshold."""
    if margin is None:
        return "no"
    return "yes" if margin >= threshold else "**no**"


def table(header: list[str], rows: list[list]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def heading(title: str, section: dict) -> str:
    return f"## {title}\n\n_Measured {section['measured']} ({section['seconds'] / 60:.0f} min)._\n"


def shell(cmd: list[str]) -> str:
    """cmd as someone would type it in the repository: relative paths, no venv prefix."""
    parts = []
    for c in cmd:
        c = str(c)
        with contextlib.suppress(ValueError):
            c = str(Path(c).relative_to(ROOT)) if c.startswith("/") else c
        if c == PYTHON or c.endswith("/python") or c.endswith("/python3"):
            c = ".venv/bin/python"
        elif c.endswith("/spotclust") and "/bin/" in c:
            c = "spotclust"
        parts.append(c)
    return " ".join(parts)
