"""Arithmetic shared by the modules that take and give tables."""

from __future__ import annotations

import numpy as np


def share_of(part, whole) -> np.ndarray:
    """Return ``part / whole`` clipped to [0, 1], NaN where ``whole`` is not positive.

    Examples
    --------
    >>> share_of([1, 3, 1], [2, 2, 0]).tolist()
    [0.5, 1.0, nan]
    """
    part, whole = np.asarray(part, dtype=float), np.asarray(whole, dtype=float)
    return np.clip(np.divide(part, whole, out=np.full(len(part), np.nan), where=whole > 0), 0, 1)
