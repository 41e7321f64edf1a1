"""Point-based coverage: how many people live within each tier of a facility.

For a whole city or province, buffering and overlaying polygons
(:func:`gongshu_geo.analysis.coverage.compute_coverage`) gets slow; counting people at
points does not. Each population point (a building or the centre of a grid
cell) takes the straight-line distance, in EPSG:4549 metres, to its nearest
facility from a :class:`scipy.spatial.cKDTree`; each point is placed in the
street that contains it; and per street and tier the people within the tier's
distance are summed. The work is done chunk by chunk, so memory stays bounded
however many points there are; the sums of chunks add up exactly, which is
what lets :mod:`gongshu_geo.analysis.dask_engine` spread the chunks over a cluster.

Facilities that are lines or polygons are represented by their vertices after
densifying every edge to at most ``densify_m`` metres (25 m by default: the
distance is then over-estimated by at most ~0.3 m at 300 m and by at most
``densify_m / 2`` right next to the facility); a point inside a facility
polygon is at distance 0. With a walking graph the distance is the walk of
:mod:`gongshu_geo.analysis.access`: along the reached ways, within the band around them,
read from the cell of the grid that holds the point, the same surface that
grid coverage and the maps use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree  # noqa: F401  (the examples use it)

# The grid's densify_m, so that both engines measure the same distances;
# facility_coordinates stays importable from here.
from gongshu_geo.analysis.access import (  # noqa: F401
    DEFAULT_DENSIFY_M,
    DistanceModel,
    check_graph,
    facility_coordinates,
    network_metres,
    widen_bound,
)
from gongshu_geo.analysis.grid import DEFAULT_CELL_M, make_grid
from gongshu_geo.analysis.network import DEFAULT_BAND_M, WalkGraph
from gongshu_geo.analysis.point_sums import (
    DEFAULT_CHUNK_SIZE,
    PointPlan,
    is_dask_frame,
    sum_partition,
    sum_points,
)
from gongshu_geo.analysis.streets import make_street_table
from gongshu_geo.analysis.tiers import resolve_tiers
from gongshu_geo.core import crs as _crs
from gongshu_geo.core.deprecated import renamed_keywords
from gongshu_geo.core.errors import CRSError, InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.progress import progress_bar
from gongshu_geo.data.pointsrc import (  # noqa: F401  (parquet_files/pieces stay importable from here)
    check_weights,
    count_rows,
    frame_xy_weight,
    iter_parquet_chunks,
    parquet_files,
    parquet_pieces,
)
from gongshu_geo.data.roles import check_roles

if TYPE_CHECKING:
    from distributed import Client

logger = logging.getLogger(__name__)

#: Where the work runs.
ENGINES = ("local", "dask")
#: The columns of :func:`compute_point_coverage`, in order.
POINT_COVERAGE_COLUMNS = [
    "street_code", "name", "facility", "minutes", "distance_m", "mode",
    "covered_pop", "population", "covered_pop_share", "n_points",
]  # fmt: skip


def nearest_facility_distance(
    points_xy, tree, *, max_distance_m: float | None = None, workers: int = 1
) -> np.ndarray:
    """Straight-line metres from each point to the nearest point of a KD-tree.

    Parameters
    ----------
    points_xy : array-like
        ``(n, 2)`` coordinates in the tree's CRS (EPSG:4549 metres).
    tree : scipy.spatial.cKDTree or None
        Built on :func:`facility_coordinates`; ``None`` or an empty tree means
        no facility at all.
    max_distance_m : float, optional
        Points farther than this get ``inf`` (much faster when most are).
    workers : int
        Threads of the query; -1 uses every core.

    Returns
    -------
    numpy.ndarray
        Metres, ``inf`` where no facility is (within ``max_distance_m``).

    Examples
    --------
    >>> tree = cKDTree([[0.0, 0.0], [1000.0, 0.0]])
    >>> nearest_facility_distance([[300.0, 400.0], [5000.0, 0.0]], tree).tolist()
    [500.0, 4000.0]
    """
    xy = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    if tree is None or tree.n == 0 or len(xy) == 0:
        return np.full(len(xy), np.inf)
    bound = np.inf if max_distance_m is None else widen_bound(max_distance_m)
    dist, _ = tree.query(xy, k=1, distance_upper_bound=bound, workers=workers)
    return dist


@renamed_keywords(weight="population_field")
def compute_point_coverage(
    streets: gpd.GeoDataFrame,
    population: gpd.GeoDataFrame | str | os.PathLike,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    facility: str | None = None,
    tiers: pd.DataFrame | float | Sequence[float] | None = None,
    population_field: str | None = "population",
    graph: WalkGraph | None = None,
    engine: str = "local",
    scheduler: str | Client | None = None,
    n_workers: int | None = None,
    npartitions: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    densify_m: float | None = DEFAULT_DENSIFY_M,
    band_m: float = DEFAULT_BAND_M,
    cell_m: float = DEFAULT_CELL_M,
) -> pd.DataFrame:
    """Measure, per street and tier, the people living within reach of a facility layer.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        ``street_code`` (``name`` if any) and polygons with a CRS. A point on
        an edge shared by two streets counts in the one with the lowest code;
        points outside every street are counted nowhere (their number is logged).
    population : geopandas.GeoDataFrame, str, Path or dask_geopandas.GeoDataFrame
        The population layer: points where people live (polygons count at
        their centroid) with a CRS and counts in ``population_field``; or a
        GeoParquet file or folder of files, read ``chunk_size`` rows at a time
        so that it never sits in memory whole; or a lazy dask-geopandas frame,
        computed one partition at a time.
    facilities : geopandas.GeoDataFrame or geopandas.GeoSeries
        Points, lines or polygons with a CRS; may be empty (nothing covered).
    facility : str, optional
        Label for the ``facility`` column; by default ``facilities.attrs["layer"]``
        (set by :func:`gongshu_geo.analysis.coverage.select_facilities`), else ``"facilities"``.
    tiers : pandas.DataFrame or sequence of float, optional
        From :func:`gongshu_geo.analysis.coverage.service_tiers`, or metres;
        GB 50180-2018 (300, 500, 1000 m) by default.
    population_field : str or None
        Column of people per point; ``None`` counts every point as one
        (``weight=`` before 0.2, deprecated).
    graph : WalkGraph, optional
        Measure along this walking graph instead of in straight lines: the walk
        of :func:`gongshu_geo.analysis.access.network_metres` over a grid of the streets,
        read at the cell of each point.
    engine : {"local", "dask"}
        ``"dask"`` spreads the chunks over Dask workers
        (see :func:`gongshu_geo.analysis.dask_engine.point_sums_dask`); same results.
    scheduler : str or distributed.Client, optional
        Dask only: ``None`` starts a local cluster of ``n_workers`` processes,
        ``"tcp://host:8786"`` joins a running one, ``"threads"`` or
        ``"synchronous"`` use Dask's in-process schedulers.
    n_workers : int, optional
        Dask only: workers of the local cluster (default: one per core).
    npartitions : int, optional
        Dask only: partitions of in-memory points (default: 4 per worker).
    chunk_size : int
        Points handled at once by one worker.
    densify_m : float, optional
        Longest edge left between the vertices standing for line and polygon
        facilities (see the module notes).
    band_m : float
        Network mode: half-width of the band around reached ways.
    cell_m : float
        Network mode: cell size of the walk's grid.

    Returns
    -------
    pandas.DataFrame
        One row per tier and street with :data:`POINT_COVERAGE_COLUMNS`:
        ``covered_pop`` (people within the tier's distance), ``population``,
        ``covered_pop_share`` in [0, 1] (NaN where nobody lives), ``n_points``
        in the street, and ``mode`` ``"points"`` (``"points_network"`` with a graph).
    """
    check_roles(
        "compute_point_coverage", streets, "streets, population, facilities",
        population=population, facilities=facilities,
    )  # fmt: skip
    if engine not in ENGINES:
        raise InputError(
            _("engine must be one of {engines}; found {engine!r}").format(
                engines=", ".join(ENGINES), engine=engine
            )
        )
    chunk_size = _positive_int(chunk_size, "chunk_size")
    street_table = make_street_table(streets)
    table = street_table.frame[["street_code", "name"]]
    tier_table = resolve_tiers(tiers)
    if facility is None:
        facility = getattr(facilities, "attrs", {}).get("layer", "facilities")
    tier_m = tier_table["distance_m"].to_numpy(dtype=float)
    model = _distance_model(
        facilities, graph, street_table, tier_m, densify_m=densify_m, band_m=band_m, cell_m=cell_m
    )
    plan = PointPlan(model, street_table, tier_m, population_field, chunk_size)
    source = _check_source(population, population_field)
    if engine == "dask":
        from gongshu_geo.analysis.dask_engine import point_sums_dask

        sums = point_sums_dask(
            source, plan, scheduler=scheduler, n_workers=n_workers, npartitions=npartitions
        )
    else:
        sums = _local_sums(source, plan)
    mode = "points" if graph is None else "points_network"
    result = _coverage_table(table, tier_table, sums, facility, mode)
    logger.info(
        _("point coverage of %d streets by %s (%s, %s engine): %d points, %d outside every street"),
        len(table), facility, mode, engine, sums[:, -1].sum(), sums[-1, -1],
    )  # fmt: skip
    return result


def _local_sums(source, plan: PointPlan) -> np.ndarray:
    plan.workers = -1  # one process: let the KD-tree queries use every core
    total = np.zeros(plan.shape)
    if isinstance(source, gpd.GeoDataFrame):
        xy, w = frame_xy_weight(source, plan.weight)
        return sum_points(plan, xy, w)
    if is_dask_frame(source):  # one partition in memory at a time
        for part in source.to_delayed():
            total += sum_partition(part.compute(scheduler="synchronous"), plan)
        return total
    with progress_bar(desc="population points", total=count_rows(source), unit="points") as bar:
        for xy, w in iter_parquet_chunks(source, plan.weight, plan.chunk_size):
            total += sum_points(plan, xy, w)
            bar.update(len(xy))
    return total


def _check_source(points, weight):
    if isinstance(points, (str, Path)):
        parquet_files(points)
        return Path(points)
    if is_dask_frame(points):
        if points.crs is None:
            raise CRSError(_("population: the frame has no CRS: set one with set_crs(...)"))
        check_weights(points._meta, weight, "population")
        return points
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputError(
            _(
                "population must be a GeoDataFrame of points, the path of a GeoParquet "
                "file or folder, or a dask-geopandas frame; found {type}"
            ).format(type=type(points).__name__)
        )
    if points.crs is None:
        _crs.to_metric(points)  # raises the CRS error with its advice
    check_weights(points.iloc[:0], weight, "population")
    return points


def _distance_model(facilities, graph, streets, tier_m, *, densify_m, band_m, cell_m):
    geoms = _crs.metric_geometries(facilities, "facilities")
    if graph is None:
        return DistanceModel.straight_line(geoms, densify_m=densify_m)
    graph = check_graph(graph)
    grid = make_grid(shapely.total_bounds(streets.geoms), cell_m=cell_m)
    metres = network_metres(
        grid, graph, geoms, band_m=float(band_m), max_m=float(tier_m[-1]), exact_at=tier_m
    )
    return DistanceModel.from_surface(grid, metres)


def _coverage_table(table, tier_table, sums, facility, mode) -> pd.DataFrame:
    n_streets = len(table)
    people = sums[:n_streets, :-1]  # by first covering tier, then beyond all tiers
    population = people.sum(axis=1)
    covered = np.cumsum(people[:, :-1], axis=1)
    frames = []
    for t, row in enumerate(tier_table.itertuples()):
        out = table.copy()
        out["facility"], out["minutes"], out["distance_m"], out["mode"] = (
            facility, float(row.minutes), float(row.distance_m), mode,
        )  # fmt: skip
        out["covered_pop"] = covered[:, t]
        out["population"] = population
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(population > 0, covered[:, t] / population, np.nan)
        out["covered_pop_share"] = np.clip(share, 0.0, 1.0)
        out["n_points"] = sums[:n_streets, -1].astype(np.int64)
        frames.append(out[POINT_COVERAGE_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _positive_int(value, name) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(
            _("{name} must be a positive integer; found {value!r}").format(name=name, value=value)
        )
    return int(value)
