"""A user who can write neither the package's folder nor $HOME: ingest, cluster and charts
work, as real processes run as `nobody`, and write nothing into the package.

The compiled silhouette kernels (model/_silhouette_kernels.py, numba) are kept on disk in
$NUMBA_CACHE_DIR, the package's __pycache__ or the user's cache folder, the first one that
can be written; where none can, they are compiled in each process.

Setup: the package and sql/ are copied, as a checkout (or a system-wide install) would be,
into a folder owned by root that nobody can read but not write. HOME is /nonexistent (as in
nobody's /etc/passwd entry; nobody cannot create it). The warehouse and the chart pages go
to the working folder, which nobody owns. The interpreter and libraries are this test's own
(the venv). When the Python installation the venv is built on lies in a folder nobody
cannot enter (e.g. pyenv under /root, mode 0700), the commands run in a private mount
namespace (`unshare -m`) where that folder is replaced by one that holds only what the
interpreter needs: readable by all, as a system-wide Python is.

Needs root (to become nobody with `setpriv`, and to mount). Skipped, saying why, where the
machine cannot do it; on CI (CI set) it fails instead.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sklearn.metrics import silhouette_score
from support.cli import Run
from support.processes import run_command
from support.warehouse_state import query

import spotclust
from spotclust.warehouse.sql_files import sql_root

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HOME = Path("/nonexistent")


def _cannot(reason: str):
    if ON_CI:
        pytest.fail(f"{reason}; CI must run this test", pytrace=False)
    pytest.skip(reason)


def _as_nobody() -> list[str]:
    """The prefix that runs a command as nobody, with no supplementary groups."""
    user = pwd.getpwnam("nobody")
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]


def _first_closed(path: Path) -> Path | None:
    """The first folder on the way to path that nobody cannot enter, or None."""
    for folder in [*reversed(path.parents), path]:
        if run_command([*_as_nobody(), "test", "-x", folder]).exit_code != 0:
            return folder
    return None


def _interpreter_opened(scratch: Path) -> list[str]:
    """A prefix under which nobody can reach the venv and the Python it is built on: none if
    it already can; else a private mount namespace where each closed folder on the way is
    covered by a skeleton folder (in scratch) holding bind mounts of just those two."""
    needed = sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()})
    needed = [p for p in needed if not any(q in p.parents for q in needed)]
    mounts, skeletons = [], {}
    for path in needed:
        closed = _first_closed(path)
        if closed is None:
            continue
        if closed == path:
            _cannot(f"nobody cannot enter {path}, which the interpreter needs")
        skeleton = skeletons.setdefault(closed, scratch / f"skeleton{len(skeletons)}")
        inner = skeleton / path.relative_to(closed)
        inner.mkdir(parents=True)
        mounts.append(f"mount --bind {shlex.quote(str(path))} {shlex.quote(str(inner))}")
    for closed, skeleton in skeletons.items():
        for folder in [skeleton, *skeleton.rglob("*")]:
            folder.chmod(0o755)
        mounts.append(f"mount --rbind {shlex.quote(str(skeleton))} {shlex.quote(str(closed))}")
    if not mounts:
        return []
    if not shutil.which("unshare"):
        _cannot("the interpreter is in a folder nobody cannot enter, and there is no unshare")
    script = " && ".join([*mounts, 'exec "$@"'])
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]


def _tree(folder: Path) -> dict[str, tuple]:
    """Every path under folder with its mode, size and modification time."""
    return {
        str(p.relative_to(folder)): (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


@dataclass
class Nobody:
    """The read-only checkout, nobody's working folder, and running Python there as nobody."""

    scratch: Path
    checkout: Path
    work: Path
    prefix: list[str]

    def python(self, *argv, env: dict[str, str] | None = None) -> Run:
        base = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(HOME),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.checkout),
        }
        return run_command(
            [*self.prefix, sys.executable, *argv], cwd=self.work, env={**base, **(env or {})}
        )


@pytest.fixture
def nobody() -> Iterator[Nobody]:
    if sys.platform != "linux" or os.geteuid() != 0:
        _cannot("needs root on Linux to run commands as nobody")
    if not shutil.which("setpriv"):
        _cannot("no setpriv (util-linux) to run commands as nobody")
    if HOME.exists():
        _cannot(f"{HOME} exists, so it cannot stand for a home folder nobody cannot write")
    scratch = Path(tempfile.mkdtemp(prefix="spotclust-nobody-"))  # pytest's tmp is root's only
    try:
        scratch.chmod(0o755)
        checkout = scratch / "checkout"  # owned by root: nobody reads, cannot write
        shutil.copytree(
            Path(spotclust.__file__).parent,
            checkout / "spotclust",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        shutil.copytree(Path(str(sql_root())), checkout / "sql")
        for path in [checkout, *checkout.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        work = scratch / "work"
        work.mkdir()
        user = pwd.getpwnam("nobody")
        os.chown(work, user.pw_uid, user.pw_gid)
        prefix = [*_interpreter_opened(scratch), *_as_nobody()]
        setup = Nobody(scratch, checkout, work, prefix)
        code = "import sys, numba, spotclust; print(sys.version); print(spotclust.__file__)"
        probe = setup.python("-c", code)
        if probe.exit_code != 0:
            _cannot(f"nobody cannot run this interpreter: {probe.stderr.strip()[-500:]}")
        # the very interpreter of this test, and the package from the read-only checkout
        assert probe.stdout.splitlines() == [sys.version, str(checkout / "spotclust/__init__.py")]
        yield setup
    finally:
        shutil.rmtree(scratch)


def test_a_user_who_cannot_write_the_package_or_home_can_cluster(nobody, small, make_csv):
    csv = make_csv(nobody.work / "small.csv", small.header, small.rows)
    csv.chmod(0o644)
    before = _tree(nobody.checkout)
    for args in (["ingest", csv], ["cluster", "--k", "3"], ["charts"]):
        done = nobody.python("-m", "spotclust.cli", *args)
        assert done.exit_code == 0, f"{args[0]}:\n{done.output}"
        assert "Traceback" not in done.output, f"{args[0]}:\n{done.output}"

    assert _tree(nobody.checkout) == before, "something was written into the package"
    assert not HOME.exists()
    assert not list(nobody.scratch.rglob("*.nb[ic]")), "a compiled kernel was kept somewhere"

    db = nobody.work / "warehouse" / "spotclust.duckdb"
    [(run_id, k, method, value)] = query(
        db, "SELECT run_id, k, silhouette_method, silhouette FROM runs"
    )
    assert (k, method) == (3, "exact")
    points = query(db, "SELECT pc1, pc2, cluster FROM assignments WHERE run_id = ?", [run_id])
    # the exact silhouette is the numba kernels' work: it must be the true value
    expected = silhouette_score([p[:2] for p in points], [p[2] for p in points])
    assert value == pytest.approx(expected, abs=1e-9)
    folder = nobody.work / "charts" / "spotclust" / f"run-{run_id}"  # per warehouse and run
    pages = sorted(p.name for p in folder.glob("*.html"))
    assert "index.html" in pages and len(pages) > 1, pages
    assert all((folder / page).stat().st_size > 0 for page in pages)


@pytest.mark.parametrize("setting", ["NUMBA_CACHE_DIR", "XDG_CACHE_HOME"])
def test_the_kernels_are_kept_where_the_user_can_write(nobody, setting):
    """A cache folder the user can write is used, and the package stays untouched."""
    before = _tree(nobody.checkout)
    cache = nobody.work / "cache"
    code = "from spotclust.model import _silhouette_kernels as k; k._sqrt(2.0)"  # compiles one
    done = nobody.python("-c", code, env={setting: str(cache)})
    assert done.exit_code == 0, done.output
    kept = [p.relative_to(cache) for p in cache.rglob("_silhouette_kernels._sqrt-*.nbi")]
    assert len(kept) == 1, kept
    assert kept[0].parts[:-2] == (("numba",) if setting == "XDG_CACHE_HOME" else ())
    assert kept[0].parts[-2].startswith("model_")  # numba's folder for the kernels' file
    assert _tree(nobody.checkout) == before
