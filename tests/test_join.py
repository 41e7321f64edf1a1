"""Projects x streets, on three square streets whose answers are known by hand."""

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from gongshu_geo import InputError
from gongshu_geo.analysis.join import flag_outside, join_projects_to_streets, summarize_streets

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
    j = join_projects_to_streets(projects([road]), streets3())
    assert j["street_code"].tolist() == ["A", "B", "C"]
    assert j["amount"].to_numpy() == pytest.approx([500, 1000, 250], abs=1e-6)
    assert j["share"].to_numpy() == pytest.approx([500 / 1750, 1000 / 1750, 250 / 1750])
    assert (j["measure"] == "length_m").all()


def test_polygon_split_by_area_and_outside_part_flagged():
    # 200 x 400 m rectangle: 100 m wide in C, 100 m wide outside to the east... and 0 in B
    park = box(X0 + 2900, Y0 + 100, X0 + 3100, Y0 + 500)
    j = join_projects_to_streets(projects([park], ["park"]), streets3())
    inside = j[~j["outside"]]
    assert inside["street_code"].tolist() == ["C"]
    assert inside["amount"].iloc[0] == pytest.approx(100 * 400)
    assert j["share"].sum() == pytest.approx(1.0)
    out = flag_outside(j)
    assert out["outside_share"].iloc[0] == pytest.approx(0.5)
    assert out["outside_amount"].iloc[0] == pytest.approx(40_000)


@pytest.mark.parametrize("order", [[0, 1, 2], [1, 0, 2], [2, 1, 0]])
def test_points_count_once_and_boundary_point_goes_to_lowest_code(order):
    # the layer lists the streets in an order that is not their codes' order: the
    # point on the A|B edge goes to A because A is the lowest code, not the first row
    pts = [Point(X0 + 100, Y0 + 100), Point(X0 + 1000, Y0 + 500), Point(X0 + 5000, Y0)]
    streets = streets3().iloc[order]
    j = join_projects_to_streets(projects(pts, ["metro_station"] * 3), streets)
    assert j.groupby("project_id")["share"].sum().to_numpy() == pytest.approx([1, 1, 1])
    assert j.set_index("project_id").loc["P-X-001", "street_code"] == "A"
    assert bool(j.set_index("project_id").loc["P-X-002", "outside"]) is True


def test_works_across_crs_and_does_not_touch_inputs():
    s = streets3()
    p = projects([LineString([(X0 + 500, Y0 + 500), (X0 + 1500, Y0 + 500)])])
    j1 = join_projects_to_streets(p, s)
    j2 = join_projects_to_streets(p.to_crs(4326), s.to_crs(4326))
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
    summary = summarize_streets(p, s).set_index("street_code")
    assert summary["n_projects"].to_dict() == {"A": 2, "B": 1, "C": 1}
    assert summary["road_km"].to_numpy() == pytest.approx([0.5, 0.5, 0.0])
    assert summary.loc["A", "park_area_m2"] == pytest.approx(40_000)
    assert summary.loc["A", "park_m2_per_person"] == pytest.approx(40.0)
    assert summary["n_metro_stations"].tolist() == [0, 0, 1]
    assert summary["geometry_area_km2"].to_numpy() == pytest.approx([1, 1, 1], rel=1e-6)


def test_bad_inputs():
    with pytest.raises(InputError, match='projects has no column "category"'):
        join_projects_to_streets(projects([Point(X0, Y0)]).drop(columns="category"), streets3())
    with pytest.raises(InputError, match="streets must be a GeoDataFrame"):
        join_projects_to_streets(projects([Point(X0, Y0)]), streets3().drop(columns="geometry"))


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
    j = join_projects_to_streets(projects(geoms, ["road", "park"][: len(geoms)]), streets)
    sums = j.groupby("project_id")["share"].sum()
    assert np.allclose(sums.to_numpy(), 1.0)
    assert (j["share"] >= 0).all()
