"""Files spotclust writes (chart pages, exports, synthetic data, compare pages) are whole or
absent: written beside their name, then renamed over it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from spotclust.errors import ConfigError

T = TypeVar("T")


def write_whole(path: Path, write: Callable[[Path], T], hint: str = "") -> T:
    """write(partial) fills a hidden file next to path, which is then renamed to path.

    Any OSError (a full disk, a read-only folder, no permission) removes the partial file
    and is raised as one line: 'cannot write PATH: No space left on device' + hint.
    """
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        result = write(partial)
        os.replace(partial, path)
    except OSError as exc:
        reason = exc.strerror or str(exc).splitlines()[0]
        raise ConfigError(f"cannot write {path}: {reason}{hint}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return result
