"""Walking graphs: reading, building, one-pass distances and network service areas.

Graphs are built in EPSG:4549 near Gongshu; expected distances are worked out by
hand or with networkx, never taken from the code under test.
"""

import math
import sys

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from gongshu_geo import GongshuGeoError, InputError, MissingDependencyError
from gongshu_geo.analysis.coverage import compute_coverage, service_tiers
from gongshu_geo.analysis.network import (
    BAND_QUAD_SEGS,
    WalkGraph,
    compute_network_service_areas,
    compute_node_distances,
)
from gongshu_geo.data.graphs import download_walking_graph, graph_from_lines, read_graph

X0, Y0 = 505_000.0, 3_355_000.0
METRIC = "EPSG:4549"


def pt(x, y):
    return shapely.Point(X0 + x, Y0 + y)


def seg(a, b):
    return shapely.LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])])


def lines(*geoms):
    return gpd.GeoSeries(list(geoms), crs=METRIC)


def points(*geoms):
    return gpd.GeoDataFrame(
        {"name": [f"f{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=METRIC
    )


def band_area(length, band):
    """Area shapely draws for a straight segment widened by ``band`` (round caps)."""
    n = 4 * BAND_QUAD_SEGS
    return 2 * band * length + 0.5 * n * band**2 * math.sin(2 * math.pi / n)


def grid_segments(nx_, ny_, step):
    """Segments of an nx_ by ny_ node grid, ``step`` metres apart."""
    out = []
    for i in range(nx_):
        for j in range(ny_):
            if i + 1 < nx_:
                out.append(seg((i * step, j * step), ((i + 1) * step, j * step)))
            if j + 1 < ny_:
                out.append(seg((i * step, j * step), (i * step, (j + 1) * step)))
    return out


def node_index(graph):
    """(x, y) offset from the origin, rounded to the metre -> node position."""
    return {(round(x - X0), round(y - Y0)): k for k, (x, y) in enumerate(graph.node_xy)}


def tiers(*metres):
    return service_tiers(distances_m=list(metres))


# -- building graphs --------------------------------------------------------------------------


def test_graph_from_lines_splits_at_shared_vertices():
    bent = shapely.LineString([(X0, Y0), (X0 + 30, Y0 + 40), (X0 + 100, Y0 + 40)])  # 50 + 70 m
    cross_a = shapely.LineString([(X0 + 300, Y0), (X0 + 400, Y0), (X0 + 500, Y0)])
    cross_b = shapely.LineString([(X0 + 400, Y0 - 100), (X0 + 400, Y0), (X0 + 400, Y0 + 100)])
    bridge = seg((600, -50), (600, 50))  # crosses nothing at a vertex
    g = graph_from_lines(lines(bent, cross_a, cross_b, bridge, seg((450, -50), (450, 50))))
    # bent: 2 nodes, 1 edge; the two crossing lines: 5 nodes, 4 edges; the others: 2 + 2 nodes
    assert (g.n_nodes, g.n_edges) == (2 + 5 + 2 + 2, 1 + 4 + 1 + 1)
    assert sorted(np.round(g.length_m, 6)) == [100, 100, 100, 100, 100, 100, 120]
    crossing = node_index(g)[(400, 0)]
    assert np.sum((g.u == crossing) | (g.v == crossing)) == 4


def test_graph_from_lines_refuses_polygons():
    with pytest.raises(InputError, match="LineString or MultiLineString ways; found Polygon"):
        graph_from_lines(lines(shapely.box(X0, Y0, X0 + 1, Y0 + 1)))


def test_walkgraph_checks_its_arrays():
    with pytest.raises(InputError, match="u must hold node positions 0..1"):
        WalkGraph(
            node_xy=np.zeros((2, 2)), u=np.array([0, 5]), v=np.array([1, 1]), length_m=np.ones(2)
        )


# -- one-pass distances -----------------------------------------------------------------------


def test_node_distances_match_hand_and_networkx():
    segments = grid_segments(5, 4, 100)
    g = graph_from_lines(lines(*segments))
    facs = [(0, 0), (400, 300)]
    dist = compute_node_distances(g, points(*[pt(*f) for f in facs]))
    ix = node_index(g)
    # by hand: on a grid, walking distance is the Manhattan distance to the nearer facility
    for (x, y), k in ix.items():
        manhattan = min(abs(x - fx) + abs(y - fy) for fx, fy in facs)
        assert dist.iloc[k] == pytest.approx(manhattan)
    # independently: networkx from the raw segments
    G = nx.Graph()
    for s in segments:
        (ax, ay), (bx, by) = s.coords
        G.add_edge(
            (round(ax - X0), round(ay - Y0)), (round(bx - X0), round(by - Y0)), weight=s.length
        )
    ref = nx.multi_source_dijkstra_path_length(G, set(facs))
    for key, k in ix.items():
        assert dist.iloc[k] == pytest.approx(ref[key])
    assert dist.name == "distance_m"


def test_off_network_facility_joins_the_nearest_edge():
    g = graph_from_lines(
        lines(seg((0, 0), (100, 0)), seg((100, 0), (200, 0)), seg((200, 0), (300, 0)))
    )
    dist = compute_node_distances(g, points(pt(150, 30)))  # 30 m off the middle of the middle edge
    ix = node_index(g)
    assert [dist.iloc[ix[(x, 0)]] for x in (0, 100, 200, 300)] == pytest.approx([180, 80, 80, 180])
    capped = compute_node_distances(g, points(pt(150, 30)), max_distance_m=100)
    assert np.isinf(capped.iloc[ix[(0, 0)]]) and capped.iloc[ix[(100, 0)]] == pytest.approx(80)


def test_polygon_facility_is_entered_where_ways_cross_its_edge():
    g = graph_from_lines(lines(*grid_segments(4, 1, 100)))
    park = shapely.box(X0 + 90, Y0 - 10, X0 + 210, Y0 + 10)  # holds the nodes at 100 and 200
    dist = compute_node_distances(g, gpd.GeoDataFrame(geometry=[park], crs=METRIC))
    ix = node_index(g)
    # the way enters the park at x = 90 and leaves it at x = 210
    assert [dist.iloc[ix[(x, 0)]] for x in (0, 100, 200, 300)] == pytest.approx([90, 0, 0, 90])


def test_way_through_a_park_with_no_node_inside():
    g = graph_from_lines(lines(seg((0, 0), (1000, 0))))
    park = shapely.box(X0 + 400, Y0 - 50, X0 + 600, Y0 + 50)
    facs = gpd.GeoDataFrame(geometry=[park], crs=METRIC)
    assert compute_node_distances(g, facs).tolist() == pytest.approx([400, 400])
    area = (
        compute_network_service_areas(g, facs, tiers=tiers(100), band_m=5).to_crs(METRIC).geometry
    )
    # the park itself, and the way from 300 to 700 m widened by 5 m
    expected = shapely.union_all(
        [park, seg((300, 0), (700, 0)).buffer(5, quad_segs=BAND_QUAD_SEGS)]
    )
    assert area.iloc[0].symmetric_difference(expected).area < 1e-3


def test_distances_without_facilities_are_infinite():
    g = graph_from_lines(lines(seg((0, 0), (100, 0))))
    assert np.isinf(compute_node_distances(g, points())).all()


# -- network service areas --------------------------------------------------------------------


def test_partly_reached_edge_is_cut_at_the_remaining_distance():
    g = graph_from_lines(lines(seg((0, 0), (100, 0)), seg((100, 0), (200, 0))))
    areas = compute_network_service_areas(g, points(pt(0, 0)), tiers=tiers(150), band_m=10)
    assert areas.crs == "EPSG:4326" and areas["mode"].tolist() == ["network"]
    area = areas.to_crs(METRIC).geometry.iloc[0]
    assert area.area == pytest.approx(band_area(150, 10), rel=1e-6)  # 0..150 m, not 0..200 m
    assert area.covers(pt(155, 0)) and not area.covers(pt(165, 0))


def test_edge_reached_from_both_ends_keeps_its_unreached_middle():
    g = graph_from_lines(lines(seg((0, 0), (1000, 0))))
    areas = compute_network_service_areas(
        g, points(pt(0, 0), pt(1000, 0)), tiers=tiers(300), band_m=5
    )
    area = areas.to_crs(METRIC).geometry.iloc[0]
    assert area.area == pytest.approx(2 * band_area(300, 5), rel=1e-6)
    assert not area.intersects(pt(500, 0))


def test_facility_in_the_middle_of_an_edge_walks_both_ways():
    g = graph_from_lines(lines(seg((0, 0), (1000, 0))))
    areas = compute_network_service_areas(g, points(pt(500, 20)), tiers=tiers(300), band_m=5)
    area = areas.to_crs(METRIC).geometry.iloc[0]
    # 20 m to reach the way, 280 m left each way: 220..780
    assert area.area == pytest.approx(band_area(560, 5), rel=1e-6)
    assert area.covers(pt(225, 0)) and not area.covers(pt(210, 0))


def test_network_coverage_never_exceeds_straight_line_coverage_beyond_the_band():
    g = graph_from_lines(lines(*grid_segments(16, 6, 100)))  # 1500 x 500 m of 100 m blocks
    boxes = [shapely.box(X0 + i * 500, Y0, X0 + (i + 1) * 500, Y0 + 500) for i in range(3)]
    streets = gpd.GeoDataFrame({"street_code": ["1", "2", "3"], "name": ["A", "B", "C"]},
                               geometry=boxes, crs=METRIC)  # fmt: skip
    facs = points(pt(230, 260), pt(1120, 40))
    band = 30.0
    for budget in (150.0, 300.0, 600.0):
        net = compute_coverage(streets, facs, mode="network", graph=g, tiers=[budget], band_m=band)
        crow = compute_coverage(streets, facs, tiers=[budget + band])
        assert (
            net["covered_area_share"].to_numpy() <= crow["covered_area_share"].to_numpy() + 1e-9
        ).all()
        area = compute_network_service_areas(g, facs, tiers=tiers(budget), band_m=band)
        disc = shapely.union_all([f.buffer(budget + band + 0.01) for f in facs.geometry])
        assert disc.covers(area.to_crs(METRIC).geometry.iloc[0])
    assert net["covered_area_share"].sum() < crow["covered_area_share"].sum()


def test_network_areas_need_tiers_and_a_sane_band():
    g = graph_from_lines(lines(seg((0, 0), (100, 0))))
    with pytest.raises(
        InputError, match="tiers must be a DataFrame with columns minutes and distance_m"
    ):
        compute_network_service_areas(g, points(pt(0, 0)), tiers=pd.DataFrame({"m": [300]}))
    # metres are tiers, as everywhere else
    areas = compute_network_service_areas(g, points(pt(0, 0)), tiers=[300])
    assert areas["distance_m"].tolist() == [300.0]
    with pytest.raises(
        InputError, match="band_m must be a non-negative number of metres; found -1"
    ):
        compute_network_service_areas(g, points(pt(0, 0)), tiers=tiers(300), band_m=-1)


# -- GraphML ----------------------------------------------------------------------------------

GRAPHML = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d0" for="graph" attr.name="crs" attr.type="string"/>
  <key id="d1" for="node" attr.name="y" attr.type="string"/>
  <key id="d2" for="node" attr.name="x" attr.type="string"/>
  <key id="d3" for="edge" attr.name="length" attr.type="string"/>
  <key id="d4" for="edge" attr.name="geometry" attr.type="string"/>
  <graph edgedefault="directed">
    <data key="d0">epsg:4326</data>
    <node id="11"><data key="d1">30.3200</data><data key="d2">120.1500</data></node>
    <node id="12"><data key="d1">30.3200</data><data key="d2">120.1510</data></node>
    <node id="13"><data key="d1">30.3210</data><data key="d2">120.1510</data></node>
    <edge source="11" target="12" id="0"><data key="d3">96.2</data></edge>
    <edge source="12" target="11" id="0"><data key="d3">96.2</data></edge>
    <edge source="13" target="12" id="0"><data key="d3">140.0</data>
      <data key="d4">LINESTRING (120.151 30.321, 120.1515 30.3205, 120.151 30.32)</data></edge>
  </graph>
</graphml>
"""


def test_read_graph_osmnx_style(tmp_path):
    path = tmp_path / "walk.graphml"
    path.write_text(GRAPHML, encoding="utf-8")
    g = read_graph(path)
    assert (g.n_nodes, g.n_edges) == (3, 2)  # 11-12 stored both ways counts once
    assert sorted(g.length_m) == [96.2, 140.0]  # OSMnx lengths are used as they are
    to_metric = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    np.testing.assert_allclose(g.node_xy[0], to_metric.transform(120.15, 30.32))
    assert list(g.node_ids) == ["11", "12", "13"]
    curved = g.lines[np.argmax(g.length_m)]
    assert shapely.get_num_coordinates(curved) == 3  # the WKT geometry is kept
    # nodes at either end of the curved edge: it runs from the lower position to the higher
    assert curved.coords[0] == pytest.approx(tuple(g.node_xy[1]))
    dist = compute_node_distances(
        g, gpd.GeoDataFrame(geometry=[shapely.Point(120.15, 30.32)], crs=4326)
    )
    assert dist.loc["13"] == pytest.approx(96.2 + 140.0, abs=0.01)


def test_read_graph_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_graph(tmp_path / "missing.graphml")
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><node", encoding="utf-8")
    with pytest.raises(InputError, match="not a GraphML"):
        read_graph(bad)
    bad.write_text(GRAPHML.replace('<data key="d2">120.1500</data>', ""), encoding="utf-8")
    with pytest.raises(InputError, match='every node needs numeric "x" and "y"'):
        read_graph(bad)


def _toy_downloader(calls):
    """Stands in for OSMnx: a three-node MultiDiGraph around the polygon's centre."""

    def download(polygon):
        calls.append(polygon)
        c = polygon.centroid
        G = nx.MultiDiGraph(crs="epsg:4326")
        for k, dx in enumerate((0.0, 0.001, 0.002)):
            G.add_node(100 + k, x=c.x + dx, y=c.y, street_count=2)
        for a, b in ((100, 101), (101, 102)):
            line = shapely.LineString([(G.nodes[a]["x"], c.y), (G.nodes[b]["x"], c.y)])
            G.add_edge(a, b, length=96.0, geometry=line, osmid=[1, 2])
            G.add_edge(b, a, length=96.0, geometry=line.reverse(), osmid=[1, 2])
        return G

    return download


def test_download_walking_graph_with_an_injected_downloader(tmp_path):
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=METRIC)
    calls = []
    out = download_walking_graph(boundary, tmp_path / "net" / "walk.graphml", margin_m=500,
                                 downloader=_toy_downloader(calls))  # fmt: skip
    (polygon,) = calls
    widened = gpd.GeoSeries([polygon], crs=4326).to_crs(METRIC).iloc[0]
    assert widened.area == pytest.approx(2000**2 - (4 - math.pi) * 500**2, rel=1e-3)
    g = read_graph(out)
    assert (g.n_nodes, g.n_edges) == (3, 2)
    assert g.length_m.tolist() == [96.0, 96.0]
    assert sorted(p.name for p in out.parent.iterdir()) == ["walk.graphml"]  # no temporary left


def test_download_failure_leaves_the_old_file(tmp_path):
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 10, Y0 + 10)], crs=METRIC)
    target = tmp_path / "walk.graphml"
    target.write_text("old", encoding="utf-8")

    def offline(polygon):
        raise ConnectionError("no route to host")

    with pytest.raises(GongshuGeoError, match="could not download the walking network"):
        download_walking_graph(boundary, target, downloader=offline)
    assert target.read_text(encoding="utf-8") == "old"


def test_download_without_osmnx_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "osmnx", None)  # import osmnx now raises ImportError
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 10, Y0 + 10)], crs=METRIC)
    with pytest.raises(MissingDependencyError, match=r"pip install gongshu-geo\[network\]"):
        download_walking_graph(boundary, tmp_path / "walk.graphml")


def test_node_distances_are_indexed_by_graph_node_ids(tmp_path):
    path = tmp_path / "walk.graphml"
    path.write_text(GRAPHML, encoding="utf-8")
    dist = compute_node_distances(read_graph(path), gpd.GeoDataFrame(geometry=[], crs=4326))
    assert isinstance(dist, pd.Series) and list(dist.index) == ["11", "12", "13"]


def test_points_meet_straight_edges_as_the_spatial_index_finds_them():
    # the KD-tree shortcut for points on straight edges against the STRtree path
    from gongshu_geo.analysis.network import WalkGraph, locate_facility_access

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, size=(60, 2))
    u = rng.integers(0, 60, 150)
    v = (u + rng.integers(1, 59, 150)) % 60
    length = np.hypot(*(xy[u] - xy[v]).T)
    plain = WalkGraph(node_xy=xy, u=u, v=v, length_m=length)
    lines = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    bent = WalkGraph(node_xy=xy, u=u, v=v, length_m=length, edge_geometry=lines)  # STRtree path
    pts = shapely.points(rng.uniform(-100, 1100, size=(40, 2)))
    fast = locate_facility_access(plain, pts)[2]
    slow = locate_facility_access(bent, pts)[2]
    np.testing.assert_allclose(fast[:, 3], slow[:, 3], atol=1e-9)  # the same offsets

    def place(seeds):  # where on the network each point joins: edges may tie at a node
        e, t = seeds[:, 0].astype(int), seeds[:, 1]
        return xy[u[e]] + t[:, None] * (xy[v[e]] - xy[u[e]])

    np.testing.assert_allclose(place(fast), place(slow), atol=1e-6)
