"""The metro stations are the AMap subway positions, and the placement methods are calibrated.

Expectations are computed here from the raw files under data/sources/ (conversion with
gongshu_geo.crs, whose own tests pin a published reference vector; distances with
geopandas in EPSG:4549), not through scripts/build_metro.py.
"""

import csv
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from _scripts import run_check

from gongshu_geo import read_projects
from gongshu_geo.crs import gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"


@pytest.fixture(scope="module")
def raw():
    with (SOURCES / "openmetro" / "stations_subset.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert {r["crs"] for r in rows} == {"gcj02"}
    lon, lat = gcj02_to_wgs84(
        np.array([float(r["lon"]) for r in rows]), np.array([float(r["lat"]) for r in rows])
    )
    frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    outline = gpd.read_file(ROOT / "data/boundaries/district.geojson").to_crs(4549).geometry[0]
    frame["dist_m"] = frame.to_crs(4549).distance(outline)
    return frame


@pytest.fixture(scope="module")
def stations():
    projects = read_projects()
    return projects[projects["category"] == "metro_station"]


def test_every_station_of_the_district_is_in_the_data(raw, stations):
    near = raw[raw["dist_m"] <= 300]
    assert set(near["official_codes"]) == set(stations["station_code"])
    assert len(stations) == len(near) == 35


def test_positions_equal_the_source_converted(raw, stations):
    src = raw.set_index("official_codes").to_crs(4549)
    ours = stations.set_index("station_code").to_crs(4549)
    shift = ours.geometry.distance(src.geometry.reindex(ours.index))
    assert shift.max() < 1.0  # metres: only the rounding to 1e-6 degrees


def test_each_station_has_code_lines_status_and_method(stations, raw):
    lines = raw.set_index("official_codes")["lines"]
    for row in stations.itertuples():
        assert row.lines == lines[row.station_code] and "号线" in row.lines
        assert row.status in ("existing", "under_construction", "planned")
        assert row.location_method == "source_coordinates"
        assert "GCJ-02" in row.location_source and "gcj02_to_wgs84" in row.location_source


def _methods():
    """Calibrated methods only: those with a stated accuracy."""
    with (ROOT / "data" / "location_methods.csv").open(encoding="utf-8") as f:
        return {r["method"]: r for r in csv.DictReader(f) if r["accuracy_m"]}


def test_calibration_recomputes_from_the_earlier_positions(raw):
    # independent of the script: distances from the earlier positions to the AMap ones
    with (SOURCES / "stations_before_amap.csv").open(encoding="utf-8") as f:
        old = list(csv.DictReader(f))
    truth = raw.assign(base=raw["name"].str.removesuffix("站")).set_index("base").to_crs(4549)
    pts = gpd.GeoSeries(
        gpd.points_from_xy([float(r["lon"]) for r in old], [float(r["lat"]) for r in old]),
        crs="EPSG:4326",
    ).to_crs(4549)
    methods = _methods()
    for method in ("source_coordinates", "named_crossing", "text_only"):
        errors = [
            p.distance(truth.geometry[r["name"].removesuffix("站")])
            for r, p in zip(old, pts, strict=True)
            if r["method"] == method
        ]
        row = methods[method]
        assert int(row["n"]) == len(errors)
        assert float(row["p90_m"]) == pytest.approx(np.percentile(errors, 90), abs=0.1)
        assert int(row["accuracy_m"]) >= float(row["p90_m"])


def test_no_feature_claims_more_accuracy_than_its_method(stations):
    methods = _methods()
    projects = read_projects()
    with_method = projects[projects["location_method"].isin(methods)]
    assert len(with_method) >= len(stations)
    assert projects["location_method"].notna().all()  # every feature says how it was placed
    for row in with_method.itertuples():
        assert row.location_accuracy_m >= int(methods[row.location_method]["accuracy_m"]), row.id


@pytest.mark.slow
def test_rebuild_from_sources_equals_the_committed_data():
    result = run_check("build_metro.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_methods_are_read_from_how_each_feature_was_placed():
    sys.path.insert(0, str(ROOT / "scripts"))
    from assign_location_methods import method_of

    assert method_of("approximate: from general knowledge of Hangzhou geography: x") == "text_only"
    assert method_of("'桥西直街' station of NMSN/CitiBike lib/baiduMarkers.js") == "named_crossing"
    assert method_of("extent: '东至学院北路，南至申花路'") == "described_extent"
    assert method_of("address '杭氧街33号'") == "address"
    assert method_of("something else entirely") == "text_only"


@pytest.mark.slow
def test_every_feature_has_its_method_and_bound():
    result = run_check("assign_location_methods.py")
    assert result.returncode == 0, result.stdout + result.stderr
