"""Errors a user can cause. The CLI prints each as one line, without a traceback."""


class SpotclustError(Exception):
    """A problem the user can fix; the message says what is wrong and what to do."""


class InputFileError(SpotclustError):
    """The file given to ingest cannot be loaded."""


class WarehouseError(SpotclustError):
    """The warehouse is missing, busy, or not a spotclust warehouse."""


class ConfigError(SpotclustError):
    """An option or combination of options that cannot work."""


class EngineError(SpotclustError):
    """The engine cannot run: Spark or Java missing, its master unreachable, or Spark failed."""


class CommittedError(SpotclustError):
    """The work was committed, then a later step failed or was interrupted.

    The message starts with what was committed ('committed run 7; charts not written: ...');
    the CLI exits with status 3, never the 1 that means nothing was changed.
    """

    def __init__(self, committed: str, problem: str):
        super().__init__(f"committed {committed}; {problem}")
        self.committed = committed
