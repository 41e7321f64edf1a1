"""The one distance kernel: each cell's metres checked against independent computations.

- straight line: shapely's exact distance from every cell centre to the facilities;
- network: whether each cell centre lies in the exact vector service area (the
  reached ways cut at the budget, widened by the band, drawn with fine round caps);
- tiles against no tiles, the band's disc filter against a brute-force filter;
- and the polygon, grid and point paths on the same inputs give the same table.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from gongshu_geo import InputError
from gongshu_geo.analysis import network
from gongshu_geo.analysis.access import (
    compute_distance_surface,
    disc_minimum,
    network_metres,
    summarize_surface,
)
from gongshu_geo.analysis.coverage import compute_coverage
from gongshu_geo.analysis.grid import make_grid, make_study_area
from gongshu_geo.analysis.network import WalkGraph
from gongshu_geo.analysis.points import compute_point_coverage
from gongshu_geo.analysis.tiers import resolve_tiers

X0, Y0 = 505_000.0, 3_355_000.0
METRIC = "EPSG:4549"


def boxes(*extents, population=None):
    codes = [f"3301050{k:02d}" for k in range(len(extents))]
    geoms = [shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in extents]
    columns = {"street_code": codes, "name": [f"s{k}" for k in range(len(extents))]}
    if population is not None:
        columns["population"] = population
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=METRIC)


def points(*xy):
    return gpd.GeoDataFrame(geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=METRIC)


def lattice(n, step):
    """A square lattice of ways, ``n`` x ``n`` nodes, ``step`` metres apart."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    xy = np.column_stack([X0 + i.ravel() * step, Y0 + j.ravel() * step])
    idx = np.arange(n * n).reshape(n, n)
    u = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    v = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    return WalkGraph(node_xy=xy, u=u, v=v, length_m=np.full(len(u), float(step)))


def test_straight_line_cells_are_exact_at_the_tiers():
    streets = boxes((0, 0, 1000, 1000), (1000, 0, 2000, 600))
    fac = gpd.GeoDataFrame(
        geometry=[
            shapely.Point(X0 + 333, Y0 + 271),
            shapely.LineString([(X0 + 1200, Y0 + 90), (X0 + 1700, Y0 + 420)]),
            shapely.box(X0 + 600, Y0 + 600, X0 + 800, Y0 + 900),
        ],
        crs=METRIC,
    )
    area = make_study_area(streets)
    tiers = [150.0, 300.0, 555.0]
    surface = compute_distance_surface(area, fac, exact_at=tiers)
    xy = area.grid.centres(area.inside)
    truth = shapely.distance(shapely.union_all(fac.geometry.values), shapely.points(xy))
    got = surface.metres[area.inside]
    for t in tiers:
        near = np.abs(truth - t) < 0.02  # the facility edges are densified to 5 m
        assert np.array_equal((got <= t)[~near], (truth <= t)[~near])
    # between tiers the values are within half a cell diagonal
    assert np.abs(got - truth).max() <= 10 * np.sqrt(0.5) + 1e-9


def _exact_network_cells(graph, fac, tiers, band, xy):
    network.BAND_QUAD_SEGS, old = 64, network.BAND_QUAD_SEGS
    try:
        geoms = np.asarray(fac.geometry.values)
        areas = network.network_service_areas_metric(graph, geoms, resolve_tiers(tiers), band)
    finally:
        network.BAND_QUAD_SEGS = old
    return [shapely.contains_xy(a, xy[:, 0], xy[:, 1]) for a in areas.geometry]


def test_network_cells_are_the_reached_ways_widened_by_the_band():
    graph = lattice(11, 100.0)  # 1 x 1 km of 100 m blocks: the ways' ends show
    fac = points((437, 512), (133, 880))  # off the nodes and off the ways
    streets = boxes((0, 0, 500, 1000), (500, 0, 1000, 1000))
    area = make_study_area(streets)
    tiers = [233.0, 417.0]
    surface = compute_distance_surface(
        area, fac, mode="network", graph=graph, band_m=30.0, max_distance_m=417, exact_at=tiers
    )
    xy = area.grid.centres(area.inside)
    exact = _exact_network_cells(graph, fac, tiers, 30.0, xy)
    got = surface.metres[area.inside]
    for t, truth in zip(tiers, exact, strict=True):
        # centres within step**2 / (8 band) = 0.42 m of the band's edge may fall
        # either way (samples 10 m apart along the ways), as may those within 0.05 m
        # of the vector area's edge (64 segments per quarter circle)
        edge = shapely.boundary(
            network.network_service_areas_metric(
                graph, np.asarray(fac.geometry.values), resolve_tiers([t]), 30.0
            ).geometry.iloc[0]
        )
        near = shapely.distance(edge, shapely.points(xy)) < 0.5
        assert np.array_equal((got <= t)[~near], truth[~near])
        assert truth.sum() > 1000  # a real test: many cells are reached


def test_grid_shares_agree_with_exact_areas_within_half_a_point():
    graph = lattice(41, 50.0)
    streets = boxes((0, 0, 1000, 1000), (1000, 0, 2000, 1000), (0, 1000, 2000, 2000))
    fac = points((512, 498))
    grid = compute_coverage(streets, fac, mode="network", graph=graph, tiers=[300, 600])
    exact = compute_coverage(
        streets, fac, mode="network", graph=graph, tiers=[300, 600], method="polygon"
    )
    diff = (grid["covered_area_share"] - exact["covered_area_share"]).abs()
    assert diff.max() < 0.005
    assert exact["covered_area_share"].max() > 0.1


def test_tiles_give_the_untiled_answer():
    graph = lattice(31, 40.0)
    rng = np.random.default_rng(7)
    fac = points(*rng.uniform(0, 1200, size=(6, 2)))
    grid = make_grid((X0, Y0, X0 + 1200, Y0 + 1200), cell_m=10)
    geoms = np.asarray(fac.geometry.values)
    kwargs = {"band_m": 25.0, "max_m": 500.0, "exact_at": [250.0, 500.0]}
    whole = network_metres(grid, graph, geoms, tile_cells=10_000, **kwargs)
    tiled = network_metres(grid, graph, geoms, tile_cells=37, **kwargs)  # 4 x 4 tiles, ragged
    for t in (250.0, 500.0):
        assert np.array_equal(whole <= t, tiled <= t)
    finite = np.isfinite(whole)
    assert np.array_equal(finite, np.isfinite(tiled))
    np.testing.assert_allclose(whole[finite], tiled[finite], rtol=0, atol=1e-9)


@pytest.mark.parametrize("radius", [0.5, 1.0, 2.3, 4.29, 5.71])
def test_disc_filter_equals_a_brute_force_disc(radius):
    rng = np.random.default_rng(int(radius * 100))
    values = np.where(rng.random((40, 50)) < 0.05, rng.uniform(0, 100, (40, 50)), np.inf)
    r = int(np.floor(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    footprint = dx**2 + dy**2 <= radius**2
    brute = ndimage.minimum_filter(values, footprint=footprint, mode="constant", cval=np.inf)
    np.testing.assert_array_equal(disc_minimum(values, radius), brute)


def test_polygon_grid_and_point_paths_give_the_same_table():
    streets = boxes((0, 0, 1000, 1000), (1000, 0, 2000, 1000))
    fac = points((300, 420), (1650, 810))
    # people on the centres of the 10 m cells, one each, so the three paths count
    # the same people at the same places
    xs, ys = np.meshgrid(np.arange(5, 2000, 10.0), np.arange(5, 1000, 10.0))
    people = gpd.GeoDataFrame(
        {"population": np.ones(xs.size)},
        geometry=shapely.points(X0 + xs.ravel(), Y0 + ys.ravel()),
        crs=METRIC,
    )
    tiers = [300, 500]
    poly = compute_coverage(streets, fac, population=people, tiers=tiers, method="polygon")
    grid = compute_coverage(streets, fac, population=people, tiers=tiers)
    pts = compute_point_coverage(streets, people, fac, tiers=tiers)
    key = ["street_code", "distance_m"]
    for table in (grid, pts):
        both = poly.merge(table, on=key, suffixes=("_poly", ""))
        # the polygon path draws circles with 64 sides: people within 0.1 % of the
        # radius may fall either way; each street has 10,000 people
        assert (both["covered_pop"] - both["covered_pop_poly"]).abs().max() <= 40
    merged = grid.merge(pts, on=key, suffixes=("_grid", "_pts"))
    np.testing.assert_array_equal(merged["covered_pop_grid"], merged["covered_pop_pts"])


def test_summaries_need_a_surface_settled_at_their_tiers():
    streets = boxes((0, 0, 100, 100))
    area = make_study_area(streets)
    surface = compute_distance_surface(area, points((50, 50)), exact_at=[30.0])
    with pytest.raises(InputError, match="not settled at 40 m"):
        summarize_surface(surface, resolve_tiers([30, 40]))


coord = st.floats(0, 600, allow_nan=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    facility_xy=st.lists(st.tuples(coord, coord), min_size=1, max_size=4),
    tiers=st.lists(st.floats(40, 500), min_size=1, max_size=3, unique=True),
    band=st.floats(0, 40),
)
def test_network_never_covers_more_than_straight_line_beyond_the_band(facility_xy, tiers, band):
    graph = lattice(13, 50.0)
    streets = boxes((0, 0, 300, 600), (300, 0, 600, 600))
    fac = points(*facility_xy)
    area = make_study_area(streets)
    tiers = sorted(tiers)
    net = compute_distance_surface(
        area, fac, mode="network", graph=graph, band_m=band, max_distance_m=max(tiers),
        exact_at=tiers,
    )  # fmt: skip
    line = compute_distance_surface(area, fac, exact_at=[t + band for t in tiers])
    m_net, m_line = net.metres[area.inside], line.metres[area.inside]
    cov = summarize_surface(net, resolve_tiers(tiers))
    assert cov["covered_area_share"].between(0, 1).all()
    wide = cov.pivot(index="distance_m", columns="street_code", values="covered_area_share")
    assert (wide.sort_index().diff().iloc[1:] >= 0).all().all()  # monotone in distance
    for t in tiers:
        # a walk of t ends within t of its start, and the band adds at most band
        assert not ((m_net <= t) & (m_line > t + band)).any()
    assert isinstance(cov, pd.DataFrame)
