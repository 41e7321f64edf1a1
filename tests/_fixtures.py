"""Tiny hand-built frames for the map tests, with answers known by construction.

Three rectangular streets side by side tile a 0.09° x 0.06° district; there is
one project per category (its first allowed geometry type), plus one point park,
so 14 projects are drawn, one feature each.
"""

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, Polygon, box

from gongshu_geo.core import crs as gcrs
from gongshu_geo.data.schema import CATEGORIES, STATUSES

WEST, SOUTH, EAST, NORTH = 120.10, 30.28, 120.19, 30.34
STATION_LONLAT = (120.1512, 30.3203)
STATION_ID = "P-MSTN-001"
N_PROJECTS = len(CATEGORIES) + 1
STREET_CODES = ["330105901", "330105902", "330105903"]


def district():
    return gpd.GeoDataFrame(
        {"name": ["测试区"]}, geometry=[box(WEST, SOUTH, EAST, NORTH)], crs=gcrs.WGS84
    )


def streets():
    step = (EAST - WEST) / 3
    geoms = [box(WEST + i * step, SOUTH, WEST + (i + 1) * step, NORTH) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "street_code": STREET_CODES,
            "name": ["甲街道", "乙街道", "丙街道"],
            "name_en": ["Jia Subdistrict", "Yi Subdistrict", "Bing Subdistrict"],
            "population": [10000.0, 20000.0, float("nan")],
            "area_km2": [6.0, 6.0, 6.0],
        },
        geometry=geoms,
        crs=gcrs.WGS84,
    )


def _geometry(kind, i):
    x = WEST + 0.005 + 0.006 * i
    y = SOUTH + 0.01 + 0.003 * i
    if kind == "Point":
        return Point(x, y)
    if kind.endswith("LineString"):
        return LineString([(x, y), (x + 0.01, y + 0.004), (x + 0.02, y + 0.002)])
    return Polygon([(x, y), (x + 0.006, y), (x + 0.006, y + 0.004), (x, y + 0.004)])


def projects():
    statuses = list(STATUSES)
    rows, geoms = [], []
    for i, (category, (_label, prefix, kinds)) in enumerate(CATEGORIES.items()):
        fid = f"P-{prefix}-001"
        geom = Point(*STATION_LONLAT) if fid == STATION_ID else _geometry(kinds[0], i)
        rows.append(_row(fid, category, statuses[i % 4], i))
        geoms.append(geom)
    rows.append(_row("P-PARK-002", "park", "planned", 99, name="口袋公园<b>"))
    geoms.append(Point(WEST + 0.07, SOUTH + 0.05))
    rows[0]["target_area_m2"] = 12000.0
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=gcrs.WGS84)


def _row(fid, category, status, i, *, name=None):
    return {
        "id": fid,
        "name": name or f"{CATEGORIES[category][0]}{i}",
        "name_en": f"{category} {i}",
        "category": category,
        "subcategory": "test",
        "status": status,
        "period": "2021-2025",
        "plan_ref": f"第{i + 1}章 测试依据",
        "location_source": "hand-made fixture",
        "location_accuracy_m": 100 + i,
        "target_area_m2": float("nan"),
    }


def facilities():
    return gpd.GeoDataFrame(
        {"name": ["设施一", "设施二"]},
        geometry=[Point(120.115, 30.30), Point(120.175, 30.32)],
        crs=gcrs.WGS84,
    )


TIERS = {5: 400.0, 10: 800.0, 15: 1200.0}


def service_areas():
    metric = facilities().to_crs(gcrs.METRIC)
    rows, geoms = [], []
    for minutes, distance in TIERS.items():
        rows.append({"minutes": minutes, "distance_m": distance})
        geoms.append(metric.buffer(distance).union_all())
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=gcrs.METRIC).to_crs(gcrs.WGS84)


def gaps():
    areas = service_areas().to_crs(gcrs.METRIC)
    st = streets().to_crs(gcrs.METRIC)
    rows, geoms = [], []
    for minutes, area in zip(areas["minutes"], areas.geometry, strict=True):
        for code, geom in zip(st["street_code"], st.geometry, strict=True):
            rows.append({"street_code": code, "minutes": minutes})
            geoms.append(geom.difference(area))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=gcrs.METRIC).to_crs(gcrs.WGS84)


def coverage():
    rows = []
    for minutes in TIERS:
        for j, code in enumerate(STREET_CODES):
            share = [0.1, 0.0, 0.3][j] * minutes / 5
            rows.append(
                {
                    "street_code": code,
                    "minutes": minutes,
                    "covered_pop_share": share,
                    "covered_pop": share * 10000,
                }
            )
    return pd.DataFrame(rows)
