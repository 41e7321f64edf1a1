"""Exceptions raised by gongshu_geo.

Every error the package raises on purpose subclasses :class:`GongshuGeoError`, so
callers (and the CLI) can tell a problem with the input from a bug.
"""

from __future__ import annotations

from gongshu_geo.core.problems import format_problems


class GongshuGeoError(Exception):
    """Base class for every error gongshu_geo raises on purpose."""


class InputError(GongshuGeoError, ValueError):
    """An input file or frame cannot be used as it is.

    The message lists the first 50 problems, then the counts by kind; every
    problem stays in ``problems`` (see :mod:`gongshu_geo.core.problems`).

    Parameters
    ----------
    problems : list of str
        One readable line per problem.
    source : str, optional
        The file or object the problems were found in.
    """

    def __init__(self, problems, source=None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        self.source = source
        super().__init__(format_problems(self.problems, source=source))


class ValidationError(InputError):
    """Data that was read but does not satisfy the schema."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or not allowed here."""


class OutputError(GongshuGeoError, OSError):
    """An output cannot be written (folder not writable, disk full, ...)."""


class MissingDependencyError(GongshuGeoError, ImportError):
    """An optional dependency is needed for this call but is not installed."""
