"""The plan's cultural and sports venues, re-derived from cited facts (scripts/build_venues.py).

Expectations come from the raw files (data/sources/venues/venues.csv, the verbatim
openmetro stations, the bicycle station rows) and from geometry computed here with
geopandas in EPSG:4549, not through the build script.
"""

import csv
import json
from pathlib import Path

import geopandas as gpd
import pytest
from _scripts import run_check
from shapely.geometry import Point

from gongshu_geo import read_projects
from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
VENUES = ROOT / "data" / "sources" / "venues" / "venues.csv"
METRIC = 4549


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def projects():
    return read_projects().set_index("id", drop=False)


@pytest.fixture(scope="module")
def facts():
    return {r["id"]: r for r in _rows(VENUES)}


@pytest.fixture(scope="module")
def metric(projects):
    return projects.to_crs(METRIC)


def test_every_plan_venue_has_one_fact_row(projects, facts):
    plan_venues = projects[
        projects["category"].isin(["cultural_venue", "sports_venue"])
        & (projects["id"].str.split("-").str[2].astype(int) < 101)
    ]
    assert sorted(plan_venues["id"]) == sorted(facts)
    for fid, row in facts.items():
        assert projects.loc[fid, "name"] == row["name"], fid
        assert projects.loc[fid, "location_method"] == row["method"], fid
        assert row["location_source"] in projects.loc[fid, "location_source"], fid


def test_no_venue_claims_more_than_its_method_gives(projects, facts):
    figures = {
        r["method"]: int(r["accuracy_m"])
        for r in _rows(ROOT / "data" / "location_methods.csv")
        if r["accuracy_m"]
    }
    for fid in facts:
        stated = projects.loc[fid, "location_accuracy_m"]
        assert stated >= figures.get(projects.loc[fid, "location_method"], 0), fid


def test_venues_with_a_published_area_are_polygons_of_that_area(metric, facts):
    with_area = [fid for fid, r in facts.items() if r["area_m2"]]
    assert len(with_area) >= 3
    for fid in facts:
        polygon = metric.loc[fid].geometry.geom_type == "Polygon"
        assert polygon == (fid in with_area), fid
    for fid in with_area:
        published = float(facts[fid]["area_m2"])
        assert metric.loc[fid].geometry.area == pytest.approx(published, rel=0.01), fid
        assert metric.loc[fid, "area_m2_source"], fid


def test_esports_centre_is_in_the_park_corner_of_its_two_roads(metric):
    # '石祥路与长浜路交叉口' and inside 北景园生态公园, whose south edge is 石祥路 and west
    # edge 长浜路: the disc lies in the park and touches its south-west corner's edges
    park = metric.loc["P-PARK-004"].geometry
    disc = metric.loc["P-SPRT-001"].geometry
    assert park.buffer(1.0).contains(disc)
    corner = min(park.exterior.coords, key=lambda p: p[0] + p[1])
    radius = (12838 / 3.141592653589793) ** 0.5
    # a disc tangent to both edges of a corner has its centre within r / sin(angle/2)
    assert disc.centroid.distance(Point(corner)) < 3 * radius
    assert park.exterior.distance(disc.centroid) == pytest.approx(radius, abs=2.0)


def test_theatre_lies_west_of_the_grand_canal_station(metric):
    # '在大运河地铁站西侧': the station is on the square's east edge
    station = metric.loc["P-MSTN-015"].geometry
    theatre = metric.loc["P-CULT-004"].geometry
    minx, miny, maxx, maxy = theatre.bounds
    assert maxx == pytest.approx(station.x, abs=1.0)
    assert miny < station.y < maxy
    assert metric.loc["P-PARK-001"].geometry.distance(theatre) > 1000  # not the sports park


def test_expo_centre_is_at_the_station_whose_description_names_it(projects):
    stations = json.loads((ROOT / "data" / "sources" / "openmetro" / "stations.json").read_text())
    hangyang = next(s for s in stations["records"] if s["name"] == "杭氧")
    assert "武林之星博览中心" in hangyang["extras"]["description"]
    loc = hangyang["location"]
    want = gpd.GeoSeries([Point(*gcj02_to_wgs84(loc["lon"], loc["lat"]))], crs=4326)
    got = gpd.GeoSeries([projects.loc["P-CULT-007"].geometry], crs=4326)
    assert got.to_crs(METRIC).distance(want.to_crs(METRIC)).iloc[0] < 1.0


def test_gymnasium_sits_on_its_converted_bicycle_station(projects):
    path = ROOT / "data" / "sources" / "baseline" / "bike_stations.csv"
    rows = {r["stationId"]: r for r in _rows(path)}
    s = rows["2026"]
    assert s["stationName"] == "市体育馆"
    lon, lat = gcj02_to_wgs84(*bd09_to_gcj02(float(s["baiduX"]), float(s["baiduY"])))
    want = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(METRIC)
    got = gpd.GeoSeries([projects.loc["P-SPRT-002"].geometry], crs=4326).to_crs(METRIC)
    assert got.distance(want).iloc[0] < 2.0


def test_canal_museum_is_in_the_south_east_of_its_square(metric):
    # '博物馆位于运河广场的东南侧'
    square = metric.loc["P-PARK-112"].geometry
    museum = metric.loc["P-CULT-002"].geometry
    assert square.contains(museum)
    assert museum.x > square.centroid.x and museum.y < square.centroid.y


def test_south_hall_north_pitch_inside_the_sports_park(metric):
    # '南馆北场'
    park = metric.loc["P-PARK-001"].geometry
    hall, pitch = metric.loc["P-SPRT-003"].geometry, metric.loc["P-SPRT-004"].geometry
    assert park.contains(hall) and park.contains(pitch)
    assert hall.y < park.centroid.y < pitch.y


def test_every_venue_lies_in_the_district(projects, facts):
    outline = gpd.read_file(ROOT / "data" / "boundaries" / "district.geojson").union_all()
    assert projects.loc[list(facts)].intersects(outline).all()


def test_every_plan_venue_is_in_the_audit(projects, facts):
    audit = _rows(ROOT / "data" / "plan_audit.csv")
    venue_rows = [r for r in audit if r["category"] in ("cultural_venue", "sports_venue")]
    audited = {r["feature_id"] for r in venue_rows}
    assert set(facts) <= audited
    for r in venue_rows:
        if r["feature_id"] in projects.index:
            assert r["status_note"].startswith("located"), r
        else:
            assert r["feature_id"] == "" and r["status_note"].startswith("not located"), r
        assert r["quote"], r


def test_build_script_check_passes():
    result = run_check("build_venues.py")
    assert result.returncode == 0, result.stderr


def test_canal_museum_and_refinery_lie_on_the_east_bank_either_side_of_the_steel_river(metric):
    # 博物院 '西临京杭大运河、北靠杭钢河', 750 m of frontage; the heat main runs south along
    # the east bank from the 炼油厂 site across 杭钢河 to the 博物院's north side
    canal = metric.loc["P-RIVER-001"].geometry
    river = metric.loc["P-RIVER-005"].geometry
    mouth = min((Point(river.coords[0]), Point(river.coords[-1])), key=canal.distance)
    museum = metric.loc["P-CULT-001"].geometry
    refinery = metric.loc["P-CULT-008"].geometry
    assert museum.distance(canal) < 150
    assert mouth.y - 750 < museum.y < mouth.y
    assert refinery.distance(canal) < 1.0
    assert refinery.bounds[1] == pytest.approx(mouth.y, abs=1.0)
    assert refinery.centroid.x > canal.interpolate(canal.project(refinery.centroid)).x
