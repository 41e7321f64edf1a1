"""Point-based coverage: how many people live within each tier of a facility.

For a whole city or province, buffering and overlaying polygons
(:func:`gongshu_geo.coverage.compute_coverage`) gets slow; counting people at
points does not. Each population point (a building or the centre of a grid
cell) takes the straight-line distance, in EPSG:4549 metres, to its nearest
facility from a :class:`scipy.spatial.cKDTree`; each point is placed in the
street that contains it; and per street and tier the people within the tier's
distance are summed. The work is done chunk by chunk, so memory stays bounded
however many points there are; the sums of chunks add up exactly, which is
what lets :mod:`gongshu_geo.dask_engine` spread the chunks over a cluster.

Facilities that are lines or polygons are represented by their vertices after
densifying every edge to at most ``densify_m`` metres (25 m by default: the
distance is then over-estimated by at most ~0.3 m at 300 m and by at most
``densify_m / 2`` right next to the facility); a point inside a facility
polygon is at distance 0. With a walking graph the distance is instead the
straight line to the point's nearest graph node plus that node's walking
distance to the nearest facility, from one multi-source search
(:func:`gongshu_geo.network.compute_node_distances`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from . import crs as _crs
from ._errors import CRSError, InputError
from ._pointsrc import (  # noqa: F401  (parquet_files/pieces stay importable from here)
    _frame_xy_weight,
    _iter_parquet_chunks,
    _weights,
    count_rows,
    parquet_files,
    parquet_pieces,
)
from ._progress import progress_bar
from .coverage import _resolve_tiers as _coverage_tiers
from .network import _metric_geometry

logger = logging.getLogger(__name__)

#: Points handled at once; memory is about 200 bytes per point of a chunk.
DEFAULT_CHUNK_SIZE = 250_000
#: Longest edge (metres) left between vertices of line and polygon facilities.
DEFAULT_DENSIFY_M = 25.0
#: Where the work runs.
ENGINES = ("local", "dask")
#: The columns of :func:`compute_point_coverage`, in order.
POINT_COVERAGE_COLUMNS = [
    "street_code", "name", "facility", "minutes", "distance_m", "mode",
    "covered_pop", "population", "covered_pop_share", "n_points",
]  # fmt: skip


def facility_coordinates(facilities, *, densify_m: float | None = DEFAULT_DENSIFY_M) -> np.ndarray:
    """Coordinates (EPSG:4549 metres) that stand for the facilities in a KD-tree.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame or geopandas.GeoSeries
        Points, lines or polygons with a CRS.
    densify_m : float, optional
        Add vertices so no edge of a line or polygon is longer than this;
        ``None`` keeps the vertices as they are.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` array: one row per point facility, one per vertex otherwise.

    Examples
    --------
    >>> from shapely import LineString
    >>> line = gpd.GeoSeries([LineString([(0, 0), (100, 0)])], crs="EPSG:4549")
    >>> facility_coordinates(line, densify_m=25.0).shape
    (5, 2)
    """
    geoms = _metric_geometry(facilities, "facilities")
    if densify_m is not None:
        if not densify_m > 0:
            raise InputError(f"densify_m must be a positive number of metres; found {densify_m!r}")
        spread = shapely.get_type_id(geoms) != 0
        geoms = geoms.copy()
        geoms[spread] = shapely.segmentize(geoms[spread], float(densify_m))
    return shapely.get_coordinates(geoms)


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
    bound = np.inf if max_distance_m is None else _bound(max_distance_m)
    dist, _ = tree.query(xy, k=1, distance_upper_bound=bound, workers=workers)
    return dist


def _bound(max_distance_m) -> float:
    # cKDTree keeps neighbours strictly closer than the bound: widen it a hair.
    return float(np.nextafter(max_distance_m, np.inf) * (1 + 1e-12))


@dataclass
class _StraightLine:
    """Distance to the nearest facility as the crow flies."""

    tree: cKDTree | None
    inside: object = None  # union of polygon facilities, or None

    def __call__(self, xy, max_m, workers) -> np.ndarray:
        dist = nearest_facility_distance(xy, self.tree, max_distance_m=max_m, workers=workers)
        if self.inside is not None and len(xy):
            shapely.prepare(self.inside)
            dist[shapely.intersects_xy(self.inside, xy[:, 0], xy[:, 1])] = 0.0
        return dist


@dataclass
class _Network:
    """Snap to the nearest graph node, then that node's walking distance."""

    tree: cKDTree
    node_m: np.ndarray  # one more entry than nodes: inf, for "no node in reach"

    def __call__(self, xy, max_m, workers) -> np.ndarray:
        if len(xy) == 0:
            return np.empty(0)
        snap, node = self.tree.query(xy, k=1, distance_upper_bound=_bound(max_m), workers=workers)
        return snap + self.node_m[node]


@dataclass
class _Plan:
    """Everything a worker needs; built once and broadcast."""

    distance: object
    street_geoms: np.ndarray
    tier_m: np.ndarray
    weight: str | None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    workers: int = 1
    street_bounds: np.ndarray = field(init=False)

    def __post_init__(self):
        self.street_bounds = shapely.bounds(self.street_geoms)

    @property
    def shape(self) -> tuple:
        # rows: streets, then "outside every street"; columns: the first tier
        # reaching a point, then "beyond every tier", then the count of points
        return (len(self.street_geoms) + 1, len(self.tier_m) + 2)


def _chunk_sums(plan: _Plan, xy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """People by street and first covering tier, and points by street, for one chunk."""
    n_streets, n_tiers = len(plan.street_geoms), len(plan.tier_m)
    out = np.zeros(plan.shape)
    for start in range(0, len(xy), plan.chunk_size):
        cxy, cw = xy[start : start + plan.chunk_size], w[start : start + plan.chunk_size]
        street = _assign_streets(cxy, plan.street_geoms, plan.street_bounds)
        street[street < 0] = n_streets
        # Nearby points queried one after another: twice as fast as random order.
        near = _locality_order(cxy)
        dist = np.empty(len(cxy))
        dist[near] = plan.distance(cxy[near], plan.tier_m[-1], plan.workers)
        tier = np.searchsorted(plan.tier_m, dist, side="left")
        flat = street * (n_tiers + 1) + tier
        size = (n_streets + 1) * (n_tiers + 1)
        out[:, :-1] += np.bincount(flat, weights=cw, minlength=size).reshape(n_streets + 1, -1)
        out[:, -1] += np.bincount(street, minlength=n_streets + 1)
    return out


def _locality_order(xy, cell_m=250.0) -> np.ndarray:
    """Order of the points row by row of a grid of ``cell_m`` squares."""
    if not len(xy):
        return np.arange(0)
    cell = np.floor((xy - xy.min(axis=0)) / cell_m).astype(np.int64)
    return np.argsort(cell[:, 1] * (cell[:, 0].max() + 1) + cell[:, 0], kind="stable")


def _assign_streets(xy, geoms, bounds) -> np.ndarray:
    """Position of the street holding each point; on a shared edge the first one; -1 outside.

    Points are bucketed in a grid of about four cells per street, so each
    street tests only the points of the cells its bounding box overlaps.
    """
    street = np.full(len(xy), -1, dtype=np.int64)
    if not len(xy) or not len(geoms):
        return street
    side = int(np.ceil(2 * np.sqrt(len(geoms))))
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    size = max(bounds[:, 2].max() - x0, bounds[:, 3].max() - y0, 1e-9) / side

    def cell(v, origin):
        return np.clip(np.floor((v - origin) / size), 0, side - 1).astype(np.int64)

    ids = cell(xy[:, 1], y0) * side + cell(xy[:, 0], x0)
    order = np.argsort(ids, kind="stable")
    starts = np.searchsorted(ids[order], np.arange(side * side + 1))
    cx0, cx1 = cell(bounds[:, 0], x0), cell(bounds[:, 2], x0)
    cy0, cy1 = cell(bounds[:, 1], y0), cell(bounds[:, 3], y0)
    for k in range(len(geoms)):
        rows = np.arange(cy0[k], cy1[k] + 1) * side
        cand = np.concatenate([order[starts[r + cx0[k]] : starts[r + cx1[k] + 1]] for r in rows])
        cand = cand[street[cand] < 0]
        if len(cand):
            shapely.prepare(geoms[k])
            street[cand[shapely.intersects_xy(geoms[k], xy[cand, 0], xy[cand, 1])]] = k
    return street


def _partition_sums(frame, plan: _Plan) -> np.ndarray:
    """Add up one partition (a GeoDataFrame) of population points."""
    xy, w = _frame_xy_weight(frame, plan.weight)
    return _chunk_sums(plan, xy, w)


def compute_point_coverage(
    population_points,
    facilities,
    streets,
    *,
    facility: str | None = None,
    tiers=None,
    weight: str | None = "population",
    graph=None,
    engine: str = "local",
    scheduler=None,
    n_workers: int | None = None,
    npartitions: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    densify_m: float | None = DEFAULT_DENSIFY_M,
) -> pd.DataFrame:
    """Measure, per street and tier, the people living within reach of a facility layer.

    Parameters
    ----------
    population_points : geopandas.GeoDataFrame, str, Path or dask_geopandas.GeoDataFrame
        Points where people live (polygons count at their centroid) with a
        CRS; or a GeoParquet file or folder of files, read ``chunk_size`` rows
        at a time so that it never sits in memory whole; or a lazy
        dask-geopandas frame, computed one partition at a time.
    facilities : geopandas.GeoDataFrame or geopandas.GeoSeries
        Points, lines or polygons with a CRS; may be empty (nothing covered).
    streets : geopandas.GeoDataFrame
        ``street_code`` (``name`` if any) and polygons with a CRS. A point on
        an edge shared by two streets counts in the first; points outside every
        street are counted nowhere (their number is logged).
    facility : str, optional
        Label for the ``facility`` column; by default ``facilities.attrs["layer"]``
        (set by :func:`gongshu_geo.coverage.select_facilities`), else ``"facilities"``.
    tiers : pandas.DataFrame or sequence of float, optional
        From :func:`gongshu_geo.coverage.service_tiers`, or metres;
        GB 50180-2018 (300, 500, 1000 m) by default.
    weight : str or None
        Column of people per point; ``None`` counts every point as one.
    graph : WalkGraph, optional
        Measure along this walking graph instead of in straight lines: one
        multi-source search gives every node's distance to a facility, and each
        point adds the straight line to its nearest node.
    engine : {"local", "dask"}
        ``"dask"`` spreads the chunks over Dask workers
        (see :func:`gongshu_geo.dask_engine.point_sums_dask`); same results.
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

    Returns
    -------
    pandas.DataFrame
        One row per tier and street with :data:`POINT_COVERAGE_COLUMNS`:
        ``covered_pop`` (people within the tier's distance), ``population``,
        ``covered_pop_share`` in [0, 1] (NaN where nobody lives), ``n_points``
        in the street, and ``mode`` ``"points"`` (``"points_network"`` with a graph).
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}; found {engine!r}")
    chunk_size = _positive_int(chunk_size, "chunk_size")
    table, street_geoms = _street_table(streets)
    tier_table = _resolve_tiers(tiers)
    if facility is None:
        facility = getattr(facilities, "attrs", {}).get("layer", "facilities")
    tier_m = tier_table["distance_m"].to_numpy(dtype=float)
    distance = _distance_model(facilities, graph, tier_m[-1], densify_m)
    plan = _Plan(distance, street_geoms, tier_m, weight, chunk_size)
    source = _check_source(population_points, weight)
    if engine == "dask":
        from .dask_engine import point_sums_dask

        sums = point_sums_dask(
            source, plan, scheduler=scheduler, n_workers=n_workers, npartitions=npartitions
        )
    else:
        sums = _local_sums(source, plan)
    mode = "points" if graph is None else "points_network"
    result = _coverage_table(table, tier_table, sums, facility, mode)
    logger.info(
        "point coverage of %d streets by %s (%s, %s engine): %d points, %d outside every street",
        len(table), facility, mode, engine, sums[:, -1].sum(), sums[-1, -1],
    )  # fmt: skip
    return result


def _local_sums(source, plan: _Plan) -> np.ndarray:
    plan.workers = -1  # one process: let the KD-tree queries use every core
    total = np.zeros(plan.shape)
    if isinstance(source, gpd.GeoDataFrame):
        xy, w = _frame_xy_weight(source, plan.weight)
        return _chunk_sums(plan, xy, w)
    if is_dask_frame(source):  # one partition in memory at a time
        for part in source.to_delayed():
            total += _partition_sums(part.compute(scheduler="synchronous"), plan)
        return total
    with progress_bar(desc="population points", total=count_rows(source), unit="points") as bar:
        for xy, w in _iter_parquet_chunks(source, plan.weight, plan.chunk_size):
            total += _chunk_sums(plan, xy, w)
            bar.update(len(xy))
    return total


def is_dask_frame(obj) -> bool:
    """Tell whether ``obj`` is a lazy, partitioned (dask-geopandas) frame."""
    return hasattr(obj, "to_delayed") and hasattr(obj, "npartitions") and hasattr(obj, "crs")


def _check_source(points, weight):
    if isinstance(points, (str, Path)):
        parquet_files(points)
        return Path(points)
    if is_dask_frame(points):
        if points.crs is None:
            raise CRSError("population_points: the frame has no CRS: set one with set_crs(...)")
        _weights(points._meta, weight, "population_points")
        return points
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputError(
            "population_points must be a GeoDataFrame of points, the path of a GeoParquet "
            f"file or folder, or a dask-geopandas frame; found {type(points).__name__}"
        )
    if points.crs is None:
        _crs.to_metric(points)  # raises the CRS error with its advice
    _weights(points.iloc[:0], weight, "population_points")
    return points


def _distance_model(facilities, graph, max_m, densify_m):
    if graph is None:
        xy = facility_coordinates(facilities, densify_m=densify_m)
        geoms = _metric_geometry(facilities, "facilities")
        polygons = geoms[np.isin(shapely.get_type_id(geoms), [3, 6])]
        inside = shapely.union_all(polygons) if len(polygons) else None
        return _StraightLine(cKDTree(xy) if len(xy) else None, inside)
    from .network import WalkGraph, compute_node_distances

    if not isinstance(graph, WalkGraph):
        raise InputError(
            "graph must be a WalkGraph (read_graph('walk.graphml') or graph_from_lines(...)); "
            f"found {type(graph).__name__}"
        )
    if graph.n_nodes == 0:
        raise InputError("the walking graph has no nodes")
    _metric_geometry(facilities, "facilities")
    if len(facilities):
        node_m = compute_node_distances(graph, facilities, max_distance_m=max_m).to_numpy()
    else:
        node_m = np.full(graph.n_nodes, np.inf)
    return _Network(cKDTree(graph.node_xy), np.r_[node_m, np.inf])


def _street_table(streets):
    if not isinstance(streets, gpd.GeoDataFrame) or "street_code" not in streets.columns:
        found = (
            ", ".join(map(str, streets.columns))
            if isinstance(streets, gpd.GeoDataFrame)
            else type(streets).__name__
        )
        raise InputError(
            'streets must be a GeoDataFrame with a "street_code" column and polygons; '
            f"found {found}"
        )
    geoms = np.asarray(_crs.to_metric(streets).geometry.values)
    kind = shapely.get_type_id(geoms)
    bad = np.flatnonzero(~np.isin(kind, [3, 6]) | shapely.is_empty(geoms))
    if len(bad):
        raise InputError(
            f"street #{bad[0]} ({streets['street_code'].iloc[bad[0]]!r}) must be a Polygon or "
            "MultiPolygon"
        )
    dup = streets["street_code"].duplicated()
    if dup.any():
        raise InputError(
            f"street_code must be unique; {streets['street_code'][dup].iloc[0]!r} appears twice"
        )
    names = streets["name"] if "name" in streets.columns else pd.Series(None, index=streets.index)
    table = pd.DataFrame(
        {"street_code": streets["street_code"].to_numpy(), "name": names.to_numpy()}
    )
    return table, geoms


def _resolve_tiers(tiers) -> pd.DataFrame:
    """Check tiers as coverage does, nearest first (the sums are cumulative)."""
    return _coverage_tiers(tiers).sort_values("distance_m", ignore_index=True)


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
        raise InputError(f"{name} must be a positive integer; found {value!r}")
    return int(value)
