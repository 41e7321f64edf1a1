"""Coverage of streets by facility service areas.

Fixtures are built in EPSG:4549 (metres) so that the expected answers are exact:
three 1000 x 1000 m streets side by side, A | B | C, near Gongshu.
"""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from gongshu_geo import InputError
from gongshu_geo.analysis.coverage import (
    COVERAGE_COLUMNS,
    QUAD_SEGS,
    compute_coverage,
    compute_gaps,
    compute_service_areas,
    select_facilities,
    service_tiers,
)
from gongshu_geo.analysis.scenarios import (
    compare_scenarios,
    compute_network_penalty,
    compute_plan_gain,
    summarize_coverage,
)

X0, Y0 = 505_000.0, 3_355_000.0  # about 120.05E, 30.32N in EPSG:4549
METRIC = "EPSG:4549"


def polygon_buffer_area(radius, quad_segs=QUAD_SEGS):
    """Area of the regular polygon shapely draws for a circle (4 * quad_segs sides)."""
    n = 4 * quad_segs
    return 0.5 * n * radius**2 * math.sin(2 * math.pi / n)


def disk_in_box_area(cx, cy, r, box):
    """Area of an exact disk inside an axis-aligned box, by numerical integration."""
    x0, y0, x1, y1 = box

    def height(x):
        h = math.sqrt(max(r * r - (x - cx) ** 2, 0.0))
        return max(0.0, min(cy + h, y1) - max(cy - h, y0))

    lo, hi = max(x0, cx - r), min(x1, cx + r)
    return quad(height, lo, hi, limit=200)[0] if hi > lo else 0.0


def pt(x, y):
    return shapely.Point(X0 + x, Y0 + y)


@pytest.fixture
def streets():
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]
    return gpd.GeoDataFrame(
        {"street_code": ["330105001", "330105002", "330105003"], "name": ["A", "B", "C"],
         "population": pd.array([1000, 2000, pd.NA], dtype="Int64")},
        geometry=boxes, crs=METRIC,
    )  # fmt: skip


def facilities(*geoms, **columns):
    return gpd.GeoDataFrame(columns or {"name": [f"f{i}" for i in range(len(geoms))]},
                            geometry=list(geoms), crs=METRIC)  # fmt: skip


@pytest.fixture
def projects():
    rows = [
        ("P-PARK-001", "park", "existing", pt(500, 500)),
        ("P-PARK-002", "park", "planned", pt(1500, 500)),
        ("P-PARK-003", "park", "under_construction", pt(2500, 500)),
        ("P-MSTN-001", "metro_station", "existing", pt(2500, 900)),
    ]
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [r[0] for r in rows],
         "category": [r[1] for r in rows], "subcategory": "x", "status": [r[2] for r in rows]},
        geometry=[r[3] for r in rows], crs=METRIC,
    )  # fmt: skip


# -- tiers ---------------------------------------------------------------------------------


def test_default_tiers_are_the_standard():
    tiers = service_tiers()
    assert tiers[["minutes", "distance_m"]].values.tolist() == [[5, 300], [10, 500], [15, 1000]]
    assert tiers["source"].str.contains("GB 50180-2018").all()


def test_tiers_from_minutes_distances_and_speed():
    assert service_tiers(minutes=[20, 5])["distance_m"].tolist() == [300.0, 1200.0]  # 60 m/min
    assert service_tiers(minutes=10, speed_m_per_min=80)["distance_m"].tolist() == [800.0]
    given_m = service_tiers(distances_m=[800, 250])
    assert given_m["distance_m"].tolist() == [250.0, 800.0]
    assert given_m["minutes"].isna().all()
    assert service_tiers(distances_m=400, speed_m_per_min=80)["minutes"].tolist() == [5.0]
    assert service_tiers(minutes=[5, 10], distances_m=[400, 700])["distance_m"].tolist() == [
        400,
        700,
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": [5, -1]}, "minutes must be positive numbers"),
        ({"distances_m": ["far"]}, "distances_m must be positive numbers"),
        ({"minutes": [5], "distances_m": [1, 2]}, "must be equally long; found 1 minutes and 2"),
        ({"minutes": 5, "distances_m": 5, "speed_m_per_min": 1}, "not all three"),
        ({"distances_m": [300, 300]}, "tier distances must differ"),
        ({"speed_m_per_min": 0}, "speed_m_per_min must be positive"),
    ],
)
def test_bad_tiers_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        service_tiers(**kwargs)


# -- facility layers -----------------------------------------------------------------------


def test_select_facilities_by_layer_and_status(projects):
    parks = select_facilities(projects, "park")
    assert parks["id"].tolist() == ["P-PARK-001", "P-PARK-002", "P-PARK-003"]
    assert parks.attrs["layer"] == "park"
    assert select_facilities(projects, "park", statuses="existing")["id"].tolist() == ["P-PARK-001"]


def test_select_facilities_errors(projects):
    with pytest.raises(
        InputError, match="facility layer 'sports_venue' is empty for category sports_venue"
    ):
        select_facilities(projects, "sports_venue")
    with pytest.raises(InputError, match="empty for category park and status completed"):
        select_facilities(projects, "park", statuses=["completed"])
    with pytest.raises(
        InputError, match="unknown facility layer 'zoo'; expected one of metro_station"
    ):
        select_facilities(projects, "zoo")
    with pytest.raises(InputError, match="unknown status 'done'"):
        select_facilities(projects, "park", statuses="done")
    with pytest.raises(InputError, match='projects: column "status" is missing; found id'):
        select_facilities(projects.drop(columns="status"), "park")


# -- service areas and coverage --------------------------------------------------------------


def test_service_areas_one_per_tier_in_wgs84(streets):
    areas = compute_service_areas(facilities(pt(500, 500), pt(600, 500)))
    assert areas.crs == "EPSG:4326"
    assert list(areas.columns) == ["minutes", "distance_m", "mode", "geometry"]
    assert areas["distance_m"].tolist() == [300, 500, 1000]
    assert (areas["mode"] == "distance").all()
    # two overlapping discs dissolved into one polygon
    assert areas.to_crs(METRIC).geometry.iloc[0].geom_type == "Polygon"


#: Grid shares agree with exact areas within half a percentage point (issue #11).
GRID_TOL = 0.005


def test_centre_facility_covers_pi_r_squared_exactly_with_polygons(streets):
    cov = compute_coverage(streets, facilities(pt(500, 500)), facility="clinic", method="polygon")
    assert list(cov.columns) == COVERAGE_COLUMNS
    a300 = cov[(cov["name"] == "A") & (cov["distance_m"] == 300)].iloc[0]
    assert a300["covered_area_share"] == pytest.approx(math.pi * 300**2 / 1e6, rel=2e-3)
    assert a300["covered_area_m2"] == pytest.approx(polygon_buffer_area(300), rel=1e-9)
    assert a300["covered_pop"] == pytest.approx(1000 * a300["covered_area_share"])
    assert a300["covered_pop_share"] == a300["covered_area_share"]  # people spread evenly
    assert a300["facility"] == "clinic" and a300["mode"] == "distance"
    b1000 = cov[(cov["name"] == "B") & (cov["distance_m"] == 1000)].iloc[0]
    exact = disk_in_box_area(500, 500, 1000, (1000, 0, 2000, 1000)) / 1e6
    assert b1000["covered_area_share"] == pytest.approx(exact, rel=3e-3)


def test_centre_facility_covers_pi_r_squared_on_the_grid(streets):
    cov = compute_coverage(streets, facilities(pt(500, 500)), facility="clinic")
    assert list(cov.columns) == COVERAGE_COLUMNS
    by = cov.set_index(["name", "distance_m"])
    for r in (300, 500):
        assert by.loc[("A", r), "covered_area_share"] == pytest.approx(
            math.pi * r**2 / 1e6, abs=GRID_TOL
        )
    a300 = by.loc[("A", 300)]
    assert a300["covered_area_m2"] == pytest.approx(a300["covered_area_share"] * 1e6)
    assert a300["covered_pop"] == pytest.approx(1000 * a300["covered_area_share"])
    assert a300["covered_pop_share"] == a300["covered_area_share"]  # people spread evenly
    assert a300["facility"] == "clinic" and a300["mode"] == "distance"
    # 1000 m from A's centre reaches all of A (corners are 707 m away) and part of B
    assert by.loc[("A", 1000), "covered_area_share"] == 1.0
    exact = disk_in_box_area(500, 500, 1000, (1000, 0, 2000, 1000)) / 1e6
    assert by.loc[("B", 1000), "covered_area_share"] == pytest.approx(exact, abs=GRID_TOL)
    c = cov[cov["name"] == "C"]
    assert (c["covered_area_share"] == 0).all() and c["covered_pop"].isna().all()


@pytest.mark.parametrize("method", ["polygon", "grid"])
def test_line_and_polygon_facilities_are_served_from_their_edge(streets, method):
    tol = {"rel": 1e-9} if method == "polygon" else {"abs": GRID_TOL}
    line = shapely.LineString([(X0, Y0 + 500), (X0 + 1000, Y0 + 500)])
    cov = compute_coverage(streets, facilities(line), tiers=[300], method=method)
    share = dict(zip(cov["name"], cov["covered_area_share"], strict=True))
    assert share["A"] == pytest.approx(0.6, **tol)  # the band y = 200..800 across A
    cap = polygon_buffer_area(300) if method == "polygon" else math.pi * 300**2
    assert share["B"] == pytest.approx(cap / 2 / 1e6, **tol)  # the round end cap
    park = shapely.box(X0 + 400, Y0 + 400, X0 + 600, Y0 + 600)
    cov = compute_coverage(streets, facilities(park), tiers=[100], method=method)
    corner = polygon_buffer_area(100) if method == "polygon" else math.pi * 100**2
    rounded_square = 400**2 - 4 * 100**2 + corner
    assert cov["covered_area_share"].iloc[0] == pytest.approx(rounded_square / 1e6, **tol)


@pytest.mark.parametrize("method", ["grid", "polygon"])
def test_population_points_are_counted(streets, method):
    people = gpd.GeoDataFrame(
        {"residents": [10, 20, 5, 5, 7, 3]},
        geometry=[pt(500, 600), pt(300, 500), pt(10, 10), pt(990, 990), pt(1400, 500),
                  pt(1000, 100)],  # the last lies on the A|B edge: counted once
        crs=METRIC,
    )  # fmt: skip
    # listed C, B, A: the point on the A|B edge goes to A for its code, not its row
    backwards = streets.iloc[::-1]
    cov = compute_coverage(backwards, facilities(pt(500, 500)), population=people,
                           population_field="residents", tiers=[300, 1000],
                           method=method)  # fmt: skip
    t300 = cov[cov["distance_m"] == 300].set_index("name")
    assert t300.loc["A", "population"] == 43  # A is 330105001, the lowest code
    assert t300.loc["B", "population"] == 7
    assert t300.loc["A", "covered_pop"] == 30
    assert t300.loc["B", "covered_pop"] == 0
    assert t300.loc["A", "covered_pop_share"] == pytest.approx(30 / t300.loc["A", "population"])
    assert t300.loc["C", "population"] == 0 and np.isnan(t300.loc["C", "covered_pop_share"])
    t1000 = cov[cov["distance_m"] == 1000].set_index("name")
    assert t1000.loc["A", "covered_pop_share"] == 1.0
    assert t1000.loc["B", "covered_pop"] == 7  # (1400, 500) is 900 m from the centre of A


def test_population_polygons_are_apportioned_by_area(streets):
    block = shapely.box(X0 + 400, Y0 + 400, X0 + 1200, Y0 + 500)  # 600 m in A, 200 m in B
    people = gpd.GeoDataFrame({"population": [80]}, geometry=[block], crs=METRIC)
    cov = compute_coverage(streets, facilities(pt(500, 500)), population=people, tiers=[1000])
    by = cov.set_index("name")
    assert by.loc["A", "population"] == pytest.approx(60)
    assert by.loc["B", "population"] == pytest.approx(20)
    assert by.loc["B", "covered_pop"] == pytest.approx(20)  # farthest corner is 707 m away


def test_gaps_and_covered_add_up_to_the_street(streets):
    fac = facilities(pt(500, 500), shapely.box(X0 + 1800, Y0 + 100, X0 + 1900, Y0 + 300))
    cov = compute_coverage(streets, fac)
    gaps = compute_gaps(streets, compute_service_areas(fac))
    assert gaps.crs == "EPSG:4326"
    assert list(gaps.columns) == ["street_code", "name", "minutes", "distance_m",
                                  "uncovered_area_m2", "geometry"]  # fmt: skip
    both = cov.merge(
        gaps.drop(columns="geometry"), on=["street_code", "name", "minutes", "distance_m"]
    )
    assert len(both) == 9
    total = both["covered_area_m2"] + both["uncovered_area_m2"]
    np.testing.assert_allclose(total, both["street_area_m2"], rtol=1e-6)
    np.testing.assert_allclose(
        gaps.to_crs(METRIC).area, gaps["uncovered_area_m2"], rtol=1e-6, atol=1e-3
    )


def test_inputs_are_not_changed(streets):
    fac = facilities(pt(500, 500))
    before_s, before_f = streets.copy(), fac.copy()
    compute_coverage(streets, fac)
    pd.testing.assert_frame_equal(streets, before_s)
    pd.testing.assert_frame_equal(fac, before_f)


def test_no_facilities_covers_nothing(streets):
    cov = compute_coverage(streets, facilities())
    assert (cov["covered_area_share"] == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "crow"}, "mode must be one of distance, network; found 'crow'"),
        ({"mode": "network"}, "mode='network' needs a walking graph"),
        (
            {"population": pd.DataFrame({"x": [1]})},
            'population must be a GeoDataFrame with a "population"',
        ),
        ({"tiers": [0]}, r"tiers \(metres\) must be positive"),
    ],
)
def test_coverage_errors(streets, kwargs, message):
    with pytest.raises(InputError, match=message):
        compute_coverage(streets, facilities(pt(500, 500)), **kwargs)


def test_coverage_input_errors(streets):
    with pytest.raises(InputError, match='streets: column "street_code" is missing'):
        compute_coverage(streets.drop(columns="street_code"), facilities(pt(1, 1)))
    with pytest.raises(InputError, match=r"facilities: row #0 \(index 0\) has no geometry"):
        compute_coverage(streets, facilities(shapely.Point()))
    with pytest.raises(
        InputError, match="facilities must be a GeoDataFrame or GeoSeries with a CRS; found list"
    ):
        compute_coverage(streets, [pt(1, 1)])
    bad = gpd.GeoDataFrame({"population": [-3]}, geometry=[pt(1, 1)], crs=METRIC)
    with pytest.raises(InputError, match='row #0: "population" must be a non-negative number'):
        compute_coverage(streets, facilities(pt(1, 1)), population=bad)


# -- district totals, scenarios, penalty ------------------------------------------------------


def test_summary_weights_by_area_and_population(streets):
    cov = compute_coverage(streets, facilities(pt(500, 500)), tiers=[300])
    share = cov["covered_area_share"].iloc[0]  # A's; B and C are beyond 300 m
    assert share == pytest.approx(math.pi * 0.09, abs=GRID_TOL)
    row = summarize_coverage(cov).iloc[0]
    assert row["covered_area_share"] == pytest.approx(share / 3)  # one of three equal streets
    assert row["population"] == 3000 and row["streets_without_population"] == 1
    assert row["covered_pop_share"] == pytest.approx(1000 * share / 3000)


def test_compare_scenarios_existing_versus_plan(streets, projects):
    both = compare_scenarios(streets, projects, "park", tiers=[300])
    assert list(both.columns) == ["scenario", *COVERAGE_COLUMNS]
    got = both.pivot(index="name", columns="scenario", values="covered_area_share")
    share = got.loc["A", "existing"]  # each park at the centre of its street: the same cells
    assert share == pytest.approx(math.pi * 0.09, abs=GRID_TOL)
    np.testing.assert_allclose(got["existing"], [share, 0, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["plan"], [share, share, share], rtol=1e-9)
    gain = compute_plan_gain(both).set_index("name")
    assert gain.loc["A", "new_covered_pop"] == pytest.approx(0)
    assert gain.loc["B", "new_covered_pop"] == pytest.approx(2000 * share)
    assert np.isnan(gain.loc["C", "new_covered_pop"])  # C's population is unknown
    assert gain.loc["C", "new_covered_area_share"] == pytest.approx(share)


def test_nothing_existing_yet_is_zero_coverage(streets, projects):
    planned_only = projects[projects["status"] != "existing"]
    both = compare_scenarios(streets, planned_only, "park", tiers=[300])
    assert (both.loc[both["scenario"] == "existing", "covered_area_share"] == 0).all()
    with pytest.raises(InputError, match="needs scenarios existing and plan; found plan"):
        compute_plan_gain(both[both["scenario"] == "plan"])


def test_network_penalty_is_distance_minus_network(streets):
    dist = compute_coverage(streets, facilities(pt(500, 500)), tiers=[300])
    net = dist.assign(mode="network", covered_area_share=dist["covered_area_share"] / 4,
                      covered_pop_share=dist["covered_pop_share"] / 4)  # fmt: skip
    pen = compute_network_penalty(dist, net)
    np.testing.assert_allclose(pen["area_share_penalty"], 0.75 * dist["covered_area_share"])
    with pytest.raises(InputError, match="network_cov must hold mode 'network' rows only"):
        compute_network_penalty(dist, dist)
    with pytest.raises(InputError, match='distance_cov: column "mode" is missing'):
        compute_network_penalty(dist.drop(columns="mode"), net)


# -- property: shares are shares, and more distance never covers less --------------------------

coord = st.floats(-500, 3500, allow_nan=False)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    points=st.lists(st.tuples(coord, coord), min_size=1, max_size=6),
    distances=st.lists(st.floats(1, 3000), min_size=1, max_size=5, unique=True),
)
def test_shares_are_bounded_and_grow_with_distance(streets, points, distances):
    cov = compute_coverage(streets, facilities(*[pt(x, y) for x, y in points]), tiers=distances)
    for column in ("covered_area_share", "covered_pop_share"):
        values = cov[column].dropna()
        assert ((values >= 0) & (values <= 1)).all()
        wide = cov.pivot(index="distance_m", columns="name", values=column).sort_index()
        wide = wide.dropna(axis=1, how="all")  # C's people are unknown
        assert (wide.diff().iloc[1:] >= -1e-12).all().all()
