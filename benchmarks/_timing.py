"""Shared timing helper for the benchmark scripts."""

import time

import numpy as np


def timed(func, repeat=1):
    """Run ``func`` ``repeat`` times; return the best wall time in seconds and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result
