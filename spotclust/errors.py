"""Errors a user can cause. The CLI prints each as one line, without a traceback."""


class SpotclustError(Exception):
    """A problem the user can fix; the message says what is wrong and what to do."""


class InputFileError(SpotclustError):
    """The file given to ingest cannot be loaded."""


class WarehouseError(SpotclustError):
    """The warehouse is missing, busy, or not a spotclust warehouse."""


class ConfigError(SpotclustError):
    """An option or combination of options that cannot work."""
