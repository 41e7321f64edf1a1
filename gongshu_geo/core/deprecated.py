"""Keywords renamed in 0.2, kept working for one release with a DeprecationWarning."""

from __future__ import annotations

import functools
import warnings


def renamed_keywords(**renames: str):
    """Make a function accept old keyword names, warning that each has a new one.

    Parameters
    ----------
    **renames : str
        Old keyword -> new keyword.

    Returns
    -------
    callable
        A decorator. The wrapped function keeps its signature (``inspect``
        follows ``__wrapped__``); passing both the old and the new keyword is
        a TypeError.

    Examples
    --------
    >>> @renamed_keywords(weight="population_field")
    ... def f(*, population_field=None):
    ...     return population_field
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f(weight="people")
    'people'
    >>> str(caught[0].message)
    'f(weight=...) is deprecated and will be removed in 0.3; use population_field=...'
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{func.__name__}: pass {new}=, not both {old}= and {new}=")
                warnings.warn(
                    f"{func.__name__}({old}=...) is deprecated and will be removed in 0.3; "
                    f"use {new}=...",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def deprecated_alias(func, old: str):
    """Keep a renamed public function callable under its old name, with a warning.

    Parameters
    ----------
    func : callable
        The function under its new name.
    old : str
        Its name before 0.2.

    Returns
    -------
    callable
        ``func``, warning with a DeprecationWarning on every call.

    Examples
    --------
    >>> def write_map():
    ...     return "written"
    >>> save_map = deprecated_alias(write_map, "save_map")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     save_map()
    'written'
    >>> str(caught[0].message)
    'save_map() is deprecated and will be removed in 0.3; use write_map()'
    """

    @functools.wraps(func)
    def alias(*args, **kwargs):
        warnings.warn(
            f"{old}() is deprecated and will be removed in 0.3; use {func.__name__}()",
            DeprecationWarning,
            stacklevel=2,
        )
        return func(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated alias of :func:`{func.__name__}`, removed in 0.3."
    return alias
