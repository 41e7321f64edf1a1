"""The existing parks, squares and venues added as a coverage baseline (ids 101 and up).

Expectations come from the raw files under data/sources/baseline/ and from
data/location_methods.csv: station positions are converted here with gongshu_geo.core.crs
(whose own tests pin published reference values), areas measured with geopandas in
EPSG:4549, not through scripts/build_baseline.py.
"""

import csv
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from _scripts import run_check
from shapely.geometry import Point

from gongshu_geo import read_projects
from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources" / "baseline"
PLAN_REF = "— (现状设施, not a plan project; coverage baseline)"


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def projects():
    return read_projects()


@pytest.fixture(scope="module")
def facts():
    return {r["id"]: r for r in _rows(SOURCES / "facilities.csv")}


@pytest.fixture(scope="module")
def baseline(projects, facts):
    return projects[projects["id"].isin(list(facts))]


def test_every_fact_row_is_one_existing_feature(baseline, facts):
    assert sorted(baseline["id"]) == sorted(facts)
    for fid, row in baseline.set_index("id").iterrows():
        # status as of the plan's date (Feb 2022), as the source row states it
        assert row["status"] == facts[fid]["status"], fid
        assert (row["period"] == "existing") == (row["status"] == "existing"), fid
        if row["status"] != "existing":
            assert isinstance(row["status_note"], str) and "2022" in row["status_note"], fid
    assert set(baseline["plan_ref"]) == {PLAN_REF}
    for fid in facts:
        number = int(fid.split("-")[2])
        assert number >= 101, fid


def test_no_baseline_feature_repeats_a_plan_feature(projects, baseline):
    plan = projects[~projects["id"].isin(baseline["id"])]
    assert not set(baseline["name"]) & set(plan["name"])


def test_no_feature_claims_more_than_its_method_gives(baseline):
    figures = {
        r["method"]: int(r["accuracy_m"])
        for r in _rows(ROOT / "data" / "location_methods.csv")
        if r["accuracy_m"]
    }
    for _, row in baseline.iterrows():
        assert row["location_accuracy_m"] >= figures.get(row["location_method"], 0), row["id"]


def test_polygons_have_their_published_area(baseline, facts):
    polygons = baseline[baseline.geom_type == "Polygon"]
    assert len(polygons) == sum(bool(r["area_m2"]) for r in facts.values())
    areas = polygons.set_index("id").to_crs(4549).area
    for fid, area in areas.items():
        published = float(facts[fid]["area_m2"])
        assert abs(area - published) / published < 0.01, (fid, area, published)
        assert polygons.set_index("id").loc[fid, "area_m2_source"]


def test_station_anchored_points_sit_on_their_converted_stations(baseline, facts):
    stations = {r["stationId"]: r for r in _rows(SOURCES / "bike_stations.csv")}
    points = baseline[baseline.geom_type == "Point"].set_index("id")
    checked = 0
    for fid, row in facts.items():
        if row["placement"] != "stations":
            continue
        anchors = [stations[sid] for sid in row["anchor"].split("+")]
        lonlat = [
            gcj02_to_wgs84(*bd09_to_gcj02(float(s["baiduX"]), float(s["baiduY"]))) for s in anchors
        ]
        mean = Point(*(sum(c) / len(lonlat) for c in zip(*lonlat, strict=True)))
        want = gpd.GeoSeries([mean], crs=4326).to_crs(4549)
        got = gpd.GeoSeries([points.loc[fid, "geometry"]], crs=4326).to_crs(4549)
        assert got.distance(want).iloc[0] < 2.0, fid
        assert anchors[0]["stationName"] in points.loc[fid, "location_source"]
        checked += 1
    assert checked >= 14


def test_every_feature_lies_in_the_district(baseline):
    outline = gpd.read_file(ROOT / "data" / "boundaries" / "district.geojson").union_all()
    assert baseline.intersects(outline).all()


def test_baseline_counts_match_the_data(projects):
    for row in _rows(ROOT / "data" / "baseline.csv"):
        assert int(row["count"]) == int((projects["category"] == row["layer"]).sum()), row["layer"]


def test_build_script_check_passes():
    result = run_check("build_baseline.py")
    assert result.returncode == 0, result.stderr


def test_crossing_squares_have_their_corner_where_the_fitted_roads_cross(baseline, facts):
    # independent of the script: each road fitted by ordinary least squares (金华路 as x(y),
    # 登云路 as y(x)), the crossing solved directly, against the square's stated corner
    stations = {r["stationId"]: r for r in _rows(SOURCES / "bike_stations.csv")}
    metric = baseline.set_index("id").to_crs(4549)
    checked = 0
    for fid, row in facts.items():
        if row["placement"] != "crossing_corner_square":
            continue
        roads, corner = row["anchor"].split(";")
        groups = []
        for ids in roads.split("|"):
            rows = [stations[i] for i in ids.split("+")]
            bd = [(float(s["baiduX"]), float(s["baiduY"])) for s in rows]
            lonlat = [gcj02_to_wgs84(*bd09_to_gcj02(*c)) for c in bd]
            pts = gpd.GeoSeries([Point(p) for p in lonlat], crs=4326).to_crs(4549)
            groups.append(np.array([(p.x, p.y) for p in pts]))
        a, b = groups
        # road a runs north-south: x = p*y + q; road b east-west: y = r*x + s
        p, q = np.polyfit(a[:, 1], a[:, 0], 1)
        r, s = np.polyfit(b[:, 0], b[:, 1], 1)
        y = (r * q + s) / (1 - r * p)
        x = p * y + q
        minx, miny, maxx, maxy = metric.loc[fid, "geometry"].bounds
        want = {"nw": (minx, maxy), "ne": (maxx, maxy), "sw": (minx, miny), "se": (maxx, miny)}
        cx, cy = want[corner]
        assert abs(cx - x) < 15 and abs(cy - y) < 15, (fid, cx - x, cy - y)
        checked += 1
    assert checked >= 1


def test_features_lie_in_the_street_their_notes_name(baseline):
    # a note such as 'Existing park in 大关街道' is a fact from its source: the feature must
    # lie in that street, or at least within its stated accuracy of it
    streets = gpd.read_file(ROOT / "data" / "boundaries" / "streets.geojson").to_crs(4549)
    by_name = dict(zip(streets["name"], streets.geometry, strict=True))
    metric = baseline.to_crs(4549)
    checked = 0
    for _, row in metric.iterrows():
        named = set(re.findall(r"(\S{2,3}街道)", str(row["notes"])))
        named = {n.lstrip("(") for n in named} & set(by_name)
        for name in named:
            distance = by_name[name].distance(row.geometry)
            assert distance <= row["location_accuracy_m"], (row["id"], name, distance)
            checked += 1
    assert checked >= 10
