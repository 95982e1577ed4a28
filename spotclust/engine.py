"""Where a run is fitted: in this process (local) or by Apache Spark (spotclust.spark).

Light on purpose: the CLI builds an Engine for every command, and `--help` must not load
Spark, scikit-learn or DuckDB.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spotclust.errors import ConfigError

ENGINES = ("local", "spark")
MASTER_VARIABLE = "SPOTCLUST_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"


@dataclass(frozen=True)
class Engine:
    """How to fit: name 'local' (scikit-learn in this process) or 'spark' (MLlib).

    master: Spark's master URL (None: $SPOTCLUST_SPARK_MASTER, else local[*]); conf: Spark
    settings as (key, value) pairs or 'key=value' texts; stage: the directory the features
    and assignments pass through as Parquet (None: beside the warehouse). The three are
    Spark's only.
    """

    name: str = "local"
    master: str | None = None
    conf: tuple[tuple[str, str], ...] = ()
    stage: Path | None = None

    def __post_init__(self) -> None:
        # conf: (key, value) pairs, or KEY=VALUE texts as --spark-conf gives them
        items = (self.conf,) if isinstance(self.conf, str) else self.conf
        pairs = [parse_conf([item])[0] if isinstance(item, str) else item for item in items]
        object.__setattr__(self, "conf", tuple((str(k), str(v)) for k, v in pairs))
        if self.stage is not None:
            object.__setattr__(self, "stage", Path(self.stage))

    def check(self) -> None:
        if self.name not in ENGINES:
            raise ConfigError(f"unknown engine {self.name!r}: use {' or '.join(ENGINES)}")
        if self.name == "local":
            given = [
                option
                for option, value in (
                    ("--spark-master", self.master),
                    ("--spark-conf", self.conf),
                    ("--spark-stage", self.stage),
                )
                if value
            ]
            if given:
                verb = "is" if len(given) == 1 else "are"
                raise ConfigError(f"{', '.join(given)} {verb} for Spark: add --engine spark")

    @property
    def spark_master(self) -> str:
        """The master URL this run uses: as given, else $SPOTCLUST_SPARK_MASTER, else
        local[*] (every core of this machine)."""
        return self.master or os.environ.get(MASTER_VARIABLE) or DEFAULT_MASTER


LOCAL = Engine()


def parse_conf(pairs: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """KEY=VALUE texts (--spark-conf, repeatable) -> (key, value) pairs, checked."""
    parsed = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--spark-conf {pair!r}: write KEY=VALUE, e.g. --spark-conf spark.driver.memory=4g"
            )
        parsed.append((key.strip(), value))
    return tuple(parsed)


def as_engine(engine: Engine | str | None) -> Engine:
    """The API's engine argument: an Engine, its name, or None (local), checked."""
    chosen = LOCAL if engine is None else Engine(engine) if isinstance(engine, str) else engine
    chosen.check()
    return chosen
