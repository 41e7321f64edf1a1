"""Walking graphs and multi-source shortest paths over them.

A :class:`WalkGraph` is a light, undirected graph held in numpy arrays: node
coordinates in the metric CRS (EPSG:4549), and for each edge its two nodes, its
length in metres and, where known, its geometry. :mod:`gongshu_geo.data.graphs` reads
it from GraphML as OSMnx writes it (``read_graph``) or builds it from a line
layer of walkable ways (``graph_from_lines``).

Distances from every node to the nearest facility come from one Dijkstra pass
of :mod:`scipy.sparse.csgraph` from a virtual source joined to the points where
each facility meets the network (:func:`compute_node_distances`), not from one
search per facility. Service areas are the reached edges, cut where the walking
budget runs out, widened by a band and dissolved
(:func:`compute_network_service_areas`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
import shapely.ops
from scipy.sparse.csgraph import dijkstra

from gongshu_geo.analysis.tiers import resolve_tiers
from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.walkgraph import NODE_PRECISION_M, WalkGraph  # noqa: F401 (part of this module's API)

logger = logging.getLogger(__name__)

#: Default width (metres) of the band drawn around reached ways: homes and
#: entrances set back up to this far from a mapped way count as reached.
DEFAULT_BAND_M = 50.0
#: Segments per quarter circle at the round ends of the band.
BAND_QUAD_SEGS = 4


def locate_facility_access(graph: WalkGraph, geoms: np.ndarray):
    """Find where facilities meet the network.

    Each facility meets its nearest edge at the nearest point; a line or
    polygon also meets every edge it touches, from the first to the last
    point they share. Returns ``(nodes, costs,
    seeds)``: metres from the facilities to the end nodes of those edges, and
    rows ``(edge, first, last, offset)`` with positions as fractions of the
    edge and ``offset`` the metres from the facility to the edge.
    """
    geoms = shapely.get_parts(geoms)
    if graph.n_edges == 0 or len(geoms) == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty((0, 4))
    if graph.edge_geometry is None and (shapely.get_type_id(geoms) == 0).all():
        seeds = [_nearest_straight_edges(graph, shapely.get_coordinates(geoms))]
    else:
        src, edge = graph.edge_tree.query_nearest(geoms, all_matches=False)
        point = shapely.get_point(shapely.shortest_line(graph.lines[edge], geoms[src]), 0)
        frac = _fractions(graph.lines[edge], point)
        seeds = [np.column_stack([edge, frac, frac, shapely.distance(point, geoms[src])])]
    spread = geoms[shapely.get_type_id(geoms) != 0]
    if len(spread):
        src, edge = graph.edge_tree.query(spread, predicate="intersects")
        shared = shapely.intersection(graph.lines[edge], spread[src])
        where, row = shapely.get_coordinates(shared, return_index=True)
        frac = _fractions(graph.lines[edge[row]], shapely.points(where))
        first = np.full(len(edge), np.inf)
        last = np.full(len(edge), -np.inf)
        np.minimum.at(first, row, frac)
        np.maximum.at(last, row, frac)
        ok = np.isfinite(first)
        seeds.append(np.column_stack([edge[ok], first[ok], last[ok], np.zeros(ok.sum())]))
    seeds = np.concatenate(seeds)
    edge = seeds[:, 0].astype(np.int64)
    length = graph.length_m[edge]
    nodes = np.r_[graph.u[edge], graph.v[edge]]
    costs = np.r_[seeds[:, 3] + seeds[:, 1] * length, seeds[:, 3] + (1 - seeds[:, 2]) * length]
    return nodes, costs, seeds


def _nearest_straight_edges(graph: WalkGraph, xy: np.ndarray) -> np.ndarray:
    """Seed rows ``(edge, frac, frac, offset)`` of points on their nearest straight edge.

    The edge nearest a point has an end within ``d0 + L / 2`` of it (``d0`` the
    distance to the nearest node, ``L`` the longest edge), so only edges at the
    nodes a KD-tree finds within that radius are measured, exactly. Ties go to
    the lowest edge position, as :meth:`shapely.STRtree.query_nearest` may not.
    """
    nodes = graph.node_tree
    d0, _ = nodes.query(xy, k=1)
    radius = d0 + float(np.max(graph.length_m, initial=0.0)) / 2 + 1e-6
    near = nodes.query_ball_point(xy, radius, return_sorted=False)
    counts = np.fromiter((len(n) for n in near), dtype=np.int64, count=len(xy))
    src = np.repeat(np.arange(len(xy)), counts)
    node = np.fromiter((k for n in near for k in n), dtype=np.int64, count=int(counts.sum()))
    ptr, inc = graph.incidence
    per = ptr[node + 1] - ptr[node]
    src = np.repeat(src, per)
    start = np.repeat(ptr[node], per)
    edge = inc[start + np.arange(len(start)) - np.repeat(np.cumsum(per) - per, per)]
    a, b = graph.node_xy[graph.u[edge]], graph.node_xy[graph.v[edge]]
    ab = b - a
    denom = np.einsum("ij,ij->i", ab, ab)
    p = xy[src]
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.where(denom > 0, denom, 1.0), 0.0, 1.0)
    off = np.hypot(*(p - (a + t[:, None] * ab)).T)
    order = np.lexsort((edge, off, src))
    first = order[np.r_[True, src[order][1:] != src[order][:-1]]]
    return np.column_stack([edge[first], t[first], t[first], off[first]])


def _fractions(lines, points) -> np.ndarray:
    """Positions of points along lines, as fractions of their length."""
    return np.nan_to_num(shapely.line_locate_point(lines, points, normalized=True))


def node_walks(graph: WalkGraph, nodes, costs, limit) -> np.ndarray:
    """Walk to every node from the nearest of several sources, in one Dijkstra.

    Parameters
    ----------
    graph : WalkGraph
    nodes, costs : numpy.ndarray
        Nodes where the sources join the graph, and metres from a source to each.
    limit : float or None
        Stop at this many metres (``inf`` beyond).

    Returns
    -------
    numpy.ndarray
        Metres for every node.
    """
    n = graph.n_nodes
    best = np.full(n, np.inf)
    np.minimum.at(best, nodes, costs)
    reached = np.flatnonzero(np.isfinite(best))
    # the graph's matrix with one more row, the virtual source, appended as it is
    base = graph.matrix
    indptr = np.r_[base.indptr, base.indptr[-1] + len(reached)]
    matrix = sp.csr_matrix(
        (np.r_[base.data, best[reached]], np.r_[base.indices, reached], indptr),
        shape=(n + 1, n + 1),
    )
    limit = np.inf if limit is None else float(limit)
    dist = dijkstra(matrix, directed=False, indices=n, limit=limit)
    return dist[:n]


def compute_node_distances(
    graph: WalkGraph,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_distance_m: float | None = None,
) -> pd.Series:
    """Measure the walk from every node to its nearest facility, in one pass.

    Each facility joins the network at the nearest point of its nearest edge;
    lines and polygons also join every edge they touch. A virtual source is
    linked to the ends of those edges with the metres from the facility as
    weights, and a single :func:`scipy.sparse.csgraph.dijkstra` from it gives
    every node's distance to its nearest facility.

    Parameters
    ----------
    graph : WalkGraph
    facilities : geopandas.GeoDataFrame or geopandas.GeoSeries
        Points, lines or polygons with a CRS.
    max_distance_m : float, optional
        Stop the search at this many metres; nodes beyond are ``inf``.

    Returns
    -------
    pandas.Series
        Metres, indexed like the graph's nodes (``graph.node_ids``), named
        ``distance_m``; ``inf`` where no facility is reached.
    """
    geoms = _crs.metric_geometries(facilities, "facilities")
    nodes, costs, _access = locate_facility_access(graph, geoms)
    dist = node_walks(graph, nodes, costs, max_distance_m)
    index = graph.node_ids if graph.node_ids is not None else pd.RangeIndex(graph.n_nodes)
    logger.info(_("node distances from %d facilities over %r"), len(geoms), graph)
    return pd.Series(dist, index=index, name="distance_m")


def compute_network_service_areas(
    graph: WalkGraph,
    facilities: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    tiers: pd.DataFrame | float | Sequence[float] | None,
    band_m: float = DEFAULT_BAND_M,
) -> gpd.GeoDataFrame:
    """Areas within walking distance of a facility, one dissolved area per tier.

    The ways walked are the reached edges: whole where the budget left at one
    end covers the edge, cut at the remaining distance otherwise (from both
    ends, and around where each facility joins its edge). They are widened by
    ``band_m`` on each side and dissolved; polygon facilities are added as
    they are. Block interiors farther than ``band_m`` from every reached way
    are left out: that is the point of a network measure.

    Parameters
    ----------
    graph : WalkGraph
    facilities : geopandas.GeoDataFrame or geopandas.GeoSeries
        Points, lines or polygons with a CRS.
    tiers : pandas.DataFrame
        With columns ``minutes`` and ``distance_m`` (see
        :func:`gongshu_geo.analysis.coverage.service_tiers`).
    band_m : float
        Half-width in metres of the band drawn around reached ways.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``minutes``, ``distance_m``, ``mode`` (``"network"``) and the
        area, in EPSG:4326.
    """
    areas = network_service_areas_metric(
        graph, _crs.metric_geometries(facilities, "facilities"), tiers, band_m
    )
    return areas.to_crs(_crs.WGS84)


def network_service_areas_metric(graph: WalkGraph, geoms, tiers, band_m) -> gpd.GeoDataFrame:
    """Build the network service areas of :func:`compute_network_service_areas` in EPSG:4549."""
    tiers = resolve_tiers(tiers)
    if not np.isfinite(band_m) or band_m < 0:
        raise InputError(
            _("band_m must be a non-negative number of metres; found {band_m!r}").format(
                band_m=band_m
            )
        )
    nodes, costs, seeds = locate_facility_access(graph, geoms)
    dist = node_walks(graph, nodes, costs, tiers["distance_m"].max())
    polygons = geoms[np.isin(shapely.get_type_id(geoms), [3, 6])]
    areas = []
    for budget in tiers["distance_m"]:
        pieces = _reached_pieces(graph, dist, seeds, float(budget))
        area = shapely.union_all(
            np.r_[shapely.buffer(pieces, band_m, quad_segs=BAND_QUAD_SEGS), polygons]
        )
        areas.append(area)
        logger.debug("network tier %.0f m: %d edge pieces", budget, len(pieces))
    logger.info(_("network service areas for %d facilities, %d tiers"), len(geoms), len(tiers))
    return gpd.GeoDataFrame(
        {
            "minutes": tiers["minutes"].to_numpy(),
            "distance_m": tiers["distance_m"].to_numpy(),
            "mode": "network",
        },
        geometry=areas,
        crs=_crs.METRIC,
    )


def _reached_pieces(graph: WalkGraph, dist, seeds, budget) -> np.ndarray:
    """Cut out the parts of edges within ``budget`` metres of a facility."""
    length = graph.length_m
    left_u = budget - dist[graph.u]  # metres still to walk on arriving at u
    left_v = budget - dist[graph.v]
    with np.errstate(invalid="ignore"):
        full = (
            (left_u >= length)
            | (left_v >= length)
            | ((left_u >= 0) & (left_v >= 0) & (left_u + left_v >= length))
        )
    safe = np.where(length > 0, length, 1.0)
    from_u = ~full & (left_u > 0)
    from_v = ~full & (left_v > 0)
    edge_s = [np.flatnonzero(from_u), np.flatnonzero(from_v)]
    start = [np.zeros(len(edge_s[0])), 1.0 - left_v[from_v] / safe[from_v]]
    end = [left_u[from_u] / safe[from_u], np.ones(len(edge_s[1]))]
    if len(seeds):
        edge = seeds[:, 0].astype(np.int64)
        left = (budget - seeds[:, 3]) / safe[edge]  # as a fraction of the edge
        ok = (left > 0) & ~full[edge]
        edge_s.append(edge[ok])
        start.append(np.clip(seeds[ok, 1] - left[ok], 0, 1))
        end.append(np.clip(seeds[ok, 2] + left[ok], 0, 1))
    edge_p = np.concatenate(edge_s)
    partial = _substrings(graph.lines[edge_p], np.concatenate(start), np.concatenate(end))
    return np.r_[graph.lines[full], partial]


def _substrings(lines, start, end) -> np.ndarray:
    """Sub-lines between two fractions of length; vectorised for straight segments."""
    out = np.empty(len(lines), dtype=object)
    straight = shapely.get_num_coordinates(lines) == 2
    if straight.any():
        a = shapely.line_interpolate_point(lines[straight], start[straight], normalized=True)
        b = shapely.line_interpolate_point(lines[straight], end[straight], normalized=True)
        out[straight] = shapely.linestrings(
            np.stack([shapely.get_coordinates(a), shapely.get_coordinates(b)], axis=1)
        )
    for k in np.flatnonzero(~straight):
        out[k] = shapely.ops.substring(lines[k], start[k], end[k], normalized=True)
    return out
