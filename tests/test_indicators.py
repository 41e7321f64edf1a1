"""The plan's targets measured from small data whose answers are known."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from gongshu_geo.analysis.indicators import INDICATOR_COLUMNS, measure_targets

M = "EPSG:4549"
X0, Y0 = 500_000, 3_350_000


def _projects():
    rows = [
        ("park", "city_park", "planned", box(X0, Y0, X0 + 100, Y0 + 200)),  # 20,000 m²
        ("park", "city_park", "under_construction", Point(X0 + 10, Y0 + 10)),  # point: no area
        ("park", "city_park", "existing", box(X0, Y0, X0 + 1000, Y0 + 1000)),  # existing: not new
        ("greenway", "riverside", "planned", LineString([(X0, Y0), (X0 + 1500, Y0)])),
        ("river", "canal", "planned", LineString([(X0 - 500, Y0 + 10), (X0 + 500, Y0 + 10)])),
        ("road", "dead_end_opened", "planned", LineString([(X0, Y0), (X0, Y0 + 2000)])),
        ("metro_station", "phase3", "under_construction", Point(X0 + 1, Y0 + 1)),
        ("metro_station", "phase4", "planned", Point(X0 + 2, Y0 + 2)),
    ]
    return gpd.GeoDataFrame(
        {
            "id": [f"P-T-{i:03d}" for i in range(len(rows))],
            "name": ["大运河" if r[0] == "river" else "x" for r in rows],
            "category": [r[0] for r in rows],
            "subcategory": [r[1] for r in rows],
            "status": [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs=M,
    )


@pytest.fixture
def table():
    district = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 2000, Y0 + 2000)], crs=M)
    streets = gpd.GeoDataFrame(
        {"population": [100, 250]}, geometry=[box(X0, Y0, X0 + 1, Y0 + 1)] * 2, crs=M
    )
    return measure_targets(streets, _projects(), district).set_index("target")


def _row(table, prefix):
    matches = [t for t in table.index if t.startswith(prefix)]
    assert len(matches) == 1, prefix
    return table.loc[matches[0]]


def test_columns(table):
    assert list(table.reset_index().columns) == INDICATOR_COLUMNS


def test_known_answers(table):
    assert _row(table, "区域总面积")["data_value"] == pytest.approx(4.0)
    assert _row(table, "常住人口")["data_value"] == 350
    assert _row(table, "新建城市公园")["data_value"] == 2  # planned + under construction
    assert _row(table, "新增绿地面积")["data_value"] == pytest.approx(20_000)
    assert _row(table, "绿道")["data_value"] == 1
    assert "1.5 km" in _row(table, "绿道")["note"]
    # only the 500 m of the river inside the 2 x 2 km district counts
    assert _row(table, "河道综保工程长度")["data_value"] == pytest.approx(0.5)
    assert _row(table, "大运河遗产河道长度")["data_value"] == pytest.approx(0.5)
    assert _row(table, "打通断头路")["data_value"] == 1
    assert _row(table, "地铁站点")["data_value"] == 1


def test_unanswerable_targets_say_so(table):
    density = _row(table, "路网密度")
    assert not density["answerable"]
    assert pd.isna(density["data_value"])
    assert "2.0 km" in density["note"] and "0.50 km/km²" in density["note"]  # 2 km over 4 km²
    assert not _row(table, "老旧小区综合改造")["answerable"]
