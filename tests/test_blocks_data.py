"""Development blocks, future communities and the public service: placed from cited evidence.

Expectations are worked out here from the raw files under data/sources/ (bicycle and
metro stations converted with gongshu_geo.core.crs, whose own tests pin published reference
values; areas and distances with geopandas in EPSG:4549), not through
scripts/build_blocks.py.
"""

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from _scripts import run_check
from shapely.geometry import Point

from gongshu_geo.core.crs import bd09_to_gcj02, gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SOURCES = DATA / "sources"
METRIC = 4549
CATEGORIES = ("development_block", "future_community", "public_service")
#: Blocks whose every side is placed from evidence: their area checks the placement.
#: The bound is the shortfall each one's notes explain (a strip its unanchored part misses).
CHECKED_AREA_SHORTFALL = {"P-BLOCK-001": 0.25, "P-BLOCK-023": 0.35, "P-BLOCK-024": 0.35}
#: Blocks with one unanchored side placed to give the published area.
FITTED = ("P-BLOCK-013", "P-BLOCK-028", "P-BLOCK-017")
#: Names the plan gives to blocks, units, platforms and future communities; each needs an
#: audit row (第一章 第一节/第二节/第五节; 第二章 第六节–第九节; 第三章 第十二节, 第十四节).
PLAN_NAMES = (
    "瓜山未来社区",
    "和睦",
    "所巷",
    "万家星城",
    "善贤",
    "蓝孔雀",
    "运河新城",
    "杭钢区块",
    "华丰造纸厂",
    "杭氧杭锅",
    "和平广场",
    "民生药厂",
    "恒隆广场",
    "杭州中心",
    "大城北核心区",
    "大运河中央商务区",
    "大运河数智未来城",
    "大武林商圈",
    "杭州智慧网谷高新技术产业园",
    "数字经济产业园",
    "杭州北部软件园",
    "康桥园区",
    "石塘园区",
    "杭叉",
    "杭轴",
    "嘉里数创港",
    "电竞数娱产业园",
    "华东医药生命科学产业园",
    "万科LOFT49工业设计基地",
    "泰普森乐富设计园",
    "乐富智汇园",
    "经纬天地创意产业园",
    "元谷创意园",
    "丝联166",
    "新天地",
    "运河财富小镇",
    "上塘电商小镇",
    "汽车互联网小镇",
    "工业设计产业园",
    "朝晖区块",
    "浙金创新型区块",
    "武林新城",
    "石桥单元",
    "东新单元",
    "铁路北站单元",
    "祥符东单元",
    "石塘区块",
    "康桥单元",
    "杭钢单元",
    "邵逸夫医院大运河分院",
)


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _metric_point(lon, lat):
    return gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(METRIC).iloc[0]


@pytest.fixture(scope="module")
def projects():
    frame = gpd.read_file(DATA / "projects.geojson").to_crs(METRIC)
    return frame.set_index("id", drop=False)


@pytest.fixture(scope="module")
def streets():
    frame = gpd.read_file(DATA / "boundaries" / "streets.geojson").to_crs(METRIC)
    return {n.removesuffix("街道"): g for n, g in zip(frame["name"], frame.geometry, strict=True)}


@pytest.fixture(scope="module")
def district():
    return gpd.read_file(DATA / "boundaries" / "district.geojson").to_crs(METRIC).union_all()


@pytest.fixture(scope="module")
def blocks():
    return {r["id"]: r for r in _rows(SOURCES / "blocks" / "blocks.csv")}


@pytest.fixture(scope="module")
def bikes():
    out = {}
    for r in _rows(SOURCES / "blocks" / "bike_stations.csv"):
        lon, lat = gcj02_to_wgs84(*bd09_to_gcj02(float(r["baiduX"]), float(r["baiduY"])))
        out[r["stationId"]] = _metric_point(lon, lat)
    return out


@pytest.fixture(scope="module")
def stations():
    records = json.loads((SOURCES / "openmetro" / "stations.json").read_text(encoding="utf-8"))
    out = {}
    for r in records["records"]:
        lon, lat = gcj02_to_wgs84(r["location"]["lon"], r["location"]["lat"])
        out[r["id"]] = _metric_point(lon, lat)
    return out


def test_every_block_with_a_published_area_is_a_polygon(projects, blocks):
    for fid, row in blocks.items():
        if row["area_m2"] or row["method"] == "street_boundary":
            assert projects.loc[fid].geometry.geom_type in ("Polygon", "MultiPolygon"), fid
            if row["area_m2"]:
                assert row["area_quote"] in projects.loc[fid]["area_m2_source"], fid


def test_areas_against_the_published_figures(projects, blocks):
    for fid in (*CHECKED_AREA_SHORTFALL, *FITTED):
        published = float(blocks[fid]["area_m2"])
        area = projects.loc[fid].geometry.area
        diff = (area - published) / published
        if fid in FITTED:
            assert abs(diff) < 0.01, (fid, diff)
        else:
            assert -CHECKED_AREA_SHORTFALL[fid] < diff < 0.05, (fid, diff)
        recorded = re.search(r"\(([+-]\d+\.\d) %\)", projects.loc[fid]["notes"])
        assert recorded, fid
        assert float(recorded.group(1)) == pytest.approx(100 * diff, abs=0.051), fid


def test_the_hospital_site_has_its_published_area(projects):
    site = projects.loc["P-PUBS-001"]
    assert "4.98公顷" in site["area_m2_source"]
    assert site.geometry.area == pytest.approx(49_800, rel=0.02)


def test_everything_lies_inside_the_district(projects, district):
    mine = projects[projects["category"].isin(CATEGORIES)]
    assert len(mine) >= 34
    for fid, geom in mine.geometry.items():
        outside = geom.difference(district.buffer(1.0))
        limit = 1.0 if geom.geom_type == "Point" else 0.001 * geom.area
        assert outside.area <= limit and (geom.geom_type != "Point" or outside.is_empty), fid


def test_sides_on_street_edges_stay_in_their_streets(projects, streets):
    def share(fid, street):
        geom = projects.loc[fid].geometry
        return geom.intersection(streets[street]).area / geom.area

    assert share("P-BLOCK-001", "祥符") < 0.001  # 西至运河: the canal is 祥符's east edge
    assert share("P-BLOCK-023", "石桥") < 0.001  # 东至上塘河: the river is 石桥's west edge
    assert share("P-BLOCK-024", "祥符") > 0.999  # the unit named for 祥符 lies in it
    union = gpd.GeoSeries(
        [streets[n] for n in ("天水", "武林", "长庆", "朝晖", "米市巷")], crs=METRIC
    ).union_all()
    core = projects.loc["P-BLOCK-014"].geometry
    assert core.intersection(union).area / core.union(union).area > 0.999


def test_neighbouring_units_share_their_named_sides(projects, stations):
    new_town, station_unit = (
        projects.loc["P-BLOCK-001"].geometry,
        projects.loc["P-BLOCK-023"].geometry,
    )
    assert new_town.intersection(station_unit).area < 100.0
    shared = new_town.boundary.intersection(station_unit.boundary.buffer(1.0))
    assert shared.length > 500.0  # 运河新城 东至拱康路, 铁路北站单元 西至拱康路
    # 拱康路 passes the station that was built as 拱康路站 (north of 铁路北站单元)
    assert new_town.boundary.distance(stations["cn-hangzhou-pingan-bridge"]) < 1.0
    assert new_town.intersection(projects.loc["P-BLOCK-024"].geometry).area < 100.0


def test_anchored_sides_pass_their_anchors(projects, bikes, stations):
    cases = {
        "P-BLOCK-001": ["4190"],  # 石祥路
        "P-BLOCK-023": ["4193", "4200"],  # 石祥路
        "P-BLOCK-024": ["4159"],  # 石祥路
        "P-BLOCK-028": ["4079", "4077", "4111"],  # 上塘路, 小河路
        "P-BLOCK-013": ["4072", "4075"],  # 上塘路
    }
    for fid, ids in cases.items():
        edge = projects.loc[fid].geometry.boundary
        for i in ids:
            assert edge.distance(bikes[i]) < 1.0, (fid, i)
    assert (
        projects.loc["P-BLOCK-023"].geometry.boundary.distance(
            stations["cn-hangzhou-taoyuan-street"]
        )
        < 1.0
    )  # 北至北秀街
    assert (
        projects.loc["P-BLOCK-024"].geometry.boundary.distance(stations["cn-hangzhou-dujiaqiao"])
        < 1.0
    )  # 西至西塘河


def test_what_the_sources_put_inside_is_inside(projects, stations):
    # 祥符东单元 '内现有杭州市级科技经济园——北部软件园'
    assert projects.loc["P-BLOCK-024"].geometry.contains(projects.loc["P-BLOCK-011"].geometry)
    # the 运河商务区's core is 远洋 and 万通中心, on the west side of 大关 station
    assert (
        projects.loc["P-BLOCK-013"].geometry.buffer(100.0).contains(stations["cn-hangzhou-daguan"])
    )


def test_the_canal_belt_is_two_km_either_side_of_the_canal(projects, district):
    canal = projects.loc["P-RIVER-001"].geometry
    belt = projects.loc["P-BLOCK-030"].geometry
    expected = canal.buffer(2000.0).intersection(district)
    assert belt.symmetric_difference(expected).area < 0.001 * expected.area
    corners = gpd.GeoSeries(gpd.points_from_xy(*belt.exterior.xy), crs=METRIC)
    assert corners.distance(canal).max() == pytest.approx(2000.0, abs=1.0)


def test_the_hanglung_site_lies_between_its_two_roads(projects, bikes):
    site = projects.loc["P-BLOCK-017"].geometry
    assert site.area == pytest.approx(44_800, rel=0.01)
    assert site.boundary.distance(bikes["2282"]) < 1.0  # 南接百井坊巷
    road = gpd.GeoSeries([bikes["2318"], bikes["2337"], bikes["2104"]]).union_all().convex_hull
    assert site.distance(road) < 15.0  # 北到体育场路


def test_blocks_at_stations_are_at_the_station(projects, stations):
    for fid, station in (
        ("P-BLOCK-005", "cn-hangzhou-hangyang"),
        ("P-BLOCK-011", "cn-hangzhou-xiangyuan-road"),
        ("P-BLOCK-029", "cn-hangzhou-dujiaqiao"),
        ("P-FCOM-003", "cn-hangzhou-shanxian"),
        ("P-FCOM-005", "cn-hangzhou-xintiandi-street"),
        ("P-BLOCK-015", "cn-hangzhou-xintiandi-street"),
        ("P-BLOCK-018", "cn-hangzhou-wulin-square"),
    ):
        assert projects.loc[fid].geometry.distance(stations[station]) < 1.0, fid
    # 杭钢单元: midway between the two stations that name the park on the former works
    a, b = stations["cn-hangzhou-wujiajiaogang"], stations["cn-hangzhou-ducheng-shengtaigongyuan"]
    midway = Point((a.x + b.x) / 2, (a.y + b.y) / 2)
    assert projects.loc["P-BLOCK-003"].geometry.distance(midway) < 1.0


def test_no_feature_claims_more_than_its_method(projects):
    bound = {
        r["method"]: int(r["accuracy_m"])
        for r in _rows(DATA / "location_methods.csv")
        if r["accuracy_m"]
    }
    mine = projects[projects["category"].isin(CATEGORIES)]
    for fid, row in mine.iterrows():
        assert row["location_accuracy_m"] >= bound.get(row["location_method"], 0), fid


def test_the_audit_covers_every_named_block_and_community(projects):
    rows = [r for r in _rows(DATA / "plan_audit.csv") if r["category"] in CATEGORIES]
    names = {r["name"] for r in rows}
    missing = [n for n in PLAN_NAMES if n not in names]
    assert not missing, missing
    for r in rows:
        fid = r["feature_id"]
        if not fid:
            assert r["status_note"].startswith("not located: "), r
            assert len(r["status_note"]) > len("not located: ") + 10, r
        else:
            assert r["status_note"].startswith("located: "), r
            assert fid in projects.index, r
            assert projects.loc[fid]["category"] == r["category"], r
    assert set(projects.index[projects["category"].isin(CATEGORIES)]) <= {
        r["feature_id"] for r in rows
    }


def test_build_script_check_passes():
    done = run_check("build_blocks.py")
    assert done.returncode == 0, done.stdout + done.stderr
