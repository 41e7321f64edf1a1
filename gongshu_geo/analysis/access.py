"""Distance to the nearest facility, everywhere: the one kernel behind every coverage path.

:func:`compute_distance_surface` gives every cell of a :class:`~gongshu_geo.analysis.grid.StudyArea`
its metres to the nearest facility of a layer; coverage shares, service-area
polygons, gaps, the accessibility surfaces and the point and Dask engines all
read those metres (:class:`DistanceModel` evaluates the same thing at any points).

How the metres are measured, and why:

- **Straight line** (``mode="distance"``): an exact nearest-neighbour query of a
  :class:`scipy.spatial.cKDTree` over the facilities' coordinates, at each cell
  centre. Lines and polygons stand by their vertices after densifying every edge
  to ``densify_m`` (5 m: the distance is over-estimated by at most 0.01 m at
  300 m, and by at most 2.5 m right beside an edge); a centre inside a facility
  polygon is at 0. A KD-tree is exact at the centres, where a Euclidean distance
  transform of a rasterised facility layer would move every facility onto its cell
  centre (up to 7 m at 10 m cells) for no gain in speed at these sizes.
- **Network** (``mode="network"``): one multi-source Dijkstra from the points where
  the facilities meet the walking graph
  (:func:`gongshu_geo.analysis.network.compute_node_distances`)
  gives every node its walk. Every edge within reach is then sampled every half
  cell, each sample taking the walk to it (the better of its two ends, or along
  the edge from where a facility joins it). A cell takes the smallest walk of the
  samples within ``band_m`` of its centre: exactly what the maps draw, the reached
  ways widened by the band, so a table and its map mean the same thing. The band is
  a minimum filter with a disc, done as a few separable rectangle filters, so its
  cost does not grow with the number of facilities or edges.

In network mode a big area is done in tiles (``tile_cells``): the facilities meet
the network and the one search runs on the whole graph (a few bytes per node),
then each tile samples only the ways within its band and filters only its own
cells, so the grid's working memory is bounded by the tile and tiles give
exactly the untiled answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree

from gongshu_geo.analysis.grid import Grid, StudyArea, rasterize_index
from gongshu_geo.analysis.network import (
    DEFAULT_BAND_M,
    WalkGraph,
    locate_facility_access,
    node_walks,
)
from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: Distance models.
MODES = ("distance", "network")
#: Longest edge (metres) left between the vertices standing for line and polygon facilities.
DEFAULT_DENSIFY_M = 5.0
#: Straight line: the distance transform looks this far beyond the grid for
#: facilities; cells with none nearer are measured by the KD-tree alone.
SURFACE_MARGIN_M = 2000.0
#: Cells per side of a network tile (2000 x 2000 cells, 20 km at 10 m).
DEFAULT_TILE_CELLS = 2000


@dataclass(frozen=True, eq=False)
class DistanceSurface:
    """Metres from every cell of a study area to the nearest facility.

    Parameters
    ----------
    area : StudyArea
    metres : numpy.ndarray
        Flat float64 over the grid: metres to the nearest facility, ``inf``
        where none is within ``max_distance_m`` (or, in network mode, off the
        reached ways' band), NaN outside every street.
    mode : str
        ``"distance"`` or ``"network"``.
    max_distance_m : float
        Distances beyond this were not measured (``inf`` for no bound).
    band_m : float
        Network mode: the band around reached ways.
    exact_at : tuple of float
        Distances at which the cells are settled exactly; between them, values
        are within half a cell diagonal (straight line) or are upper bounds
        within half a cell diagonal of the band's edge (network).
    """

    area: StudyArea
    metres: np.ndarray
    mode: str
    max_distance_m: float
    band_m: float
    exact_at: tuple = ()

    @property
    def grid(self) -> Grid:
        """The grid."""
        return self.area.grid

    def raster(self) -> np.ndarray:
        """Return the metres as a ``(n_rows, n_cols)`` array."""
        return self.metres.reshape(self.grid.shape)


def compute_distance_surface(
    area: StudyArea,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    mode: str = "distance",
    graph: WalkGraph | None = None,
    band_m: float = DEFAULT_BAND_M,
    max_distance_m: float | None = None,
    densify_m: float = DEFAULT_DENSIFY_M,
    tile_cells: int = DEFAULT_TILE_CELLS,
    exact_at: Sequence[float] = (),
) -> DistanceSurface:
    """Measure every cell's distance to the nearest facility.

    Parameters
    ----------
    area : StudyArea
        From :func:`gongshu_geo.analysis.grid.make_study_area`.
    facilities : geopandas.GeoDataFrame or geopandas.GeoSeries
        Points, lines or polygons with a CRS; may be empty.
    mode : {"distance", "network"}
        Straight line, or along ``graph``.
    graph : WalkGraph, optional
        Needed for ``mode="network"``.
    band_m : float
        Network mode: half-width of the band around reached ways.
    max_distance_m : float, optional
        Measure no farther (``inf`` beyond). Network mode needs it, or takes
        3000 m.
    densify_m : float
        Straight-line mode: longest edge between the vertices standing for
        line and polygon facilities.
    tile_cells : int
        Network mode: cells per side of a tile.
    exact_at : sequence of float
        Distances (the tiers) at which cells are settled exactly (see
        :func:`straight_metres` and :func:`network_metres`).

    Returns
    -------
    DistanceSurface
    """
    if mode not in MODES:
        raise InputError(
            _("mode must be one of {modes}; found {mode!r}").format(
                modes=", ".join(MODES), mode=mode
            )
        )
    geoms = _crs.metric_geometries(facilities, "facilities")
    cap = np.inf if max_distance_m is None else float(max_distance_m)
    if not cap > 0:
        raise InputError(
            _("max_distance_m must be a positive number; found {max_distance_m!r}").format(
                max_distance_m=max_distance_m
            )
        )
    metres = np.full(area.grid.size, np.nan)
    inside = area.measured
    if mode == "distance":
        model = DistanceModel.straight_line(geoms, densify_m=densify_m)
        metres[inside] = straight_metres(area.grid, inside, model, max_m=cap, exact_at=exact_at)
        band = 0.0
    else:
        graph = check_graph(graph)
        band = _check_band(band_m)
        cap = 3000.0 if not np.isfinite(cap) else cap
        full = network_metres(area.grid, graph, geoms, band_m=band, max_m=cap,
                              tile_cells=tile_cells, exact_at=exact_at)  # fmt: skip
        metres[inside] = full[inside]
    logger.info(
        _("distance surface (%s) from %d facilities over %d cells"), mode, len(geoms), len(inside)
    )
    return DistanceSurface(area, metres, mode, cap, band, tuple(float(t) for t in exact_at))


@dataclass(frozen=True, eq=False)
class DistanceModel:
    """Metres to the nearest facility at any points: the kernel shared by every engine.

    Build it with :meth:`straight_line` or :meth:`from_surface`; call
    :meth:`metres_at`.
    """

    tree: cKDTree | None = None
    inside: object = None
    surface: np.ndarray | None = None
    grid: Grid | None = None

    @classmethod
    def straight_line(cls, geoms, *, densify_m: float = DEFAULT_DENSIFY_M) -> DistanceModel:
        """Build a KD-tree over the facilities (see the module notes)."""
        xy = facility_coordinates(geoms, densify_m=densify_m)
        polygons = geoms[np.isin(shapely.get_type_id(geoms), [3, 6])]
        inside = shapely.union_all(polygons) if len(polygons) else None
        if inside is not None:
            shapely.prepare(inside)
        return cls(tree=cKDTree(xy) if len(xy) else None, inside=inside)

    @classmethod
    def from_surface(cls, grid: Grid, metres: np.ndarray) -> DistanceModel:
        """Look points up in a surface's cells (network mode)."""
        return cls(surface=np.asarray(metres, dtype=float), grid=grid)

    def metres_at(self, xy, *, max_m: float = np.inf, workers: int = -1) -> np.ndarray:
        """Metres from each point to the nearest facility (``inf`` beyond ``max_m``)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if self.grid is not None:
            cell = self.grid.cell_of(xy)
            out = np.where(cell >= 0, self.surface[cell.clip(0)], np.inf)
            out = np.nan_to_num(out, nan=np.inf)
            return np.where(out <= max_m, out, np.inf)
        if self.tree is None or self.tree.n == 0 or not len(xy):
            out = np.full(len(xy), np.inf)
        else:
            bound = np.inf if not np.isfinite(max_m) else widen_bound(max_m)
            out, _ = self.tree.query(xy, k=1, distance_upper_bound=bound, workers=workers)
        if self.inside is not None and len(xy):
            out[shapely.intersects_xy(self.inside, xy[:, 0], xy[:, 1])] = 0.0
        return out


def straight_metres(grid: Grid, cells, model: DistanceModel, *, max_m=np.inf, exact_at=()):
    """Straight-line metres at cell centres: a distance transform, exact where it matters.

    A Euclidean distance transform of the cells that hold a facility coordinate
    (or whose centre a facility polygon holds) gives every cell its distance
    within half a cell diagonal ``h`` of the truth, in one pass whatever the
    number of facilities. Cells within ``h`` of a tier's distance, and cells the
    transform cannot vouch for (farther than the grid's margin, when some
    facility lies beyond it), are measured exactly with the KD-tree. Every
    tier's cells are then exactly those whose centres lie within its distance;
    in between, values are off by at most ``h``.

    Parameters
    ----------
    grid : Grid
    cells : numpy.ndarray
        Flat indices of the cells to measure.
    model : DistanceModel
        From :meth:`DistanceModel.straight_line`.
    max_m : float
        Farther than this is ``inf``.
    exact_at : sequence of float
        The tiers' distances.

    Returns
    -------
    numpy.ndarray
        Metres for ``cells``.
    """
    cells = np.asarray(cells, dtype=np.int64)
    if model.tree is None or not len(cells):
        return model.metres_at(grid.centres(cells), max_m=max_m)
    h = grid.cell_m * np.sqrt(0.5)
    margin = min(float(max_m), SURFACE_MARGIN_M)
    reach = max([margin, *[float(t) for t in exact_at]]) + 2 * h
    # Pad the grid only as far as facilities within reach lie beyond it.
    xmin, ymin, xmax, ymax = grid.bounds
    fxy = model.tree.data
    sides = [xmin - fxy[:, 0], fxy[:, 0] - xmax, ymin - fxy[:, 1], fxy[:, 1] - ymax]
    beyond = np.max(np.maximum.reduce(sides), initial=0.0)
    pad = int(np.ceil(min(max(beyond, 0.0) + 2 * h, reach) / grid.cell_m)) + 1
    reach = pad * grid.cell_m
    padded = Grid(grid.x0 - pad * grid.cell_m, grid.y1 + pad * grid.cell_m, grid.cell_m,
                  grid.n_rows + 2 * pad, grid.n_cols + 2 * pad)  # fmt: skip
    if padded.size > 4 * grid.size + 4_000_000:  # a small grid and far tiers: the tree alone
        return model.metres_at(grid.centres(cells), max_m=max_m)
    feature = np.ones(padded.size, dtype=bool)
    at = padded.cell_of(model.tree.data)
    feature[at[at >= 0]] = False
    if model.inside is not None:
        polygons = shapely.get_parts(model.inside)
        feature[rasterize_index(padded, polygons) >= 0] = False
    if feature.all():  # no facility near the grid: the tree measures everything
        return model.metres_at(grid.centres(cells), max_m=max_m)
    edt = ndimage.distance_transform_edt(feature.reshape(padded.shape), sampling=grid.cell_m)
    row, col = np.divmod(cells, grid.n_cols)
    approx = edt[row + pad, col + pad]
    # A facility off the padded grid is at least the margin away from every cell.
    far = (at < 0).any()
    unsure = approx + h > reach - 2 * h if far else np.zeros(len(cells), dtype=bool)
    for t in exact_at:
        unsure |= np.abs(approx - float(t)) <= h
    out = approx.copy()
    out[unsure] = model.metres_at(grid.centres(cells[unsure]), max_m=np.inf)
    return np.where(out <= max_m, out, np.inf)


def widen_bound(m) -> float:
    """Widen a KD-tree's distance bound a hair: cKDTree keeps neighbours strictly closer."""
    return float(np.nextafter(m, np.inf) * (1 + 1e-12))


def facility_coordinates(facilities, *, densify_m: float | None = DEFAULT_DENSIFY_M) -> np.ndarray:
    """Coordinates (EPSG:4549 metres) that stand for the facilities in a KD-tree.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame, geopandas.GeoSeries or numpy.ndarray
        Points, lines or polygons with a CRS (an array: metric geometries).
    densify_m : float, optional
        Add vertices so no edge of a line or polygon is longer than this;
        ``None`` keeps the vertices as they are.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` array: one row per point facility, one per vertex otherwise.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> line = gpd.GeoSeries([LineString([(0, 0), (100, 0)])], crs="EPSG:4549")
    >>> facility_coordinates(line, densify_m=25.0).shape
    (5, 2)
    """
    if isinstance(facilities, np.ndarray):
        geoms = facilities
    else:
        geoms = _crs.metric_geometries(facilities, "facilities")
    if densify_m is not None:
        if not densify_m > 0:
            raise InputError(
                _("densify_m must be a positive number of metres; found {densify_m!r}").format(
                    densify_m=densify_m
                )
            )
        spread = shapely.get_type_id(geoms) != 0
        geoms = geoms.copy()
        geoms[spread] = shapely.segmentize(geoms[spread], float(densify_m))
    return shapely.get_coordinates(geoms)


def check_graph(graph) -> WalkGraph:
    """Refuse anything but a walking graph with nodes, saying how to get one."""
    if not isinstance(graph, WalkGraph):
        raise InputError(
            _(
                "mode='network' needs a walking graph: pass "
                "graph=read_graph('walk.graphml') (see download_walking_graph); found "
                "{type}"
            ).format(type=type(graph).__name__)
        )
    if graph.n_nodes == 0:
        raise InputError(_("the walking graph has no nodes"))
    return graph


def _check_band(band_m) -> float:
    try:
        band = float(band_m)
    except (TypeError, ValueError):
        band = np.nan
    if not (np.isfinite(band) and band >= 0):
        raise InputError(
            _("band_m must be a non-negative number of metres; found {band_m!r}").format(
                band_m=band_m
            )
        )
    return band


def network_metres(
    grid: Grid, graph: WalkGraph, geoms, *, band_m: float, max_m: float,
    tile_cells: int = DEFAULT_TILE_CELLS, exact_at=(),
) -> np.ndarray:  # fmt: skip
    """Walk to the nearest facility for every cell of a grid, tile by tile.

    Parameters
    ----------
    grid : Grid
    graph : WalkGraph
    geoms : numpy.ndarray
        Facility geometries in EPSG:4549.
    band_m : float
        Half-width of the band around reached ways.
    max_m : float
        Walks longer than this are ``inf``.
    tile_cells : int
        Cells per side of a tile.
    exact_at : sequence of float
        Distances (the tiers) at which the band is settled exactly; between
        them a cell's metres are an upper bound within half a cell diagonal of
        the band's edge.

    Returns
    -------
    numpy.ndarray
        Flat metres over the grid; ``inf`` beyond ``max_m`` or the band.
    """
    if not (isinstance(tile_cells, (int, np.integer)) and tile_cells > 0):
        raise InputError(
            _("tile_cells must be a positive integer; found {tile_cells!r}").format(
                tile_cells=tile_cells
            )
        )
    out = np.full(grid.shape, np.inf)
    polygons = geoms[np.isin(shapely.get_type_id(geoms), [3, 6])]
    # One search on the whole graph: every tile then takes the same walks, so tiles
    # give exactly the untiled answer; only the grid's work is done tile by tile.
    dist, seeds = np.full(graph.n_nodes, np.inf), np.empty((0, 4))
    if graph.n_edges and len(geoms):
        nodes, costs, seeds = locate_facility_access(graph, geoms)
        dist = node_walks(graph, nodes, costs, max_m)
    lo, hi = _edge_boxes(graph)
    h = grid.cell_m * np.sqrt(0.5)
    # as far as a sample can matter to a tile: its padding (see _tile_metres), and a cell more
    reach = (np.ceil((band_m + h + grid.cell_m / 2) / grid.cell_m) + 2) * grid.cell_m
    tiles = [(r, c) for r in range(0, grid.n_rows, tile_cells)
             for c in range(0, grid.n_cols, tile_cells)]  # fmt: skip
    for r, c in tiles:
        tile = grid.window(r, c, tile_cells, tile_cells)
        xmin, ymin, xmax, ymax = tile.bounds
        meets = (hi[:, 0] >= xmin - reach) & (lo[:, 0] <= xmax + reach)
        edges = np.flatnonzero(meets & (hi[:, 1] >= ymin - reach) & (lo[:, 1] <= ymax + reach))
        out[r : r + tile.n_rows, c : c + tile.n_cols] = _tile_metres(
            tile, graph, dist, seeds, edges, band_m, max_m, exact_at
        )
        logger.debug("network tile at row %d col %d: %d edges", r, c, len(edges))
    if len(polygons):  # a facility polygon is reached everywhere inside it
        out.ravel()[rasterize_index(grid, polygons) >= 0] = 0.0
    return out.ravel()


def _edge_boxes(graph: WalkGraph):
    """Lower-left and upper-right corners of every edge's bounding box."""
    if graph.edge_geometry is None:
        a, b = graph.node_xy[graph.u], graph.node_xy[graph.v]
        return np.minimum(a, b), np.maximum(a, b)
    box = shapely.bounds(graph.lines)
    return box[:, :2], box[:, 2:]


def _tile_metres(
    tile: Grid, graph: WalkGraph, dist, seeds, edges, band_m, max_m, exact_at
) -> np.ndarray:
    """Measure one tile: samples of the reached edges, then the band, exact at the tiers.

    Samples are put on the cells that hold them, which moves each by up to half a
    cell diagonal ``h``. A minimum filter over a disc of ``band - h`` gives an
    upper bound of every cell's walk, one over ``band + h + s / 2`` (less
    ``s / 2``) a lower bound; where
    a tier's distance falls between the two, the cell is settled exactly by a
    KD-tree of the samples reached within that tier and the points where the
    walk runs out. With samples ``s`` apart along a way, the result is exact at
    every tier's distance but for centres within ``s**2 / (8 * band)`` of the
    band's edge (0.25 m at 10 m cells and a 50 m band), and an upper bound
    between tiers.
    """
    h = tile.cell_m * np.sqrt(0.5)
    step = tile.cell_m  # spacing of the samples along the ways
    pad = int(np.ceil((band_m + h + step / 2) / tile.cell_m)) + 1
    padded = Grid(tile.x0 - pad * tile.cell_m, tile.y1 + pad * tile.cell_m, tile.cell_m,
                  tile.n_rows + 2 * pad, tile.n_cols + 2 * pad)  # fmt: skip
    # float32 halves the filters' memory traffic: walks are rounded by at most 0.1 mm
    best = np.full(padded.size, np.inf, dtype=np.float32)
    xy, walk, cell = np.empty((0, 2)), np.empty(0), np.empty(0, np.int64)
    if len(edges):
        xy, walk = sample_reached_edges(graph, dist, seeds, max_m, step_m=step, edges=edges)
        cell = padded.cell_of(xy)
        ok = (cell >= 0) & (walk <= max_m)
        xy, walk, cell = xy[ok], walk[ok], cell[ok]
        np.minimum.at(best, cell, walk.astype(np.float32))
    best = best.reshape(padded.shape)
    r = band_m / tile.cell_m
    if band_m > h:
        upper = disc_minimum(best, r - h / tile.cell_m)
    else:  # a band narrower than a cell: settle every cell exactly
        upper = np.full(padded.shape, np.inf, dtype=np.float32)
    # A point of a way between two samples is within step/2 of one, and its walk
    # at most step/2 shorter: the lower bound reaches that much farther and lower.
    lower = octagon_minimum(best, r + (h + step / 2) / tile.cell_m) - np.float32(step / 2)
    tiers = np.sort(np.asarray(exact_at, dtype=float))
    # covered at tier k for k >= first_in; surely not for k < first_maybe
    first_in = np.searchsorted(tiers, upper.ravel(), side="left")
    first_maybe = np.searchsorted(tiers, lower.ravel(), side="left")
    candidates = np.flatnonzero(first_maybe < first_in)
    out = upper.ravel().astype(float)
    if len(candidates):
        # Blocks of cells at least as wide as the reach: a sample can settle an
        # unsure cell only from its own block or a neighbouring one.
        reach = int(np.ceil(r + (h + step / 2) / tile.cell_m)) + 1
        side = max(reach, 8)
        shape = (-(-padded.n_rows // side), -(-padded.n_cols // side))
        s_row, s_col = np.divmod(cell, padded.n_cols)
        s_block = (s_row // side) * shape[1] + s_col // side
    for k, budget in enumerate(tiers):
        pick = (first_maybe[candidates] <= k) & (first_in[candidates] > k)
        unsure = candidates[pick]
        if not len(unsure):
            continue
        near = np.zeros(shape, dtype=np.uint8)
        u_row, u_col = np.divmod(unsure, padded.n_cols)
        near[u_row // side, u_col // side] = 1
        near = ndimage.maximum_filter(near, size=3, mode="constant").ravel()
        reached = (walk <= budget) & (near[s_block] > 0)
        # The ends of the partly reached ways, where the walk is exactly the budget.
        ends = frontier_points(graph, dist, seeds, budget, edges=edges)
        if not reached.any() and not len(ends):
            continue
        tree = cKDTree(np.r_[xy[reached], ends], balanced_tree=False, compact_nodes=False)
        d, _ = tree.query(
            padded.centres(unsure), k=1, distance_upper_bound=widen_bound(band_m), workers=-1
        )
        hit = unsure[np.isfinite(d)]
        out[hit] = np.minimum(out[hit], budget)
    out = out.reshape(padded.shape)
    return out[pad : pad + tile.n_rows, pad : pad + tile.n_cols]


def sample_reached_edges(graph: WalkGraph, dist, seeds, max_m, *, step_m: float, edges=None):
    """Points along every edge within reach, with the walk to each.

    Parameters
    ----------
    graph : WalkGraph
    dist : numpy.ndarray
        Walk to every node (``inf`` where not reached).
    seeds : numpy.ndarray
        Rows ``(edge, first, last, offset)`` of where facilities join edges
        (see :func:`gongshu_geo.analysis.network.locate_facility_access`).
    max_m : float
        Edges no sample of which can be reached within this are skipped.
    step_m : float
        Spacing of the samples along an edge.
    edges : numpy.ndarray, optional
        Sample only these edges (positions); all by default.

    Returns
    -------
    tuple of numpy.ndarray
        ``(n, 2)`` sample coordinates and their walks in metres.
    """
    length = np.asarray(graph.length_m, dtype=float)
    du, dv = dist[graph.u], dist[graph.v]
    seed_edge = seeds[:, 0].astype(np.int64) if len(seeds) else np.empty(0, np.int64)
    seeded = np.zeros(graph.n_edges, bool)
    seeded[seed_edge] = True
    within = (np.minimum(du, dv) <= max_m) | seeded
    if edges is not None:
        keep = np.zeros(graph.n_edges, bool)
        keep[np.asarray(edges, dtype=np.int64)] = True
        within &= keep
    edges = np.flatnonzero(within)
    if not len(edges):
        return np.empty((0, 2)), np.empty(0)
    n_samples = np.maximum(1, np.ceil(length[edges] / step_m).astype(np.int64)) + 1
    edge = np.repeat(edges, n_samples)
    first = np.repeat(np.cumsum(n_samples) - n_samples, n_samples)
    t = (np.arange(len(edge)) - first) / np.repeat(n_samples - 1, n_samples)
    walk = np.minimum(du[edge] + t * length[edge], dv[edge] + (1 - t) * length[edge])
    if len(seeds):
        # Along the edge from where a facility joins it (several per edge: take each).
        on = np.flatnonzero(seeded[edge])
        order = np.argsort(seed_edge, kind="stable")
        s_edge, s_rows = seed_edge[order], seeds[order]
        lo = np.searchsorted(s_edge, edge[on], side="left")
        hi = np.searchsorted(s_edge, edge[on], side="right")
        t_on, len_on, w_on = t[on], length[edge[on]], walk[on]
        for k in range(int((hi - lo).max(initial=0))):
            has = lo + k < hi
            row = s_rows[np.minimum(lo + k, len(s_rows) - 1)]
            gap = np.maximum(0.0, np.maximum(row[:, 1] - t_on, t_on - row[:, 2]))
            w_on = np.where(has, np.minimum(w_on, row[:, 3] + gap * len_on), w_on)
        walk[on] = w_on
    a, b = graph.node_xy[graph.u[edge]], graph.node_xy[graph.v[edge]]
    xy = a + t[:, None] * (b - a)
    if graph.edge_geometry is not None:  # bent ways: along their geometry
        bent = np.flatnonzero(shapely.get_num_coordinates(graph.lines[edges]) > 2)
        on = np.flatnonzero(np.isin(edge, edges[bent]))
        if len(on):
            pts = shapely.line_interpolate_point(graph.lines[edge[on]], t[on], normalized=True)
            xy[on] = shapely.get_coordinates(pts)
    return xy, walk


def frontier_points(graph: WalkGraph, dist, seeds, budget: float, *, edges=None) -> np.ndarray:
    """Points where the walk runs out on edges reached only in part.

    Parameters
    ----------
    graph : WalkGraph
    dist : numpy.ndarray
        Walk to every node.
    seeds : numpy.ndarray
        Where facilities join edges (see :func:`sample_reached_edges`).
    budget : float
        The walk, metres.
    edges : numpy.ndarray, optional
        Only on these edges (positions); all by default.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` coordinates in EPSG:4549, each reached within ``budget``.
    """
    length = np.asarray(graph.length_m, dtype=float)
    safe = np.where(length > 0, length, 1.0)
    edge_s, frac_s = [], []
    for ends, toward in ((graph.u, False), (graph.v, True)):
        left = budget - dist[ends]
        part = np.flatnonzero((left > 0) & (left < length))
        edge_s.append(part)
        f = left[part] / safe[part]
        frac_s.append(1 - f if toward else f)
    if len(seeds):
        edge = seeds[:, 0].astype(np.int64)
        left = (budget - seeds[:, 3]) / safe[edge]
        ok = left > 0
        edge_s += [edge[ok], edge[ok]]
        frac_s += [np.clip(seeds[ok, 1] - left[ok], 0, 1), np.clip(seeds[ok, 2] + left[ok], 0, 1)]
    edge, frac = np.concatenate(edge_s), np.concatenate(frac_s)
    if edges is not None:
        keep = np.isin(edge, np.asarray(edges, dtype=np.int64))
        edge, frac = edge[keep], frac[keep]
    if not len(edge):
        return np.empty((0, 2))
    if graph.edge_geometry is None:
        a, b = graph.node_xy[graph.u[edge]], graph.node_xy[graph.v[edge]]
        return a + frac[:, None] * (b - a)
    pts = shapely.line_interpolate_point(graph.lines[edge], frac, normalized=True)
    return shapely.get_coordinates(pts)


def disc_minimum(values: np.ndarray, radius_cells: float) -> np.ndarray:
    """Smallest value within a disc around every cell (centre to centre).

    The disc of cells with ``dx**2 + dy**2 <= r**2`` is the union of the
    rectangles ``|dx| <= w(h), |dy| <= h``, with ``w(h)`` the half-width of the
    disc's row ``h``; each rectangle is two one-dimensional minimum filters.

    Parameters
    ----------
    values : numpy.ndarray
        2-D array; ``inf`` where nothing is.
    radius_cells : float
        Radius of the disc in cells.

    Returns
    -------
    numpy.ndarray
        Same shape; cells off the array count as ``inf``.

    Examples
    --------
    >>> a = np.full((7, 7), np.inf); a[3, 3] = 1.0
    >>> int(np.isfinite(disc_minimum(a, 2.0)).sum())  # the 13 cells within 2 of the centre
    13
    """
    r = float(radius_cells)
    if r < 1:
        return values.copy()
    h = np.arange(int(np.floor(r)) + 1)
    w = np.floor(np.sqrt(np.maximum(r * r - h * h, 0)) + 1e-9).astype(int)
    out = np.full(values.shape, np.inf, dtype=values.dtype)
    for width in np.unique(w):
        height = h[w == width].max()  # the tallest rectangle of this width
        part = ndimage.minimum_filter1d(values, 2 * width + 1, axis=1, mode="constant", cval=np.inf)
        part = ndimage.minimum_filter1d(part, 2 * height + 1, axis=0, mode="constant", cval=np.inf)
        np.minimum(out, part, out=out)
    return out


def octagon_minimum(values: np.ndarray, radius_cells: float) -> np.ndarray:
    """Smallest value within an octagon that holds the disc of ``radius_cells``.

    The union of the rectangles ``|dx| <= R, |dy| <= a`` and ``|dx| <= a, |dy| <= R``
    with ``R = floor(r)`` and ``a = ceil(r / sqrt(2))`` holds every cell of the disc
    (a cell with ``|dx| >= |dy|`` has ``|dy| <= r / sqrt(2)``): a lower bound for
    :func:`disc_minimum` in four one-dimensional passes.

    Examples
    --------
    >>> a = np.random.default_rng(1).random((30, 30))
    >>> bool((octagon_minimum(a, 4.3) <= disc_minimum(a, 4.3)).all())
    True
    """
    big = int(np.floor(radius_cells))
    small = int(np.ceil(radius_cells / np.sqrt(2)))
    kw = {"mode": "constant", "cval": np.inf}
    wide = ndimage.minimum_filter1d(values, 2 * big + 1, axis=1, **kw)
    wide = ndimage.minimum_filter1d(wide, 2 * small + 1, axis=0, **kw)
    tall = ndimage.minimum_filter1d(values, 2 * small + 1, axis=1, **kw)
    tall = ndimage.minimum_filter1d(tall, 2 * big + 1, axis=0, **kw)
    return np.minimum(wide, tall)


def summarize_surface(surface: DistanceSurface, tiers: pd.DataFrame) -> pd.DataFrame:
    """Covered cells and people per street and tier, counted on the surface's cells.

    Parameters
    ----------
    surface : DistanceSurface
    tiers : pandas.DataFrame
        From :func:`gongshu_geo.analysis.tiers.resolve_tiers`.

    Returns
    -------
    pandas.DataFrame
        One row per tier and street: the street table's columns, ``minutes``,
        ``distance_m``, ``covered_area_share``, ``covered_pop_share``,
        ``covered_area_m2`` (the share times the street's polygon area),
        ``covered_pop`` and ``population``.
    """
    unsettled = [t for t in tiers["distance_m"] if float(t) not in surface.exact_at]
    if unsettled:
        raise InputError(
            _(
                "the surface was not settled at {unsettled:g} m: make it with "
                "compute_distance_surface(..., exact_at={distance_m})"
            ).format(unsettled=unsettled[0], distance_m=tiers["distance_m"].tolist())
        )
    area = surface.area
    base = area.streets.frame.copy()
    cells = area.street_cells
    base["population"] = area.street_population
    n, n_tiers = len(cells), len(tiers)
    tier_m = tiers["distance_m"].to_numpy(dtype=float)
    # One pass: each cell counted at the first tier that reaches it, then summed up.
    first = np.searchsorted(tier_m, surface.metres[area.inside], side="left")
    flat = area.label[area.inside].astype(np.int64) * (n_tiers + 1) + first
    size = n * (n_tiers + 1)
    by_cells = np.bincount(flat, minlength=size).reshape(n, -1)[:, :-1].cumsum(axis=1)
    by_pop = np.bincount(flat, weights=area.cell_pop[area.inside], minlength=size)
    if len(area.point_pop):  # people at points: their cell's distance, their own street
        first = np.searchsorted(tier_m, surface.metres[area.point_cell], side="left")
        flat = area.point_street * (n_tiers + 1) + first
        by_pop += np.bincount(flat, weights=area.point_pop, minlength=size)
    by_pop = by_pop.reshape(n, -1)[:, :-1].cumsum(axis=1)
    frames = []
    for t, row in enumerate(tiers.itertuples()):
        covered_cells, covered_pop = by_cells[:, t], by_pop[:, t]
        out = base.assign(minutes=float(row.minutes), distance_m=float(row.distance_m))
        share = np.divide(covered_cells, cells, out=np.full(n, np.nan), where=cells > 0)
        out["covered_area_share"] = np.clip(share, 0, 1)
        out["covered_area_m2"] = out["covered_area_share"] * out["street_area_m2"]
        pop = out["population"].to_numpy(dtype=float)
        if area.population_source == "streets":  # people spread evenly: the area's share
            out["covered_pop"] = pop * out["covered_area_share"]
            out["covered_pop_share"] = np.where(pop > 0, out["covered_area_share"], np.nan)
        else:
            out["covered_pop"] = np.where(np.isfinite(pop), covered_pop, np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(pop > 0, covered_pop / pop, np.nan)
            out["covered_pop_share"] = np.clip(share, 0, 1)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)
