"""Projects x streets, on three square streets whose answers are known by hand."""

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from gongshu_geo import InputError
from gongshu_geo.analysis.join import (
    flag_outside,
    join_projects_to_streets,
    summarize_outside,
    summarize_streets,
)

M = "EPSG:4549"
X0, Y0 = 500_000, 3_350_000  # near Hangzhou in EPSG:4549


def streets3():
    """Three 1 km squares side by side: A, B, C."""
    return gpd.GeoDataFrame(
        {
            "street_code": ["A", "B", "C"],
            "name": ["甲", "乙", "丙"],
            "population": [1000, 2000, 4000],
        },
        geometry=[box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)],
        crs=M,
    )


def projects(geoms, categories=None):
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "id": [f"P-X-{i:03d}" for i in range(n)],
            "name": [f"p{i}" for i in range(n)],
            "category": categories or ["road"] * n,
            "status": ["planned"] * n,
        },
        geometry=geoms,
        crs=M,
    )


def test_line_split_by_length():
    # 500 m in A, 1000 m in B, 250 m in C
    road = LineString([(X0 + 500, Y0 + 500), (X0 + 2250, Y0 + 500)])
    j = join_projects_to_streets(streets3(), projects([road]))
    assert j["street_code"].tolist() == ["A", "B", "C"]
    assert j["amount"].to_numpy() == pytest.approx([500, 1000, 250], abs=1e-6)
    assert j["share"].to_numpy() == pytest.approx([500 / 1750, 1000 / 1750, 250 / 1750])
    assert (j["measure"] == "length_m").all()


def test_polygon_split_by_area_and_outside_part_flagged():
    # 200 x 400 m rectangle: 100 m wide in C, 100 m wide outside to the east... and 0 in B
    park = box(X0 + 2900, Y0 + 100, X0 + 3100, Y0 + 500)
    j = join_projects_to_streets(streets3(), projects([park], ["park"]))
    inside = j[~j["outside"]]
    assert inside["street_code"].tolist() == ["C"]
    assert inside["amount"].iloc[0] == pytest.approx(100 * 400)
    assert j["share"].sum() == pytest.approx(1.0)
    out = summarize_outside(j)
    assert out["outside_share"].iloc[0] == pytest.approx(0.5)
    assert out["outside_amount"].iloc[0] == pytest.approx(40_000)


@pytest.mark.parametrize("order", [[0, 1, 2], [1, 0, 2], [2, 1, 0]])
def test_points_count_once_and_boundary_point_goes_to_lowest_code(order):
    # the layer lists the streets in an order that is not their codes' order: the
    # point on the A|B edge goes to A because A is the lowest code, not the first row
    pts = [Point(X0 + 100, Y0 + 100), Point(X0 + 1000, Y0 + 500), Point(X0 + 5000, Y0)]
    streets = streets3().iloc[order]
    j = join_projects_to_streets(streets, projects(pts, ["metro_station"] * 3))
    assert j.groupby("project_id")["share"].sum().to_numpy() == pytest.approx([1, 1, 1])
    assert j.set_index("project_id").loc["P-X-001", "street_code"] == "A"
    assert bool(j.set_index("project_id").loc["P-X-002", "outside"]) is True


def test_works_across_crs_and_does_not_touch_inputs():
    s = streets3()
    p = projects([LineString([(X0 + 500, Y0 + 500), (X0 + 1500, Y0 + 500)])])
    j1 = join_projects_to_streets(s, p)
    j2 = join_projects_to_streets(s.to_crs(4326), p.to_crs(4326))
    assert j2["share"].to_numpy() == pytest.approx(j1["share"].to_numpy(), abs=1e-6)
    assert p.crs == M and "outside" not in p.columns


def test_summary_counts_lengths_and_areas():
    s = streets3()
    p = projects(
        [
            LineString([(X0 + 500, Y0 + 500), (X0 + 1500, Y0 + 500)]),
            box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300),
            Point(X0 + 2500, Y0 + 500),
        ],
        ["road", "park", "metro_station"],
    )
    summary = summarize_streets(s, p).set_index("street_code")
    assert summary["n_projects"].to_dict() == {"A": 2, "B": 1, "C": 1}
    assert summary["road_km"].to_numpy() == pytest.approx([0.5, 0.5, 0.0])
    assert summary.loc["A", "park_area_m2"] == pytest.approx(40_000)
    assert summary.loc["A", "park_m2_per_person"] == pytest.approx(40.0)
    assert summary["n_metro_stations"].tolist() == [0, 0, 1]
    assert summary["geometry_area_km2"].to_numpy() == pytest.approx([1, 1, 1], rel=1e-6)


def test_join_is_a_geodataframe_in_the_projects_crs():
    # a road 500 m in A and 800 m in B: two rows, each keeping the whole road
    road = LineString([(X0 + 500, Y0 + 500), (X0 + 1800, Y0 + 500)])
    p = projects([road]).to_crs(4326)
    j = join_projects_to_streets(streets3(), p)
    assert isinstance(j, gpd.GeoDataFrame)
    assert j.crs == p.crs  # the projects' CRS, not the metric one used to measure
    assert j.geometry.name == "geometry" and len(j) == 2
    assert all(g.equals(p.geometry.iloc[0]) for g in j.geometry)


def test_flag_outside_is_a_boolean_series_on_the_projects_index():
    # inside A; half outside east of C; wholly outside north of B
    p = projects(
        [
            Point(X0 + 500, Y0 + 500),
            box(X0 + 2900, Y0 + 100, X0 + 3100, Y0 + 500),
            Point(X0 + 1500, Y0 + 5000),
        ]
    )
    p.index = [7, 3, 11]
    flags = flag_outside(streets3(), p)
    assert flags.name == "outside" and flags.dtype == bool
    assert flags.to_dict() == {7: False, 3: True, 11: True}


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s, p: join_projects_to_streets(p, s), "streets looks like a projects layer"),
        (lambda s, p: join_projects_to_streets(s, s), "projects looks like streets"),
        (lambda s, p: summarize_streets(p, s), "call summarize_streets\\(streets, projects\\)"),
        (lambda s, p: flag_outside(p, s), "projects looks like streets"),
    ],
)
def test_old_argument_order_is_refused(call, match):
    # projects first was the order before 0.2: the roles are told apart by their columns
    s, p = streets3(), projects([Point(X0 + 500, Y0 + 500)])
    with pytest.raises(InputError, match=match):
        call(s, p)


def test_bad_inputs():
    with pytest.raises(InputError, match='projects has no column "category"'):
        join_projects_to_streets(streets3(), projects([Point(X0, Y0)]).drop(columns="category"))
    with pytest.raises(InputError, match="streets must be a GeoDataFrame"):
        join_projects_to_streets(streets3().drop(columns="geometry"), projects([Point(X0, Y0)]))


coords = st.floats(X0 - 500, X0 + 3500, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(coords, st.floats(Y0 - 500, Y0 + 1500)), min_size=2, max_size=6),
    st.lists(st.floats(0.05, 0.95), min_size=1, max_size=4),
)
def test_shares_sum_to_one_over_any_tiling(points, cuts):
    # a random tiling of a 3 x 1 km rectangle into vertical strips
    xs = [X0] + sorted(X0 + 3000 * c for c in cuts) + [X0 + 3000]
    strips = [
        box(a, Y0, b, Y0 + 1000) for a, b in zip(xs[:-1], xs[1:], strict=True) if b - a > 1e-3
    ]
    streets = gpd.GeoDataFrame(
        {"street_code": [f"S{i:02d}" for i in range(len(strips))], "name": ["s"] * len(strips)},
        geometry=strips,
        crs=M,
    )
    line = LineString(points)
    geoms = [line]
    hull = line.buffer(50)
    if isinstance(hull, Polygon) and hull.area > 0:
        geoms.append(hull)
    j = join_projects_to_streets(streets, projects(geoms, ["road", "park"][: len(geoms)]))
    sums = j.groupby("project_id")["share"].sum()
    assert np.allclose(sums.to_numpy(), 1.0)
    assert (j["share"] >= 0).all()
