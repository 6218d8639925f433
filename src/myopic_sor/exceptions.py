"""Errors and warnings raised by myopic-sor.

Every error derives from :class:`MyopicSorError` and from the matching built-in exception, so
``except ValueError`` keeps working for callers that do not know this package. Messages say what
is wrong, where (file, column, row, timestamp) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConvergenceWarning",
    "DataFormatError",
    "DataNotFoundError",
    "DataQualityWarning",
    "DataValidationError",
    "ExecutionError",
    "MyopicSorError",
    "MyopicSorWarning",
    "NotFittedError",
]


class MyopicSorError(Exception):
    """Base class of every error raised by myopic-sor."""


class ConfigError(MyopicSorError, ValueError):
    """A configuration file or value is invalid (the message names the key)."""


class DataNotFoundError(MyopicSorError, FileNotFoundError):
    """An input file or directory does not exist, or a layout holds no matching file."""


class DataFormatError(MyopicSorError, ValueError):
    """A file cannot be parsed: unknown extension, corrupt compression, missing column, ..."""


class DataValidationError(MyopicSorError, ValueError):
    """Parsed data breaks an invariant (unsorted timestamps, non-positive prices, ...)."""


class ExecutionError(MyopicSorError, RuntimeError):
    """An order cannot be executed as asked (displayed depth exhausted, unknown order, a venue
    with no book at that time)."""


class NotFittedError(MyopicSorError, AttributeError):
    """An estimator was used before ``fit`` was called."""


class MyopicSorWarning(UserWarning):
    """Base class of every warning issued by myopic-sor."""


class DataQualityWarning(MyopicSorWarning):
    """Data were usable but something was repaired, flagged or filtered (counts in the message)."""


class ConvergenceWarning(MyopicSorWarning):
    """An estimator or optimiser did not converge, or fell back to a default."""
