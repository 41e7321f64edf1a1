"""The metro stations and lines are the AMap subway data, and the placement methods are calibrated.

Expectations are computed here from the raw files under data/sources/ (conversion with
gongshu_geo.core.crs, whose own tests pin published reference values; distances with
geopandas in EPSG:4549), not through scripts/build_metro.py.
"""

import csv
import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from _scripts import run_check
from shapely.geometry import Point

from gongshu_geo import read_projects
from gongshu_geo.core.crs import gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
BOX = (120.07, 30.25, 120.24, 30.40)  # GCJ-02 lon/lat box the raw subset was cut to
OWN_METHODS = ("source_coordinates", "named_crossing", "text_only")


def _records(name):
    return json.loads((SOURCES / "openmetro" / f"{name}.json").read_text(encoding="utf-8"))[
        "records"
    ]


def _base(name):
    return name[:-1] if name.endswith("站") and len(name) > 2 else name


@pytest.fixture(scope="module")
def raw():
    rows = _records("stations")
    lon, lat = gcj02_to_wgs84(
        np.array([r["location"]["lon"] for r in rows]),
        np.array([r["location"]["lat"] for r in rows]),
    )
    frame = gpd.GeoDataFrame(
        {
            "code": [";".join(r["extras"]["official_codes"]) for r in rows],
            "name": [_base(r["name"]) for r in rows],
            "station_id": [r["id"] for r in rows],
            "lines": [sorted(r["extras"]["lines"], key=lambda n: int(n[:-2])) for r in rows],
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    outline = gpd.read_file(ROOT / "data/boundaries/district.geojson").to_crs(4549).union_all()
    frame["dist_m"] = frame.to_crs(4549).distance(outline)
    return frame


@pytest.fixture(scope="module")
def projects():
    return read_projects()


@pytest.fixture(scope="module")
def stations(projects):
    return projects[projects["category"] == "metro_station"]


@pytest.fixture(scope="module")
def lines(projects):
    return projects[projects["category"] == "metro_line"]


def test_raw_records_are_the_gcj02_stations_of_the_box():
    rows = _records("stations")
    assert len(rows) == 86 and len({r["id"] for r in rows}) == 86
    for r in rows:
        loc = r["location"]
        assert loc["crs"] == "gcj02", r["id"]
        assert BOX[0] <= loc["lon"] <= BOX[2] and BOX[1] <= loc["lat"] <= BOX[3], r["id"]
        # the record is whole: its code appears in its own source ids
        assert r["source_ids"][0]["id"] == r["extras"]["official_codes"][0], r["id"]


def test_every_station_of_the_district_is_in_the_data(raw, stations):
    near = raw[raw["dist_m"] <= 300]
    ours = stations[stations["location_method"] == "source_coordinates"]
    assert set(near["code"]) == set(ours["station_code"])
    assert len(ours) == len(near) == 35
    assert set(near["name"]) == set(ours["name"])


def test_positions_equal_the_source_converted(raw, stations):
    src = raw.set_index("code").to_crs(4549)
    ours = stations[stations["location_method"] == "source_coordinates"]
    ours = ours.set_index("station_code").to_crs(4549)
    shift = ours.geometry.distance(src.geometry.reindex(ours.index))
    assert shift.max() < 1.0  # metres: only the rounding to 1e-6 degrees


def test_each_station_has_code_lines_status_and_opening(stations, raw):
    by_code = raw.set_index("code")
    for row in stations.itertuples():
        assert row.lines == ";".join(by_code.loc[row.station_code, "lines"]), row.id
        assert row.status in ("existing", "under_construction"), row.id
        if isinstance(row.opened, str):
            # open before the plan (Feb 2022) means existing then, and nothing else does
            assert (row.opened < "2022-02") == (row.status == "existing"), row.id
        else:
            assert row.status == "under_construction", row.id
    named = stations.set_index("name")
    # known answers: line 1 opened 2012-11-24; 宝善桥 (line 5) only on 2022-04-01
    assert named.loc["凤起路", "opened"] == "2012-11-24"
    assert named.loc["凤起路", "status"] == "existing"
    assert named.loc["宝善桥", "opened"] == "2022-04-01"
    assert named.loc["宝善桥", "status"] == "under_construction"
    assert named.loc["和睦", "lines"] == "5号线;10号线"


def _line_numbers(text):
    return [int(part[:-2]) for part in text.split(";")]


def test_lines_pass_through_their_stations_in_segment_order(lines, stations, raw):
    segments = _records("segments")
    joined = {
        (s["line_id"].rsplit("-", 1)[1], frozenset((s["from_station_id"], s["to_station_id"])))
        for s in segments
    }
    pos = raw.set_index("name").to_crs(4549).geometry
    sid = raw.set_index("name")["station_id"]
    built = lines[lines["location_method"] == "source_coordinates"].to_crs(4549)
    assert len(built) == 7  # the plan's seven lines built or being built (1 2 3 4 5 10 19)
    for row in built.itertuples():
        number = re.search(r"(\d+)号线", row.name).group(1)
        names = row.stations.split(";")
        coords = list(row.geometry.coords)
        assert len(coords) == len(names), row.id
        for (x, y), name in zip(coords, names, strict=True):
            assert Point(x, y).distance(pos[name]) < 1.0, (row.id, name)
        for a, b in zip(names, names[1:], strict=False):
            assert (number, frozenset((sid[a], sid[b]))) in joined, (row.id, a, b)
    # every station lies on each of its lines
    for st in stations.to_crs(4549).itertuples():
        for n in _line_numbers(st.lines):
            line = built[built["name"].str.contains(rf"(?<!\d){n}号线")]
            assert len(line) == 1, (st.id, n)
            assert line.geometry.iloc[0].distance(st.geometry) < 1.0, (st.id, n)


def _methods():
    with (ROOT / "data" / "location_methods.csv").open(encoding="utf-8") as f:
        return {r["method"]: r for r in csv.DictReader(f)}


def test_calibration_rows_recompute_from_the_committed_files():
    sys.path.insert(0, str(ROOT / "scripts"))
    from calibrate_locations import calibrate

    table = _methods()
    for row in calibrate():
        committed = table[row["method"]]
        for field in ("n", "median_m", "p90_m", "accuracy_m"):
            assert float(committed[field]) == pytest.approx(float(row[field])), (
                row["method"],
                field,
            )
        assert committed["how"] == row["how"]


def test_earlier_positions_measure_what_the_issue_reported(raw):
    # independent of the script: planar distances in EPSG:4549 from the earlier stations
    with (SOURCES / "metro" / "stations_before_amap.csv").open(encoding="utf-8") as f:
        old = list(csv.DictReader(f))
    assert len(old) == 32
    truth = raw.set_index("name").to_crs(4549).geometry
    pts = gpd.GeoSeries(
        gpd.points_from_xy([float(r["lon"]) for r in old], [float(r["lat"]) for r in old]),
        crs="EPSG:4326",
    ).to_crs(4549)
    err = np.array([p.distance(truth[_base(r["name"])]) for r, p in zip(old, pts, strict=True)])
    # issue 10: "median position error is 348 m and the 90th percentile 917 m"
    assert np.median(err) == pytest.approx(348, abs=5)
    assert np.percentile(err, 90) == pytest.approx(917, abs=5)
    estimated = np.array(
        [
            e
            for r, e in zip(old, err, strict=True)
            if not r["location_source"].startswith("Wikipedia")
        ]
    )
    row = _methods()["text_only"]
    assert int(row["n"]) == len(estimated) == 26
    assert float(row["p90_m"]) == pytest.approx(np.percentile(estimated, 90), abs=2)


def test_each_accuracy_is_its_90th_percentile_rounded_up():
    table = _methods()
    for method in OWN_METHODS:
        row = table[method]
        p90, acc = float(row["p90_m"]), int(row["accuracy_m"])
        step = 10 if p90 < 100 else 50
        assert p90 <= acc < p90 + step and acc % step == 0, method


def test_no_feature_claims_more_accuracy_than_its_method(projects, stations):
    methods = {m: r for m, r in _methods().items() if r["accuracy_m"]}
    with_method = projects[projects["location_method"].isin(methods)]
    assert len(with_method) >= len(stations)
    assert projects["location_method"].notna().all()  # every feature says how it was placed
    for row in with_method.itertuples():
        assert row.location_accuracy_m >= int(methods[row.location_method]["accuracy_m"]), row.id


@pytest.mark.slow
def test_rebuild_from_sources_equals_the_committed_data():
    result = run_check("build_metro.py")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_calibration_script_agrees_with_the_table():
    result = run_check("calibrate_locations.py")
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
