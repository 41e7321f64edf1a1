"""Small checks and arithmetic shared by the modules that take and give tables."""

from __future__ import annotations

import numpy as np

from ._errors import InputError
from ._i18n import gettext as _


def require_columns(frame, columns, what: str, fix: str = "") -> None:
    """Refuse a table that lacks a column, naming it and what was found.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : sequence of str
        The columns it needs.
    what : str
        What the table is, for the message (``"streets"``, ``"coverage"``...).
    fix : str
        How to get a right one, appended to the message.

    Raises
    ------
    InputError
        ``<what>: column "<name>" is missing; found <columns>. <fix>``

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "t")
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        message = _('{what}: column "{column}" is missing; found {found}.').format(
            what=_(what), column=missing[0], found=found
        )
        raise InputError(f"{message} {fix}".strip())


def share_of(part, whole) -> np.ndarray:
    """Return ``part / whole`` clipped to [0, 1], NaN where ``whole`` is not positive.

    Examples
    --------
    >>> share_of([1, 3, 1], [2, 2, 0]).tolist()
    [0.5, 1.0, nan]
    """
    part, whole = np.asarray(part, dtype=float), np.asarray(whole, dtype=float)
    return np.clip(np.divide(part, whole, out=np.full(len(part), np.nan), where=whole > 0), 0, 1)
