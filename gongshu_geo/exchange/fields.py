"""What every export format shares: field labels, layer titles, geometry families.

The format writers (:mod:`~gongshu_geo.exchange.export` and the GeoPackage,
File Geodatabase, GeoParquet, PostGIS and QGIS writers beside it) all label
fields and title layers from here, so that one layer reads the same in every
format.
"""

from __future__ import annotations

import logging

import geopandas as gpd

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import CATEGORIES
from gongshu_geo.exchange.qgis.styles import geometry_family

logger = logging.getLogger(__name__)

#: GeoPackage version written. GDAL >= 3.11 writes 1.4 by default, which
#: Debian 12's GDAL 3.6 (and so QGIS 3.22) opens with "may only be partially
#: supported"; 1.2 is what GDAL 3.6 itself writes and every reader since 2017 knows.
GPKG_VERSION = "1.2"
#: Default base name of the exported GeoPackage.
GPKG_NAME = "gongshu_geo"

#: Chinese labels of the exported fields (aliases in QGIS, the Shapefile alias table).
FIELD_LABELS = {
    "id": "项目编号",
    "name": "名称",
    "name_en": "英文名称",
    "category": "类别",
    "category_zh": "类别(中文)",
    "subcategory": "子类",
    "status": "状态",
    "status_zh": "状态(中文)",
    "period": "建设期",
    "plan_ref": "规划依据",
    "location_source": "位置来源",
    "location_accuracy_m": "位置精度(米)",
    "target_length_km": "目标长度(千米)",
    "target_area_m2": "目标面积(平方米)",
    "target_count": "目标数量",
    "street_code": "街道代码",
    "area_km2": "面积(平方千米)",
    "population": "常住人口",
    "minutes": "步行时间(分钟)",
    "distance_m": "距离(米)",
    "project_id": "项目编号",
    "street_name": "街道名称",
}

#: Human titles of the themes, used as layer descriptions.
THEME_TITLES = {
    "district": "拱墅区界 District outline",
    "streets": "街道 Streets (街道 boundaries)",
    "service_areas": "服务范围 Service areas",
    "gaps": "服务盲区 Coverage gaps",
}

FAMILIES = ("point", "line", "polygon")


def is_spatial(frame) -> bool:
    """Tell whether a table to export is a layer with geometries (or a plain table)."""
    return isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns


def crs_tag(crs) -> str:
    """Return the file-name suffix of an export CRS (none for WGS 84), e.g. ``_epsg4549``."""
    return "" if crs == _crs.WGS84 else "_" + crs.lower().replace(":", "").replace("-", "")


def datum_note(crs) -> str:
    """Say in words which datum an exported layer is in (and, for GCJ-02, why)."""
    if crs != _crs.GCJ02:
        return f"Coordinates in {crs} ({_crs.NAMED_CRS[crs]})."
    return (
        "Coordinates are GCJ-02 (AMap/Tencent web-map datum): WGS 84 shifted by about "
        "500 m by gongshu_geo.core.crs.to_gcj02. The file says EPSG:4326 because GCJ-02 has no "
        "EPSG code; do not overlay it on WGS 84 or CGCS2000 data."
    )


def layer_title(theme) -> str:
    """Bilingual title of a theme, e.g. ``规划项目：公园绿地 Plan projects (park)``."""
    if theme.startswith("projects_"):
        category = theme[len("projects_") :]
        return f"规划项目：{CATEGORIES.get(category, (category,))[0]} Plan projects ({category})"
    return THEME_TITLES.get(theme, theme)


def split_by_family(frame, name) -> dict:
    """Layer name -> rows, one per geometry family; suffixed only when mixed."""
    families = frame.geometry.geom_type.map(geometry_family)
    dropped = int(families.isna().sum())
    if dropped:
        logger.warning(
            _("%s: %d rows without a point, line or polygon geometry skipped"), name, dropped
        )
    present = [f for f in FAMILIES if (families == f).any()]
    if len(present) <= 1:
        return {name: (frame.loc[families.notna()], present[0] if present else None)}
    return {f"{name}_{f}": (frame.loc[families == f], f) for f in present}
