"""`spotclust ARGS` in this process (click's CliRunner), and what its outcome must look like.

A real process (support.processes.run_process) gives the same Run.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from click.testing import CliRunner

from spotclust.cli import cli

# Settings a developer's shell may hold that must not reach a command under test.
AMBIENT_SETTINGS = (
    "SPOTCLUST_DB",
    "SPOTCLUST_LOCK_TIMEOUT",
    "SPOTCLUST_WORKERS",
    "SPOTCLUST_SPARK_MASTER",
)


@dataclass
class Run:
    """The outcome of one CLI run, the same shape for in-process and subprocess runs."""

    exit_code: int
    stdout: str
    stderr: str
    traceback: str | None = None  # an exception that escaped the CLI (in-process only)
    max_rss_kib: int | None = None  # peak resident memory (support.processes.run_measured)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run_cli(*args, env: dict[str, str] | None = None) -> Run:
    """`spotclust ARGS` in this process; env adds to (or, as None, removes from) os.environ."""
    result = _runner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=True)
    escaped = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        escaped = "".join(traceback.format_exception(*result.exc_info))
    return Run(result.exit_code, result.stdout, result.stderr, escaped)


def assert_succeeded(run: Run) -> Run:
    """The command ended well: exit 0 and no exception escaped it."""
    assert run.traceback is None, f"an exception escaped the CLI:\n{run.traceback}"
    assert run.exit_code == 0, run.output
    return run


def run_cli_ok(*args, env: dict[str, str] | None = None) -> Run:
    """run_cli, asserting that the command succeeded."""
    return assert_succeeded(run_cli(*args, env=env))


def assert_one_line_error(run: Run, *needles: str) -> str:
    """The command failed, said so in one stderr line, printed no traceback, and that line
    contains every needle (case-insensitive). Returns the line."""
    assert run.traceback is None, f"an exception escaped the CLI:\n{run.traceback}"
    assert run.exit_code != 0, f"expected a failure, got exit 0:\n{run.output}"
    assert "Traceback" not in run.output, run.output
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{run.stderr}"
    assert run.stdout.strip() == "", f"nothing should go to stdout:\n{run.stdout}"
    line = lines[0]
    for needle in needles:
        assert needle.lower() in line.lower(), f"{needle!r} not in {line!r}"
    return line
