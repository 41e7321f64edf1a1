"""Reading, building, writing and downloading walking graphs.

:func:`read_graph` reads GraphML as OSMnx writes it; :func:`graph_from_lines`
turns a layer of walkable ways into a graph; :func:`download_walking_graph`
fetches the district's walking network with OSMnx where the internet is
reachable. All return or write a :class:`gongshu_geo.data.walkgraph.WalkGraph`.
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import CRS, Transformer

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.atomic import atomic_path
from gongshu_geo.core.crs import metric_geometries
from gongshu_geo.core.errors import GongshuGeoError, InputError, MissingDependencyError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.limits import check_input_size
from gongshu_geo.data.walkgraph import NODE_PRECISION_M, WalkGraph

logger = logging.getLogger(__name__)

_GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"


def read_graph(path: str | os.PathLike) -> WalkGraph:
    """Read a walking graph from GraphML as OSMnx writes it.

    Nodes need ``x`` and ``y`` (longitude/latitude, or projected coordinates
    in the CRS named by the graph's ``crs`` attribute); edges use their
    ``length`` in metres, and their ``geometry`` (WKT) when present. Missing
    lengths are measured in EPSG:4549. Edge directions are ignored (walkers
    go both ways) and an edge stored in both directions is kept once.

    Parameters
    ----------
    path : str or Path
        A ``.graphml`` file.

    Returns
    -------
    WalkGraph
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            _("{path}: no such file; download one with download_walking_graph()").format(path=path)
        )
    check_input_size(path, what=N_("GraphML file"))
    try:
        graph_attrs, nodes, edges = _parse_graphml(path)
    except ET.ParseError as exc:
        raise InputError(
            _("{path}: not a GraphML (XML) file ({exc})").format(path=path, exc=exc)
        ) from exc
    if not nodes:
        raise InputError(_("{path}: the graph has no nodes").format(path=path))
    ids = list(nodes)
    try:
        xy = np.array([[float(nodes[i]["x"]), float(nodes[i]["y"])] for i in ids])
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(
            _(
                '{path}: every node needs numeric "x" and "y" attributes (as OSMnx '
                "writes them); found a node without ({exc})"
            ).format(path=path, exc=exc)
        ) from exc
    source_crs = _graph_crs(graph_attrs.get("crs"), xy, path)
    position = {node_id: k for k, node_id in enumerate(ids)}
    try:
        u = np.array([position[s] for s, _, _ in edges], dtype=np.int64)
        v = np.array([position[t] for _, t, _ in edges], dtype=np.int64)
    except KeyError as exc:
        raise InputError(
            _("{path}: an edge names node {exc} that the file does not define").format(
                path=path, exc=exc
            )
        ) from exc
    length = pd.to_numeric(
        pd.Series([a.get("length") for *_, a in edges], dtype=object), errors="coerce"
    )
    length = length.to_numpy(dtype=float, na_value=np.nan)
    wkt = [a.get("geometry") for _, _, a in edges]
    to_metric = Transformer.from_crs(source_crs, _crs.METRIC, always_xy=True)
    node_xy = _metric_nodes(to_metric, xy, source_crs, ids, path)
    geometry = None
    if any(w for w in wkt):
        straight = shapely.linestrings(np.stack([node_xy[u], node_xy[v]], axis=1))
        parsed = shapely.from_wkt([w or None for w in wkt], on_invalid="ignore")
        parsed = shapely.transform(
            parsed, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1]))
        )
        geometry = np.where(shapely.is_missing(parsed), straight, parsed)
    graph = _finish_graph(node_xy, u, v, length, geometry, np.asarray(ids, dtype=object))
    logger.info(_("read %r from %s"), graph, path)
    return graph


def _metric_nodes(to_metric, xy, source_crs, ids, path) -> np.ndarray:
    """Node coordinates in EPSG:4549, refusing any that are not finite or impossible."""
    bad = ~np.isfinite(xy).all(axis=1)
    if source_crs.is_geographic:
        bad |= (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if not bad.any():
        with np.errstate(all="ignore"):
            node_xy = np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
        bad = ~np.isfinite(node_xy).all(axis=1)
        if not bad.any():
            return node_xy
    k = int(np.flatnonzero(bad)[0])
    raise InputError(
        _(
            '{path}: node "{ids}" has "x"/"y" {xy!r}/{xy2!r}, which are not '
            "coordinates in the graph's CRS ({name}); {count} such nodes"
        ).format(
            path=path,
            ids=ids[k],
            xy=xy[k, 0],
            xy2=xy[k, 1],
            name=source_crs.name,
            count=int(bad.sum()),
        )
    )


def _parse_graphml(path: Path):
    keys: dict = {}
    defaults: dict = {"node": {}, "edge": {}, "graph": {}}
    graph_attrs: dict = {}
    nodes: dict = {}
    edges: list = []
    for _event, elem in ET.iterparse(path, events=("end",)):
        tag = elem.tag.replace(_GRAPHML_NS, "")
        if tag == "key":
            keys[elem.get("id")] = elem.get("attr.name", elem.get("id"))
            default = elem.find(f"{_GRAPHML_NS}default")
            if default is not None and elem.get("for") in defaults:
                defaults[elem.get("for")][keys[elem.get("id")]] = default.text
        elif tag == "node":
            nodes[elem.get("id")] = {**defaults["node"], **_data(elem, keys)}
            elem.clear()
        elif tag == "edge":
            edges.append(
                (elem.get("source"), elem.get("target"), {**defaults["edge"], **_data(elem, keys)})
            )
            elem.clear()
        elif tag == "graph":
            graph_attrs = {**defaults["graph"], **_data(elem, keys)}
    return graph_attrs, nodes, edges


def _data(elem, keys) -> dict:
    return {
        keys.get(d.get("key"), d.get("key")): d.text for d in elem.findall(f"{_GRAPHML_NS}data")
    }


def _graph_crs(text, xy, path):
    if text:
        try:
            return CRS.from_user_input(text)
        except Exception as exc:  # pyproj raises its own CRSError
            raise InputError(
                _('{path}: graph attribute "crs" is {text!r}, which PROJ does not know').format(
                    path=path, text=text
                )
            ) from exc
    if np.all(np.abs(xy[:, 0]) <= 180) and np.all(np.abs(xy[:, 1]) <= 90):
        logger.warning(
            _("%s: the graph names no CRS; taking x/y as WGS 84 longitude/latitude"), path
        )
        return CRS.from_user_input(_crs.WGS84)
    raise InputError(
        _(
            '{path}: the graph has no "crs" attribute and its x/y are not '
            "longitude/latitude; add the CRS as a graph attribute (OSMnx writes "
            'crs="epsg:4326")'
        ).format(path=path)
    )


def _finish_graph(node_xy, u, v, length, geometry, node_ids) -> WalkGraph:
    """Fill missing lengths, orient edges u < v and drop reverse duplicates."""
    missing = ~np.isfinite(length)
    if missing.any():
        logger.info(_("measuring %d edges without a length in EPSG:4549"), int(missing.sum()))
        straight = np.hypot(*(node_xy[u] - node_xy[v]).T)
        measured = straight if geometry is None else shapely.length(geometry)
        length = np.where(missing, measured, length)
    flip = u > v
    u, v = np.where(flip, v, u), np.where(flip, u, v)
    if geometry is not None:
        geometry = np.where(flip, shapely.reverse(geometry), geometry)
    keep = ~pd.DataFrame({"u": u, "v": v, "m": np.round(length, 2)}).duplicated().to_numpy()
    geometry = None if geometry is None else geometry[keep]
    return WalkGraph(node_xy, u[keep], v[keep], length[keep], geometry, node_ids)


def graph_from_lines(lines: gpd.GeoDataFrame | gpd.GeoSeries) -> WalkGraph:
    """Build a walking graph from a line layer of walkable ways.

    Lines are split where they share a vertex; nodes are the line ends and
    shared vertices, matched after rounding to :data:`NODE_PRECISION_M`; edge
    lengths are measured in EPSG:4549. Lines that cross without a shared vertex
    are not joined (as in OSM, a bridge over a road is no crossing).

    Parameters
    ----------
    lines : geopandas.GeoDataFrame or geopandas.GeoSeries
        LineStrings or MultiLineStrings with a CRS.

    Returns
    -------
    WalkGraph
    """
    geoms = metric_geometries(lines, "lines")
    other = sorted({g.geom_type for g in geoms[~np.isin(shapely.get_type_id(geoms), [1, 5])]})
    if other:
        found = ", ".join(other)
        raise InputError(
            _(
                "a walking graph is built from LineString or MultiLineString ways; found {found}"
            ).format(found=found)
        )
    parts = shapely.get_parts(geoms)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    key = np.round(coords / NODE_PRECISION_M).astype(np.int64)
    _unique, vertex_key, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    vertex_key = vertex_key.ravel()
    first = np.r_[True, line[1:] != line[:-1]]
    last = np.r_[line[1:] != line[:-1], True]
    is_node = first | last | (counts[vertex_key] > 1)
    # Piece k starts at every node vertex that does not end its line.
    starts = is_node & ~last
    piece = np.cumsum(starts) - 1
    own = np.flatnonzero(~last)  # vertex i opens or continues piece[i]
    closing = np.flatnonzero(is_node & ~first)  # vertex i also closes piece[i - 1]
    member = np.r_[own, closing]
    member_piece = np.r_[piece[own], piece[closing - 1]]
    order = np.lexsort((member, member_piece))
    member, member_piece = member[order], member_piece[order]
    pieces = shapely.linestrings(coords[member], indices=member_piece)
    bounds = np.r_[0, np.flatnonzero(np.diff(member_piece)) + 1]
    end_first, end_last = member[bounds], member[np.r_[bounds[1:] - 1, len(member) - 1]]
    node_keys, node_pos = np.unique(vertex_key[is_node], return_inverse=True)
    lookup = np.full(vertex_key.max() + 1, -1)
    lookup[node_keys] = np.arange(len(node_keys))
    node_xy = np.zeros((len(node_keys), 2))
    node_xy[node_pos.ravel()] = coords[is_node]
    u, v = lookup[vertex_key[end_first]], lookup[vertex_key[end_last]]
    length = shapely.length(pieces)
    keep = length > 0
    graph = _finish_graph(node_xy, u[keep], v[keep], length[keep], pieces[keep], None)
    logger.info(_("built %r from %d lines"), graph, len(geoms))
    return graph


def download_walking_graph(
    boundary: gpd.GeoDataFrame,
    out_path: str | os.PathLike,
    *,
    margin_m: float = 500.0,
    downloader: Callable | None = None,
) -> Path:
    """Download the OpenStreetMap walking network around an area and save it as GraphML.

    Needs the internet and the optional ``osmnx`` package (``pip install
    gongshu-geo[network]``). The file is written atomically: a failed
    download leaves an earlier file in place.

    Parameters
    ----------
    boundary : geopandas.GeoDataFrame
        The area (e.g. the district or its streets) with a CRS.
    out_path : str or Path
        Where to write the ``.graphml`` file.
    margin_m : float
        Widen the area by this many metres so that walks may leave and come
        back in (facilities just outside the boundary still serve it).
    downloader : callable, optional
        ``downloader(polygon)`` returning a networkx graph for a WGS 84
        polygon; defaults to ``osmnx.graph_from_polygon(polygon,
        network_type="walk")``. Tests pass a function returning a local graph.

    Returns
    -------
    pathlib.Path
        The file written; read it with :func:`read_graph`.
    """
    area = shapely.union_all(metric_geometries(boundary, "boundary")).buffer(margin_m)
    polygon = gpd.GeoSeries([area], crs=_crs.METRIC).to_crs(_crs.WGS84).iloc[0]
    osmnx = None
    if downloader is None:
        try:
            import osmnx
        except ImportError as exc:
            raise MissingDependencyError(
                _("downloading the walking network needs osmnx: pip install gongshu-geo[network]")
            ) from exc

        def downloader(poly):
            return osmnx.graph_from_polygon(poly, network_type="walk")

    try:
        graph = downloader(polygon)
    except OSError as exc:
        raise GongshuGeoError(
            _(
                "could not download the walking network ({exc}); check the internet "
                "connection, or pass a GraphML file you already have to read_graph()"
            ).format(exc=exc)
        ) from exc
    with atomic_path(out_path) as tmp:
        _write_graphml(graph, tmp, osmnx)
    logger.info(_("saved a walking graph of %d nodes to %s"), graph.number_of_nodes(), out_path)
    return Path(out_path)


def _write_graphml(graph, path, osmnx) -> None:
    if osmnx is not None:
        osmnx.save_graphml(graph, filepath=path)
        return
    import networkx as nx

    plain = (str, int, float, bool)
    out = graph.copy()
    out.graph = {k: (v if isinstance(v, plain) else str(v)) for k, v in graph.graph.items()}
    out.graph.setdefault("crs", "epsg:4326")
    for _node, data in out.nodes(data=True):
        data.update({k: str(v) for k, v in data.items() if not isinstance(v, plain)})
    for *_ends, data in out.edges(data=True):
        data.update({k: str(v) for k, v in data.items() if not isinstance(v, plain)})
    nx.write_graphml(out, path)
