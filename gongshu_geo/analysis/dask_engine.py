"""Point coverage on Dask: the same sums as the local engine, spread over workers.

:func:`gongshu_geo.analysis.points.compute_point_coverage` with ``engine="dask"`` lands
here. The population points reach the workers in one of three ways:

- a GeoParquet file or folder: one task per row group, each reading its own
  rows with pyarrow on the worker, so ten million points are never in one
  process at once and nothing but a file name travels;
- a ``dask_geopandas.GeoDataFrame`` (``dask_geopandas.read_parquet(...)``,
  ``read_file(...)``, ``.spatial_shuffle(by="hilbert")``...): one task per
  partition;
- a GeoDataFrame in memory: sorted along a Hilbert curve, cut into compact
  patches of coordinates and weights and scattered (handing it to
  dask-geopandas instead re-serialises every geometry into the task graph:
  38 MiB for a million points, four times slower).

The facilities' KD-tree, the street table and the tiers travel to every worker
once; with a walking graph, the grid of walks of :mod:`gongshu_geo.analysis.access` goes
to each task of in-memory points only as the window under its patch of points
(:func:`window_model`), so a worker holds a patch, not the city (Parquet files
and lazy frames, whose extent is known only once read, still get it whole).
What is shared goes once with ``Client.scatter(..., broadcast=True)``. Each
task yields a small array of sums (people per street and first covering tier,
points per street); the arrays are added in a fixed tree, so the result equals
the local engine's up to the order of floating-point additions.

Dask and distributed are optional: ``pip install 'gongshu-geo[scale]'``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from gongshu_geo.analysis.access import DistanceModel
from gongshu_geo.analysis.point_sums import PointPlan, is_dask_frame, sum_partition, sum_points
from gongshu_geo.core.errors import InputError, MissingDependencyError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.pointsrc import frame_xy_weight, iter_parquet_chunks, parquet_pieces

logger = logging.getLogger(__name__)

#: Partitions of in-memory points per worker when ``npartitions`` is not given.
PARTITIONS_PER_WORKER = 4
#: Partial sums added together per task of the final reduction.
REDUCE_FAN_IN = 8
#: Cells per side of the tiles that cut in-memory points into tasks in network mode.
WINDOW_TILE_CELLS = 1000
#: Dask's own single-machine schedulers, accepted by name as ``scheduler``.
LOCAL_SCHEDULERS = ("threads", "synchronous", "sync", "processes")

_INSTALL = "pip install 'gongshu-geo[scale]' (dask[distributed], pyarrow)"


def _import_dask():
    try:
        import dask
    except ImportError as exc:
        raise MissingDependencyError(
            _("engine='dask' needs dask: {install}").format(install=_INSTALL)
        ) from exc
    return dask


@contextlib.contextmanager
def dask_client(scheduler=None, *, n_workers: int | None = None):
    """Yield a ``distributed.Client`` for ``scheduler``, or None for Dask's local schedulers.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        ``None``: start a :class:`distributed.LocalCluster` of ``n_workers``
        single-threaded processes, closed on exit. ``"tcp://host:8786"`` (any
        address with ``://``): connect to that scheduler. A ``Client``: use it
        as it is. ``"threads"``, ``"synchronous"`` or ``"processes"``: no
        client; Dask's in-process scheduler of that name.
    n_workers : int, optional
        Workers of the local cluster; one per core by default.

    Yields
    ------
    distributed.Client or None
    """
    _import_dask()
    if isinstance(scheduler, str) and scheduler in LOCAL_SCHEDULERS:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise MissingDependencyError(
            _("a Dask cluster needs distributed: {install}").format(install=_INSTALL)
        ) from exc
    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None:
        n = n_workers or os.cpu_count() or 1
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            logger.info(_("started a local Dask cluster of %d workers"), n)
            yield client
        return
    if not (isinstance(scheduler, str) and "://" in scheduler):
        raise InputError(
            _(
                "scheduler must be None (a local cluster), an address such as "
                "tcp://host:8786, a distributed.Client or one of {local_schedulers}; "
                "found {scheduler!r}"
            ).format(local_schedulers=", ".join(LOCAL_SCHEDULERS), scheduler=scheduler)
        )
    try:
        client = Client(scheduler, timeout="30s")
    except OSError as exc:
        raise InputError(
            _(
                "cannot reach the Dask scheduler at {scheduler} ({exc}); start one with "
                "`dask scheduler` and workers with `dask worker {{scheduler}}`"
            ).format(scheduler=scheduler, exc=exc)
        ) from exc
    with client:
        logger.info(_("connected to the Dask scheduler at %s"), scheduler)
        yield client


def point_sums_dask(
    source, plan: PointPlan, *, scheduler=None, n_workers: int | None = None, npartitions=None
) -> np.ndarray:
    """Partial sums of every partition of the points, added up.

    Parameters
    ----------
    source : geopandas.GeoDataFrame, Path or dask_geopandas.GeoDataFrame
        Population points in memory, a GeoParquet file or folder, or a lazy frame.
    plan : gongshu_geo.analysis.point_sums.PointPlan
        Facilities' distance model, streets, tiers and weight column, as
        :func:`gongshu_geo.analysis.points.compute_point_coverage` builds it.
    scheduler, n_workers
        See :func:`dask_client`.
    npartitions : int, optional
        Partitions of in-memory points; ``PARTITIONS_PER_WORKER`` per worker
        by default. A Parquet dataset has one task per row group, a lazy frame
        one per partition.

    Returns
    -------
    numpy.ndarray
        The same array the local engine adds up (see ``PointPlan.shape``).
    """
    dask = _import_dask()
    with dask_client(scheduler, n_workers=n_workers) as client:
        workers = len(client.scheduler_info(n_workers=-1)["workers"]) if client else n_workers
        plan.workers = 1  # one thread per task; the workers are the parallelism
        windowed = plan.model.grid is not None and not (
            isinstance(source, Path) or is_dask_frame(source)
        )
        # A grid of walks goes to each task only as the window its points need.
        light = replace(plan, model=None) if windowed else plan
        if client is not None:
            shared = client.scatter(light, broadcast=True, hash=False)
        else:
            shared = dask.delayed(light, pure=True)
        if windowed:
            # patches of points by tiles of the grid: each task's window is its tile's
            # reached cells, and windows reach the workers task by task, not all at once
            parts = [dask.delayed(_windowed_sums)(c, shared)
                     for c in _tile_chunks(source, plan, WINDOW_TILE_CELLS)]  # fmt: skip
        elif isinstance(source, Path):
            pieces = parquet_pieces(source)
            parts = [dask.delayed(_piece_sums)(p, shared) for p in pieces]
        elif is_dask_frame(source):
            parts = [dask.delayed(sum_partition)(p, shared) for p in source.to_delayed()]
        else:
            n = npartitions or PARTITIONS_PER_WORKER * (workers or os.cpu_count() or 1)
            chunks = _hilbert_chunks(source, plan.weight, n)
            if client is not None:
                chunks = client.scatter(chunks, hash=False)
            parts = [dask.delayed(_array_sums)(c, shared) for c in chunks]
        total = _tree_sum(dask, parts)
        logger.info("dask: %d partitions", len(parts))
        if client is not None:
            return client.compute(total).result()
        return total.compute(scheduler=scheduler)


def _hilbert_chunks(points, weight, npartitions) -> list:
    """Points already in memory as ``(xy, weights)`` arrays, in compact patches.

    Points that are in memory are not handed to dask-geopandas: that would
    re-serialise every geometry into the task graph (38 MiB for a million
    points, four times slower in ``benchmarks/bench_scale.py``). Sorted along a
    Hilbert curve and cut into ``npartitions`` runs, each chunk covers a compact
    patch touching few streets, and only coordinates and weights travel.
    """
    if not (isinstance(npartitions, (int, np.integer)) and npartitions >= 1):
        raise InputError(
            _("npartitions must be a positive integer; found {npartitions!r}").format(
                npartitions=npartitions
            )
        )
    xy, w = frame_xy_weight(points, weight)
    if len(xy):
        order = np.argsort(points.geometry.hilbert_distance().to_numpy(), kind="stable")
        xy, w = xy[order], w[order]
    bounds = np.linspace(0, len(xy), min(int(npartitions), max(1, len(xy))) + 1).astype(int)
    return [(xy[a:b], w[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _piece_sums(piece, plan: PointPlan) -> np.ndarray:
    """Read one row group of a Parquet file and add it up."""
    file, group, first = piece
    total = np.zeros(plan.shape)
    for xy, w in iter_parquet_chunks(
        file, plan.weight, plan.chunk_size, row_group=group, first=first
    ):
        total += sum_points(plan, xy, w)
    return total


def _array_sums(chunk, plan: PointPlan) -> np.ndarray:
    """Add up one chunk of ``(xy, weights)`` arrays."""
    return sum_points(plan, *chunk)


def _tile_chunks(points, plan: PointPlan, tile_cells: int) -> list:
    """Points cut by tiles of the grid of walks, each with the window it needs."""
    xy, w = frame_xy_weight(points, plan.weight)
    grid = plan.model.grid
    cell = grid.cell_of(xy)
    row, col = np.divmod(np.where(cell >= 0, cell, 0), grid.n_cols)
    n_cols = -(-grid.n_cols // tile_cells)
    tile = np.where(cell >= 0, (row // tile_cells) * n_cols + col // tile_cells, -1)
    order = np.argsort(tile, kind="stable")
    tile, xy, w = tile[order], xy[order], w[order]
    cuts = np.flatnonzero(np.diff(tile)) + 1
    chunks = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(tile)], strict=True):
        for start in range(a, b, plan.chunk_size):
            stop = min(b, start + plan.chunk_size)
            part = xy[start:stop]
            chunks.append(((part, w[start:stop]), window_model(plan.model, part)))
    return chunks


def _windowed_sums(chunk_and_model, plan: PointPlan) -> np.ndarray:
    """Add up one chunk with the window of the grid of walks that its points fall in."""
    chunk, model = chunk_and_model
    return sum_points(replace(plan, model=model), *chunk)


def window_model(model: DistanceModel, xy: np.ndarray) -> DistanceModel:
    """Cut a surface model down to the reached cells under some points (a box).

    Parameters
    ----------
    model : DistanceModel
        From :meth:`DistanceModel.from_surface`.
    xy : numpy.ndarray
        ``(n, 2)`` points in EPSG:4549.

    Returns
    -------
    DistanceModel
        The same metres at these points, from a window of the grid: what one
        Dask task receives instead of the whole grid.

    Examples
    --------
    >>> from gongshu_geo.analysis.grid import Grid
    >>> grid = Grid(0.0, 100.0, 10.0, 10, 10)
    >>> full = DistanceModel.from_surface(grid, np.arange(100.0))
    >>> part = window_model(full, np.array([[15.0, 85.0], [35.0, 75.0]]))
    >>> part.grid.shape, part.metres_at([[35.0, 75.0]]).tolist()
    ((2, 3), [23.0])
    """
    grid = model.grid
    if not len(xy):
        return DistanceModel.from_surface(grid.window(0, 0, 1, 1), model.surface[:1])
    cell = grid.cell_of(xy)
    inside = cell[cell >= 0]
    if not len(inside):
        return DistanceModel.from_surface(grid.window(0, 0, 1, 1), np.full(1, np.inf))
    row, col = np.divmod(inside, grid.n_cols)
    r0, r1, c0, c1 = row.min(), row.max() + 1, col.min(), col.max() + 1
    block = model.surface.reshape(grid.shape)[r0:r1, c0:c1]
    reached = np.isfinite(block)
    if not reached.any():  # nobody here is reached: one cell of inf says so
        return DistanceModel.from_surface(grid.window(0, 0, 1, 1), np.full(1, np.inf))
    rows, cols = np.flatnonzero(reached.any(axis=1)), np.flatnonzero(reached.any(axis=0))
    r0, r1 = r0 + rows[0], r0 + rows[-1] + 1  # only the part of it that is reached
    c0, c1 = c0 + cols[0], c0 + cols[-1] + 1
    part = grid.window(int(r0), int(c0), int(r1 - r0), int(c1 - c0))
    values = model.surface.reshape(grid.shape)[r0:r1, c0:c1].ravel().copy()
    return DistanceModel.from_surface(part, values)


def _add(*arrays) -> np.ndarray:
    return np.sum(arrays, axis=0)


def _tree_sum(dask, parts):
    add = dask.delayed(_add, pure=True)
    while len(parts) > 1:
        parts = [add(*parts[i : i + REDUCE_FAN_IN]) for i in range(0, len(parts), REDUCE_FAN_IN)]
    return parts[0]
