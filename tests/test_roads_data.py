"""The road features are lines through cited anchors, measured against published facts.

Expectations are worked out here from the raw files under data/sources/ (bicycle
stations and metro stations converted with gongshu_geo.core.crs, whose own tests pin
published reference values; lengths and distances with geopandas in EPSG:4549), not
through scripts/build_roads.py.
"""

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from _scripts import run_check
from shapely.geometry import Point, shape

from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
ROADS = DATA / "sources" / "roads"
METRIC = 4549
#: Kinds of derived point that rest on an assumed course (their road is text_only).
ASSUMED = {"est", "extend", "offset", "outline"}
#: Roads and other linear transport items the plan names (第一章 第一节, 第二节; 第三章 第十二节,
#: 第十三节; 第五章 第二十二节), each of which must have a row in plan_audit.csv.
PLAN_ROADS = (
    "香积寺路西延", "长浜路", "众贤路", "永固路", "临半路", "运河路", "管家漾路", "金昌路",
    "莫干山路", "沈半路", "拱康路", "东新路", "康桥路", "新天地街", "莫干山路北段",
    "天目山路快速路提升工程", "丽水路", "和睦路", "杭锅支河", "纵三路", "石横路", "平炼路",
    "东新路景观大道",
)  # fmt: skip


def _csv(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _metric(lon, lat):
    return gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(METRIC).iloc[0]


@pytest.fixture(scope="module")
def rows():
    return {r["id"]: r for r in _csv(ROADS / "roads.csv")}


@pytest.fixture(scope="module")
def points():
    return {r["point_id"]: r for r in _csv(ROADS / "points.csv")}


@pytest.fixture(scope="module")
def roads():
    raw = json.loads((DATA / "projects.geojson").read_text(encoding="utf-8"))
    feats = [f for f in raw["features"] if f["properties"]["category"] in ("road", "river")]
    frame = gpd.GeoDataFrame(
        [f["properties"] for f in feats],
        geometry=[shape(f["geometry"]) for f in feats],
        crs=4326,
    )
    return frame.set_index("id", drop=False).to_crs(METRIC)


@pytest.fixture(scope="module")
def anchors():
    """token -> (metric Point, name or description) for every bicycle and metro anchor."""
    out = {}
    for r in _csv(ROADS / "bike_stations.csv"):
        lon, lat = gcj02_to_wgs84(*bd09_to_gcj02(float(r["baiduX"]), float(r["baiduY"])))
        out[f"bike:{r['stationId']}"] = (_metric(float(lon), float(lat)), r["stationName"])
    stations = json.loads((DATA / "sources/openmetro/stations.json").read_text(encoding="utf-8"))
    for r in stations["records"]:
        lon, lat = gcj02_to_wgs84(r["location"]["lon"], r["location"]["lat"])
        text = r["name"] + " " + r["extras"].get("description", "")
        out[f"metro:{r['id']}"] = (_metric(float(lon), float(lat)), text)
    return out


@pytest.fixture(scope="module")
def district():
    return gpd.read_file(DATA / "boundaries/district.geojson").to_crs(METRIC).union_all()


@pytest.fixture(scope="module")
def streets():
    frame = gpd.read_file(DATA / "boundaries/streets.geojson").to_crs(METRIC)
    return dict(zip(frame["name"], frame.geometry, strict=True))


def _stem(name):
    """The road name a station must carry: 莫干山路北段 -> 莫干山路, 东新路景观大道 -> 东新路."""
    for suffix in ("路", "街"):
        if suffix in name:
            return name[: name.index(suffix) + 1]
    return name


def _assumed(token, points):
    """Whether a vertex rests, directly or through its arguments, on an assumed course."""
    kind, _, key = token.partition(":")
    if kind != "pt":
        return False
    row = points[key]
    if row["kind"] in ASSUMED:
        return True
    return any(_assumed(t, points) for t in row["args"].split() if ":" in t)


def test_every_road_feature_is_rebuilt_from_the_sources(roads, rows):
    ids = set(roads.index[roads["category"] == "road"])
    assert ids == set(rows)
    for fid in ids:
        assert roads.loc[fid, "name"] == rows[fid]["name"]
        assert roads.loc[fid].geometry.geom_type == "LineString"


def test_lines_pass_through_their_anchors(roads, rows, anchors):
    for fid, row in rows.items():
        line = roads.loc[fid].geometry
        vertices = [Point(c) for c in line.coords]
        for token in row["vertices"].split():
            if token.startswith(("bike:", "metro:")):
                point = anchors[token][0]
                assert min(point.distance(v) for v in vertices) < 1.0, (fid, token)


def test_anchors_are_named_for_the_road_or_its_named_ends(rows, anchors):
    for fid, row in rows.items():
        stem = _stem(row["name"])
        for token in row["vertices"].split():
            if not token.startswith(("bike:", "metro:")):
                continue
            text = anchors[token][1]
            station = text.split()[0] if token.startswith("metro:") else text
            named_end = any(
                road in row["extent"] for road in _road_names(text) if road != stem
            ) or (token.startswith("metro:") and station in row["extent"])
            assert stem in text or named_end, (fid, token, text)


def _road_names(text):
    import re

    return re.findall(r"[\u4e00-\u9fff]{1,4}?(?:路|街)", text)


def test_method_is_the_weakest_of_its_vertices(roads, rows, points):
    figures = {r["method"]: int(r["accuracy_m"]) for r in _csv(DATA / "location_methods.csv")
               if r["accuracy_m"]}  # fmt: skip
    for fid, row in rows.items():
        tokens = row["vertices"].split()
        expected = "text_only" if any(_assumed(t, points) for t in tokens) else "named_crossing"
        props = roads.loc[fid]
        assert props["location_method"] == expected, fid
        assert props["location_accuracy_m"] >= figures[expected], fid


def test_drawn_lengths_against_published_lengths(roads, rows):
    checked = 0
    for fid, row in rows.items():
        if not row["length_check"]:
            continue
        published_m = float(row["length_km"]) * 1000.0
        drawn_m = roads.loc[fid].geometry.length
        if row["length_check"] == "full":
            assert abs(drawn_m - published_m) <= 0.10 * published_m, (fid, drawn_m)
        elif row["length_check"] == "part":
            assert drawn_m < published_m, (fid, drawn_m)
        else:
            assert row["length_check"] == "laid_off"
            assert abs(drawn_m - published_m) <= 0.01 * published_m, (fid, drawn_m)
        checked += 1
    assert checked == 9


def test_gongkang_road_meets_the_yuhang_boundary_at_its_published_length(roads, district):
    # 拱康路 '南起石祥路,北至余杭界,全长5.1公里': the line is not laid off at that length,
    # yet the straight line through its 石祥路 and 平炼路 anchors meets the outline 4.9 km on.
    line = roads.loc["P-ROAD-007"].geometry
    assert Point(line.coords[-1]).distance(district.boundary) < 1.0
    assert line.length == pytest.approx(5100, rel=0.05)


def test_roads_lie_in_the_district_or_say_where_they_leave_it(roads, rows, district):
    inside = district.buffer(100.0)  # the outline's own accuracy
    for fid, row in rows.items():
        line = roads.loc[fid].geometry
        assert line.intersects(district), fid
        if row["crosses_district_edge"] == "no":
            assert line.within(inside), fid
        else:
            assert line.intersection(district).length < 0.999 * line.length, fid
            assert "区" in row["notes"] or "boundary" in row["notes"], fid


def test_roads_lie_in_their_stated_streets(roads, streets):
    # 临半路 '位于拱墅区半山街道'; 新天地街 station '属于东新街道万家星城社区'.
    assert roads.loc["P-ROAD-010"].geometry.within(streets["半山街道"].buffer(100.0))
    assert roads.loc["P-ROAD-009"].geometry.within(streets["东新街道"].buffer(100.0))


def test_hemu_road_follows_the_street_edge_its_description_names(roads, streets, anchors):
    edge = streets["湖墅街道"].boundary.intersection(streets["小河街道"].buffer(5.0))
    corner_y = anchors["bike:4112"][0].y  # 和睦路贾家弄口
    south = [Point(c) for c in roads.loc["P-ROAD-017"].geometry.coords if c[1] < corner_y - 50]
    assert len(south) >= 5
    assert max(edge.distance(p) for p in south) < 1.0


def test_roads_cross_the_canal_where_the_sources_say(roads):
    canal = roads.loc["P-RIVER-001"].geometry
    # 康桥路 '向西横跨京杭大运河'; 香积寺路西延 '下穿运河'; 金昌路 crosses it on the 昌运 bridge.
    for fid in ("P-ROAD-008", "P-ROAD-013", "P-ROAD-011"):
        assert roads.loc[fid].geometry.intersects(canal), fid


def test_jinchang_road_crosses_the_canal_west_of_gongkang_road_within_its_middle_section(roads):
    # '金昌路中段(巨州路—拱康路)…全长1.86公里', its canal bridge on the 拱康路—储运路 stretch
    # (whmhampers.com 2015-12-22): going west from 拱康路, 金昌路 meets the canal before 巨州路.
    jinchang = roads.loc["P-ROAD-011"].geometry
    at_gongkang = jinchang.project(jinchang.intersection(roads.loc["P-ROAD-007"].geometry))
    at_canal = jinchang.project(jinchang.intersection(roads.loc["P-RIVER-001"].geometry))
    assert 0.0 < at_gongkang - at_canal < 1860.0


def test_derived_points_lie_where_their_rule_puts_them(roads, anchors):
    # 新天地街 starts on 东新路: its first vertex lies on that line.
    xtd = Point(roads.loc["P-ROAD-009"].geometry.coords[0])
    assert roads.loc["P-ROAD-004"].geometry.distance(xtd) < 1.0
    # 平炼路 and 拱康路 meet at the 平安桥 station ('平炼路与拱康路交叉口西侧').
    assert roads.loc["P-ROAD-012"].geometry.distance(roads.loc["P-ROAD-007"].geometry) < 1.0
    # 临半路 begins where 沈半路 ends (both on 半山路).
    assert (
        Point(roads.loc["P-ROAD-010"].geometry.coords[0]).distance(
            Point(roads.loc["P-ROAD-006"].geometry.coords[-1])
        )
        < 1.0
    )


def test_plan_audit_lists_every_road_the_plan_names():
    audit = _csv(DATA / "plan_audit.csv")
    ids = {f["properties"]["id"] for f in json.loads(
        (DATA / "projects.geojson").read_text(encoding="utf-8"))["features"]}  # fmt: skip
    road_rows = [r for r in audit if r["category"] == "road"]
    for name in PLAN_ROADS:
        hits = [r for r in road_rows if r["name"] == name]
        assert hits, name
        for r in hits:
            located = r["feature_id"] in ids and r["status_note"].startswith("located")
            missing = r["feature_id"] == "" and r["status_note"].startswith("not located: ")
            assert located or missing, r


def test_lines_do_not_fold_back(roads, rows):
    # A misplaced anchor (the bicycle list has a few) shows as a spike: the line turning
    # back on itself. No road may turn by more than 120 degrees at a vertex.
    for fid in rows:
        xy = np.array(roads.loc[fid].geometry.coords)
        seg = np.diff(xy, axis=0)
        seg = seg[np.hypot(seg[:, 0], seg[:, 1]) > 20.0]  # ignore sub-20 m jitter
        heading = np.degrees(np.arctan2(seg[:, 0], seg[:, 1]))
        turn = np.abs((np.diff(heading) + 180.0) % 360.0 - 180.0)
        assert not len(turn) or turn.max() <= 120.0, (fid, turn.max())


def test_build_roads_check_passes():
    result = run_check("build_roads.py")
    assert result.returncode == 0, result.stdout + result.stderr
