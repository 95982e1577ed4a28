"""Files that cannot be tracks are refused before they are opened, and a failed first ingest
leaves nothing behind, not even the folders made for it (issue 13, items 5 and 8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.processes import run_process
from support.warehouse_state import warehouse_state


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "tracks.csv"
    os.mkfifo(path)
    return path


def _loop(tmp_path: Path) -> Path:
    path = tmp_path / "loop.csv"
    path.symlink_to(path)
    return path


SPECIAL = {  # (the file, what the one line says)
    "a FIFO (it blocked forever)": (_fifo, "not a regular file"),
    "/dev/zero (it never ends)": (lambda tmp_path: Path("/dev/zero"), "not a regular file"),
    "a symbolic link loop": (_loop, "symbolic link that leads nowhere"),
}


@pytest.mark.parametrize("case", SPECIAL.values(), ids=SPECIAL.keys())
def test_a_special_file_is_refused_at_once(case, tmp_path, small_db, assert_one_line_error):
    make, said = case
    before = warehouse_state(small_db)
    # a real process with a timeout: a FIFO used to hang ingest, and Ctrl-C with it
    run = run_process(["ingest", make(tmp_path), "--db", small_db], cwd=tmp_path, timeout=60)
    assert_one_line_error(run, said)
    assert warehouse_state(small_db) == before


def test_a_failed_first_ingest_leaves_no_warehouse_and_no_folders(tmp_path, run_cli):
    path = tmp_path / "silent.csv"
    path.write_text("track_name,danceability,energy,tempo\nA,0.5,0.5,0\nB,0.4,0.3,0\n")
    db = tmp_path / "new" / "deeper" / "w.duckdb"
    run = run_cli("ingest", path, "--db", db)
    assert run.exit_code == 1 and "no clean tracks" in run.stderr
    assert not (tmp_path / "new").exists()
