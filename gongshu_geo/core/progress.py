"""Progress bars for long steps, shown only to a person watching a terminal.

A bar is drawn (with :mod:`tqdm`, on standard error) when standard error is a
terminal and the ``gongshu_geo`` logger shows INFO messages, which is what the
command line does unless ``-q`` is given. Redirected output, CI logs, Jupyter
and library callers that have not turned logging on see no bar, and the log
messages are the same with or without one: while a bar is drawn they are
written above it instead of through it.
"""

from __future__ import annotations

import contextlib
import logging
import sys

#: The logger whose level decides (``-q`` raises it to WARNING).
_PACKAGE_LOGGER = "gongshu_geo"


def bars_shown(stream=None) -> bool:
    """Tell whether a progress bar would be drawn now.

    Parameters
    ----------
    stream : file, optional
        Where the bar would go; standard error by default.

    Returns
    -------
    bool
        True when ``stream`` is a terminal and the ``gongshu_geo`` logger is
        enabled for INFO.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return False
    return logging.getLogger(_PACKAGE_LOGGER).isEnabledFor(logging.INFO)


@contextlib.contextmanager
def progress_bar(*, desc: str, total: float | None = None, unit: str = "it"):
    """Yield a bar to ``update(n)``; a silent one when :func:`bars_shown` is False.

    Parameters
    ----------
    desc : str
        What is being done, shown before the bar.
    total : float, optional
        How many units make 100 %.
    unit : str
        The name of a unit (``"points"``, ``"layers"``).

    Yields
    ------
    tqdm.tqdm
        Call ``update(n)`` after each piece of work.
    """
    from tqdm import tqdm

    shown = bars_shown()
    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not shown,
        leave=False,
        dynamic_ncols=True,
        unit_scale=unit == "points",
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(bar)
        loggers = _console_loggers() if shown else []
        if loggers:
            from tqdm.contrib.logging import logging_redirect_tqdm

            stack.enter_context(logging_redirect_tqdm(loggers))
        yield bar


def _console_loggers() -> list:
    """Return the package logger and those of its ancestors that write to the console."""
    found, log = [], logging.getLogger(_PACKAGE_LOGGER)
    while log is not None:
        if any(
            isinstance(h, logging.StreamHandler) and h.stream in (sys.stdout, sys.stderr)
            for h in log.handlers
        ):
            found.append(log)
        if not log.propagate:
            break
        log = log.parent
    return found


def track(iterable, *, desc: str, total: int | None = None, unit: str = "it"):
    """Iterate over ``iterable`` with a progress bar (see :func:`progress_bar`).

    Parameters
    ----------
    iterable : iterable
        The pieces of work.
    desc, unit : str
        As for :func:`progress_bar`.
    total : int, optional
        The number of pieces; ``len(iterable)`` when it has one.

    Yields
    ------
    object
        The items of ``iterable``, in order.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    if total == 0:  # nothing to do: no bar flashing by
        yield from iterable
        return
    with progress_bar(desc=desc, total=total, unit=unit) as bar:
        for item in iterable:
            yield item
            bar.update(1)
