"""The maximal covering location problem on a coverage matrix: exact and greedy.

Nothing here knows about geometry. The input is a sparse boolean matrix, one
row per candidate site and one column per population cell, and the people of
each cell as integers (micro-persons, so that equal sums are exactly equal and
ties can be broken by candidate order). The rows are in tie-break order: row
0 wins a tie against row 1.

- :func:`solve_exact` states the model of Church and ReVelle (1974) for
  ``pulp`` and its bundled CBC solver: binary ``x_i`` (build site i), continuous
  ``y_j`` in [0, 1] (cell j is covered), ``y_j <= sum of x_i over the sites that
  reach j``, ``sum x_i <= n``, maximise the people of the covered cells. A second
  solve keeps that optimum and takes, among the optimal sets, the one whose
  rows sum lowest, so that the answer does not depend on the solver's path.
- :func:`solve_greedy` adds, n times, the site that adds the most people
  (lazy evaluation: a site's last gain bounds its next one, because coverage
  is submodular). Nemhauser, Wolsey and Fisher (1978) show that the greedy set
  covers at least 1 - 1/e (63.2 %) of the optimum; the solution also carries
  the data-dependent bound of Minoux (1978), usually far tighter: for every
  set S on the greedy path, the optimum is at most f(S) plus the n largest
  gains given S.

Both first merge cells reached by the same set of sites into one (their people
add up): the model is the same and much smaller.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gongshu_geo.core.errors import InputError, MissingDependencyError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: The greedy guarantee of Nemhauser, Wolsey and Fisher (1978).
GREEDY_GUARANTEE = 1.0 - 1.0 / math.e


@dataclass(frozen=True)
class Solution:
    """Sites chosen on a coverage matrix.

    Attributes
    ----------
    chosen : list of int
        Rows of the matrix in the order they were chosen (for the exact
        method: the optimal set, ordered greedily within itself).
    gains : numpy.ndarray
        People (integer units) each chosen row adds to those before it.
    method : str
        ``"exact"`` or ``"greedy"``.
    upper_bound : int
        Units the optimum cannot exceed: the objective itself when exact.
    guarantee : float or None
        For greedy, 1 - 1/e: the share of the optimum it is proven to reach.
    seconds : float
        Time spent solving.
    """

    chosen: list
    gains: np.ndarray
    method: str
    upper_bound: int
    guarantee: float | None
    seconds: float

    @property
    def objective(self) -> int:
        """Units covered by the chosen rows together."""
        return int(np.sum(self.gains))


def reduce_matrix(matrix, weights):
    """Merge columns reached by the same rows and drop those worth nothing.

    Parameters
    ----------
    matrix : scipy.sparse matrix
        Boolean, rows x columns.
    weights : numpy.ndarray
        Non-negative integer units per column.

    Returns
    -------
    (scipy.sparse.csr_matrix, numpy.ndarray)
        Rows x merged columns (sorted indices), and their summed units.
    """
    a = sp.csc_matrix(matrix, dtype=bool)
    a.sum_duplicates()
    a.sort_indices()
    weights = np.asarray(weights, dtype=np.int64)
    useful = np.flatnonzero((weights > 0) & (np.diff(a.indptr) > 0))
    a = a[:, useful]
    w = weights[useful]
    groups: dict = {}
    label = np.empty(len(useful), dtype=np.int64)
    for j in range(len(useful)):
        key = a.indices[a.indptr[j] : a.indptr[j + 1]].tobytes()
        label[j] = groups.setdefault(key, len(groups))
    merged_w = np.zeros(len(groups), dtype=np.int64)
    np.add.at(merged_w, label, w)  # integer sums: exact
    first = np.unique(label, return_index=True)[1]
    merged = sp.csr_matrix(a[:, first], dtype=bool)
    merged.sort_indices()
    return merged, merged_w


def _gains(matrix, weights, covered) -> np.ndarray:
    """Units each row would add to ``covered`` columns (integer, exact)."""
    left = np.where(covered, 0, weights)
    # integer matrix-vector product: exact, unlike a float one
    return np.asarray(matrix.astype(np.int64) @ left).ravel()


def _order_within(matrix, weights, rows) -> tuple[list, np.ndarray]:
    """Order a set of rows greedily: most added first, ties by row."""
    covered = np.zeros(matrix.shape[1], dtype=bool)
    left, order, gains = list(rows), [], []
    for _step in range(len(left)):
        g = _gains(matrix[left], weights, covered)
        k = int(np.lexsort((np.asarray(left), -g))[0])
        order.append(left.pop(k))
        gains.append(int(g[k]))
        covered[matrix[order[-1]].indices] = True
    return order, np.asarray(gains, dtype=np.int64)


def _fill(matrix, weights, order, gains, n) -> tuple[list, np.ndarray]:
    """Complete a selection with rows that add nothing, lowest first, up to n rows."""
    taken = set(order)
    extra = [r for r in range(matrix.shape[0]) if r not in taken][: max(0, n - len(order))]
    return order + extra, np.r_[gains, np.zeros(len(extra), dtype=np.int64)]


def solve_greedy(matrix, weights, n: int) -> Solution:
    """Choose ``n`` rows greedily, with lazy evaluation; ties go to the lower row.

    Parameters
    ----------
    matrix : scipy.sparse matrix
        Boolean, rows (candidates) x columns (cells).
    weights : numpy.ndarray
        Non-negative integer units per column.
    n : int
        Rows to choose (fewer when the matrix has fewer rows).

    Returns
    -------
    Solution
    """
    start = time.perf_counter()
    m = matrix.shape[0]
    n = min(int(n), m)
    a, w = reduce_matrix(matrix, weights)
    covered = np.zeros(a.shape[1], dtype=bool)
    gains0 = _gains(a, w, covered)
    heap = [(-int(g), r, 0) for r, g in enumerate(gains0)]
    heapq.heapify(heap)
    order, gains, total = [], [], 0
    bound = total + int(np.sort(gains0)[::-1][:n].sum())
    while len(order) < n and heap:
        neg, r, step = heapq.heappop(heap)
        if step == len(order):  # fresh: the best gain, lowest row among equals
            order.append(r)
            gains.append(-neg)
            total += -neg
            covered[a[r].indices] = True
            now = _gains(a, w, covered)  # Minoux's bound at this point of the path
            bound = min(bound, total + int(np.sort(now)[::-1][:n].sum()))
            continue
        row = a.indices[a.indptr[r] : a.indptr[r + 1]]
        fresh = int(w[row][~covered[row]].sum())
        heapq.heappush(heap, (-fresh, r, len(order)))
    gains = np.asarray(gains, dtype=np.int64)
    seconds = time.perf_counter() - start
    logger.info(_("greedy: %d of %d sites in %.3f s"), len(order), m, seconds)
    return Solution(order, gains, "greedy", max(int(bound), total), GREEDY_GUARANTEE, seconds)


def solve_exact(matrix, weights, n: int, *, time_limit_s: float = 60.0) -> Solution | None:
    """Choose the ``n`` rows that cover the most, with pulp and CBC.

    Parameters
    ----------
    matrix : scipy.sparse matrix
        Boolean, rows (candidates) x columns (cells).
    weights : numpy.ndarray
        Non-negative integer units per column.
    n : int
        Rows to choose.
    time_limit_s : float
        Give up after this long (each of the two solves).

    Returns
    -------
    Solution or None
        None when CBC did not prove optimality within the time limit.
    """
    try:
        import pulp
    except ImportError as exc:  # pragma: no cover - pulp is a dependency
        raise MissingDependencyError(
            _("the exact method needs pulp: pip install pulp (it brings the CBC solver)")
        ) from exc
    start = time.perf_counter()
    m = matrix.shape[0]
    n = min(int(n), m)
    a, w = reduce_matrix(matrix, weights)
    useful = np.flatnonzero(np.diff(a.indptr) > 0)
    if len(useful) == 0 or n == 0:
        order, gains = _fill(a, w, [], np.zeros(0, dtype=np.int64), n)
        return Solution(order, gains, "exact", 0, None, time.perf_counter() - start)
    cols = sp.csc_matrix(a)
    prob = pulp.LpProblem("maximal_covering", pulp.LpMaximize)
    x = {int(i): _variable(prob, pulp, f"x{i}", "Binary") for i in useful}
    y = [_variable(prob, pulp, f"y{j}", "Continuous") for j in range(a.shape[1])]
    # the solver sees weights scaled to at most 1000; the answer is re-measured in units
    people = w * (1000.0 / max(int(w.max()), 1))
    covered = pulp.LpAffineExpression([(y[j], float(people[j])) for j in range(a.shape[1])])
    prob += covered
    for j in range(a.shape[1]):
        rows = cols.indices[cols.indptr[j] : cols.indptr[j + 1]]
        reach = pulp.LpAffineExpression([(y[j], 1.0)] + [(x[int(i)], -1.0) for i in rows])
        prob += reach <= 0, f"reach{j}"
    prob += pulp.LpAffineExpression([(v, 1.0) for v in x.values()]) <= n, "sites"
    solver = _cbc(pulp, time_limit_s)
    if not _solved(prob, solver, pulp):
        return None
    best = pulp.value(covered)
    first = _taken(x)
    # Second solve: keep the optimum (within the solver's tolerance), prefer the lowest rows;
    # its set is kept only if, measured exactly, it covers as much as the first one.
    prob += covered >= best - 1e-7 * max(abs(best), 1.0), "optimum"
    prob.sense = pulp.LpMinimize
    prob.setObjective(pulp.LpAffineExpression([(v, float(i + 1)) for i, v in x.items()]))
    rows = _taken(x) if _solved(prob, solver, pulp) else first
    if _value(a, w, rows) < _value(a, w, first):
        rows = first
    order, gains = _order_within(a, w, rows)
    order, gains = _fill(a, w, order, gains, n)
    seconds = time.perf_counter() - start
    logger.info(
        _("exact (CBC): %d of %d sites, %d merged cells, %.3f s"), n, m, a.shape[1], seconds
    )
    return Solution(order, gains, "exact", int(gains.sum()), None, seconds)


def _taken(x) -> list:
    return sorted(i for i, v in x.items() if v.value() is not None and v.value() > 0.5)


def _value(matrix, weights, rows) -> int:
    """Units covered by a set of rows, exactly."""
    cols = np.unique(matrix[list(rows)].indices) if len(rows) else np.zeros(0, dtype=np.int64)
    return int(weights[cols].sum())


def _cbc(pulp, time_limit_s):
    """CBC: on the PATH if installed, else the binary bundled with pulp, run as COIN_CMD.

    (``PULP_CBC_CMD``, the usual way to the bundled binary, is deprecated in pulp 3.3.)
    """
    options = {"msg": False, "timeLimit": time_limit_s, "threads": 1}
    solver = pulp.COIN_CMD(**options)
    if solver.available():
        return solver
    bundled = getattr(getattr(pulp.apis, "coin_api", None), "pulp_cbc_path", None)
    if bundled and os.access(bundled, os.X_OK):
        return pulp.COIN_CMD(path=bundled, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)


def _variable(prob, pulp, name, cat):
    """Make a variable in [0, 1] the way the installed pulp prefers."""
    if hasattr(prob, "add_variable"):  # pulp >= 3.3: variables belong to the problem
        return prob.add_variable(name, 0, 1, cat=cat)
    return pulp.LpVariable(name, 0, 1, cat=cat)


def _solved(prob, solver, pulp) -> bool:
    prob.solve(solver)
    if prob.status != pulp.LpStatusOptimal or prob.sol_status != pulp.LpSolutionOptimal:
        logger.warning(
            _("CBC stopped without a proven optimum (%s, %s)"),
            pulp.LpStatus[prob.status],
            pulp.LpSolution.get(prob.sol_status, prob.sol_status),
        )
        return False
    return True


#: Merged (candidate, cell) pairs up to which ``method="auto"`` tries the exact model:
#: on the packaged district 150,000 pairs (1000 candidates, n = 10) solve in about 6 s,
#: 750,000 (2000 candidates, n = 20) not within 120 s (benchmarks/bench_siting.py).
AUTO_EXACT_MAX_PAIRS = 200_000
#: Seconds ``method="auto"`` gives CBC before falling back to greedy.
AUTO_TIME_LIMIT_S = 20.0


def solve(matrix, weights, n: int, *, method: str = "auto", time_limit_s: float = 60.0):
    """Solve with the method asked for; ``"auto"`` tries exact on small problems.

    Parameters
    ----------
    matrix, weights, n
        As for :func:`solve_greedy`.
    method : {"auto", "exact", "greedy"}
        ``"auto"``: exact when the merged matrix has at most
        :data:`AUTO_EXACT_MAX_PAIRS` non-zeros and CBC proves the optimum within
        ``time_limit_s`` (at most :data:`AUTO_TIME_LIMIT_S`), greedy otherwise.
    time_limit_s : float
        Time limit of each CBC solve.

    Returns
    -------
    Solution
    """
    if method not in ("auto", "exact", "greedy"):
        raise InputError(
            _("method must be one of auto, exact, greedy; found {method!r}").format(method=method)
        )
    if method == "greedy":
        return solve_greedy(matrix, weights, n)
    if method == "auto":
        pairs = reduce_matrix(matrix, weights)[0].nnz
        if pairs > AUTO_EXACT_MAX_PAIRS:
            logger.info(_("auto: %d merged pairs > %d, greedy"), pairs, AUTO_EXACT_MAX_PAIRS)
            return solve_greedy(matrix, weights, n)
        time_limit_s = min(time_limit_s, AUTO_TIME_LIMIT_S)
    found = solve_exact(matrix, weights, n, time_limit_s=time_limit_s)
    if found is not None:
        return found
    if method == "exact":
        raise InputError(
            _(
                "CBC did not prove the optimum within {time_limit_s:g} s; use "
                "method='greedy' (or 'auto'), fewer candidates or a larger time limit"
            ).format(time_limit_s=time_limit_s)
        )
    logger.warning(_("exact solve gave up after %g s; using greedy"), time_limit_s)
    return solve_greedy(matrix, weights, n)
