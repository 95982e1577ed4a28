"""The spotclust command line: parse options, call the Python API (`spotclust`), print.

No logic here: each command is one call on the API, which raises only SpotclustError;
this module prints it as one line.
"""

from __future__ import annotations

import sys

import click

from spotclust import CommittedError, SpotclustError
from spotclust.cli import data, maintenance, manage, report, results, runs
from spotclust.cli.options import FailedAfterCommit
from spotclust.output import terminal_text


class OneLineUsageError(click.ClickException):
    """A bad option or argument: one line naming it, with where to read about it; exit 2."""

    exit_code = 2

    def __init__(self, error: click.UsageError):
        where = error.ctx.command_path if error.ctx is not None else "spotclust"
        super().__init__(f"{error.format_message()} (see `{where} --help`)")


class Interrupted(click.ClickException):
    """Ctrl-C before anything was committed: one line (click would print 'Aborted!'); 130."""

    exit_code = 130


class SpotclustGroup(click.Group):
    """Prints every SpotclustError as one line on stderr: exit status 1 when nothing was
    changed, 3 when something was committed first (CommittedError); Ctrl-C is one line too."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CommittedError as exc:
            raise FailedAfterCommit(terminal_text(str(exc))) from None
        except SpotclustError as exc:
            raise click.ClickException(terminal_text(str(exc))) from None
        except KeyboardInterrupt:
            raise Interrupted("interrupted (Ctrl-C) before anything was committed") from None
        except click.UsageError as exc:
            # click would print a usage block and a hint before the error: keep it one line.
            raise OneLineUsageError(exc) from None


@click.group(cls=SpotclustGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spotclust", prog_name="spotclust")  # looked up when asked
def cli():
    """Cluster music tracks by their audio features, with everything in a DuckDB warehouse."""


for command in (
    data.ingest,
    data.sql,
    data.tables,
    runs.cluster,
    runs.sweep,
    results.charts,
    results.place,
    results.explain,
    results.compare,
    data.export,
    data.synth,
    runs.run_all,
    maintenance.check,
    manage.runs,
    report.report,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="spotclust")


if __name__ == "__main__":
    sys.exit(main())
