"""People by street and tier at points: the sums the local and the Dask engines share.

A :class:`PointPlan` holds everything a worker needs: the distance model of
:mod:`gongshu_geo.analysis.access` (the same kernel the grid uses), the street table of
:mod:`gongshu_geo.analysis.streets` (the same shared-edge rule) and the tiers. Both
engines call :func:`sum_points` on their chunks; the sums of chunks add up
exactly, which is what lets :mod:`gongshu_geo.analysis.dask_engine` spread them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gongshu_geo.analysis.access import DistanceModel
from gongshu_geo.analysis.streets import StreetTable
from gongshu_geo.data.pointsrc import frame_xy_weight

#: Points handled at once; memory is about 200 bytes per point of a chunk.
DEFAULT_CHUNK_SIZE = 250_000


@dataclass
class PointPlan:
    """Everything a worker needs to add up its points; built once and broadcast.

    Parameters
    ----------
    model : DistanceModel
        Metres to the nearest facility at any point.
    streets : StreetTable
    tier_m : numpy.ndarray
        Tier distances, nearest first.
    weight : str or None
        Column of people per point; ``None`` counts points.
    chunk_size : int
        Points handled at once.
    workers : int
        Threads of one KD-tree query.
    """

    model: DistanceModel
    streets: StreetTable
    tier_m: np.ndarray
    weight: str | None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    workers: int = 1

    @property
    def shape(self) -> tuple:
        """Shape of the sums.

        Rows: the streets, then "outside every street"; columns: the first tier
        reaching a point, then "beyond every tier", then the count of points.
        """
        return (len(self.streets) + 1, len(self.tier_m) + 2)


def sum_points(plan: PointPlan, xy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Add up people by street and first covering tier, and points by street.

    Parameters
    ----------
    plan : PointPlan
    xy : numpy.ndarray
        ``(n, 2)`` coordinates in EPSG:4549.
    w : numpy.ndarray
        People at each point.

    Returns
    -------
    numpy.ndarray
        Sums of :attr:`PointPlan.shape`.
    """
    n_streets, n_tiers = len(plan.streets), len(plan.tier_m)
    out = np.zeros(plan.shape)
    for start in range(0, len(xy), plan.chunk_size):
        cxy, cw = xy[start : start + plan.chunk_size], w[start : start + plan.chunk_size]
        street = plan.streets.locate(cxy)
        street[street < 0] = n_streets
        # Nearby points queried one after another: twice as fast as random order.
        near = locality_order(cxy)
        dist = np.empty(len(cxy))
        dist[near] = plan.model.metres_at(cxy[near], max_m=plan.tier_m[-1], workers=plan.workers)
        tier = np.searchsorted(plan.tier_m, dist, side="left")
        flat = street * (n_tiers + 1) + tier
        size = (n_streets + 1) * (n_tiers + 1)
        out[:, :-1] += np.bincount(flat, weights=cw, minlength=size).reshape(n_streets + 1, -1)
        out[:, -1] += np.bincount(street, minlength=n_streets + 1)
    return out


def sum_partition(frame, plan: PointPlan) -> np.ndarray:
    """Add up one partition (a GeoDataFrame) of population points."""
    xy, w = frame_xy_weight(frame, plan.weight)
    return sum_points(plan, xy, w)


def locality_order(xy, cell_m: float = 250.0) -> np.ndarray:
    """Order the points row by row of a grid of ``cell_m`` squares."""
    if not len(xy):
        return np.arange(0)
    cell = np.floor((xy - xy.min(axis=0)) / cell_m).astype(np.int64)
    return np.argsort(cell[:, 1] * (cell[:, 0].max() + 1) + cell[:, 0], kind="stable")


def is_dask_frame(obj) -> bool:
    """Tell whether ``obj`` is a lazy, partitioned (dask-geopandas) frame."""
    return hasattr(obj, "to_delayed") and hasattr(obj, "npartitions") and hasattr(obj, "crs")
