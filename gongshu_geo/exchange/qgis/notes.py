"""The notes of a QGIS project: tile datums, sources, accuracy, street provenance, CRS, tiers.

Every figure in them comes from the data the project shows (the projects'
``location_accuracy_m``, the streets' provenance columns, the service areas'
distances), so a project of the user's own data says what is true of it.
"""

from __future__ import annotations

import re

from gongshu_geo.core import crs as _crs
from gongshu_geo.exchange.qgis.xml import QgisLayer, layer_id

_XYZ_CRS = "EPSG:3857"
_DATUM_ZH = {
    _crs.WGS84: "WGS 84（EPSG:4326）",
    _crs.CGCS2000: "CGCS2000 经纬度（EPSG:4490）",
    _crs.METRIC: "CGCS2000 / 3-degree Gauss-Kruger CM 120E（EPSG:4549）",
}


def basemap_layers(overlay_crs: str) -> list:
    """Return the OpenStreetMap and AMap tile layers, off, with notes on their datums."""
    from urllib.parse import quote

    from gongshu_geo.maps.basemaps import get_basemap

    gcj = overlay_crs == _crs.GCJ02
    offset = "，与本项目数据偏移约 500 m"
    amap_note = "高德瓦片为 GCJ-02 坐标（国测局加偏），在拱墅区与 WGS 84 / CGCS2000 相差约 500 m。"
    amap_note += (
        "本项目的图层以 GCJ-02 导出，与此底图对齐。"
        if gcj
        else "本项目的图层为 WGS 84，叠在此底图上会整体偏移约 500 m；要对齐，请用 "
        "gongshu-geo export --format qgz --crs GCJ-02 导出。"
    )
    amap_note += " AMap tiles are GCJ-02, about 500 m off WGS 84 here: the overlays line up " + (
        "because they were exported in GCJ-02." if gcj else "only when exported in GCJ-02."
    )
    osm_note = "OpenStreetMap 瓦片为 WGS 84，" + (
        "本项目的图层为 GCJ-02，与此底图偏移约 500 m。" if gcj else "与本项目的图层对齐。"
    )
    layers = []
    for name, title, note in (
        ("osm", "OpenStreetMap 底图 (WGS 84)" + (offset if gcj else ""), osm_note),
        ("amap", "高德 AMap 底图 (GCJ-02)" + ("" if gcj else offset), amap_note),
    ):
        bm = get_basemap(name)
        url = bm.tiles_url.replace("{s}", bm.subdomains[0] if bm.subdomains else "")
        source = f"type=xyz&url={quote(url, safe=':/{}')}&zmax={bm.max_zoom}&zmin=0"
        layers.append(
            QgisLayer(
                layer_id(f"basemap:{name}"),
                title,
                source,
                provider="wms",
                crs=_XYZ_CRS,
                abstract=f"{note} {_html_free(bm.attribution)}",
                checked=False,
                raster=True,
            )
        )
    return layers


def _html_free(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text or "").replace("&copy;", "©").strip()


def project_notes(project_frames, streets_frame, overlay_crs, coverage) -> dict:
    """Source, accuracy and CRS notes for the layouts and the metadata, from the data itself."""
    import numpy as np
    import pandas as pd

    accuracy = pd.concat(
        [pd.to_numeric(f.get("location_accuracy_m"), errors="coerce") for f in project_frames]
        or [pd.Series(dtype=float)]
    ).dropna()
    n_projects = int(sum(len(f) for f in project_frames))
    if len(accuracy):
        acc = (
            f"项目位置精度（location_accuracy_m）：中位数 {np.median(accuracy):,.0f} m，"
            f"最大 {accuracy.max():,.0f} m；每个项目的位置来源见 location_source 字段。"
        )
        acc_en = (
            f"Project positions: median accuracy {np.median(accuracy):,.0f} m, "
            f"worst {accuracy.max():,.0f} m."
        )
    else:
        acc, acc_en = "项目位置精度未注明。", "Position accuracy not stated."
    streets_note, streets_en = _streets_note(streets_frame)
    datum = (
        "数据坐标为 GCJ-02（由 WGS 84 加偏，仅与高德等国内网络地图对齐）。"
        if overlay_crs == _crs.GCJ02
        else f"数据坐标 {_DATUM_ZH.get(overlay_crs, overlay_crs)}。"
    )
    crs_note = (
        f"{datum}项目坐标系 CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549)，单位米。"
        "WGS 84 与 CGCS2000 (EPSG:4490) 在本区相差仅厘米级，本图比例尺下可视为一致。"
    )
    crs_en = (
        "Map CRS EPSG:4549 (CGCS2000 / 3-degree GK CM 120E, metres). WGS 84 and CGCS2000 "
        "differ by centimetres here, which no map at this scale can show."
    )
    source = (
        "资料来源：《杭州市拱墅区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》"
        f"（2022 年更新）所列项目 {n_projects} 个，由 gongshu-geo 定位整理。"
    )
    return {
        "source": source,
        "accuracy": acc,
        "streets": streets_note,
        "crs": crs_note,
        "english": f"{acc_en} {streets_en} {crs_en}",
        "tiers": _tier_note(coverage),
    }


def _streets_note(streets) -> tuple[str, str]:
    """Say what the street boundaries are, from the layer's own provenance columns."""
    import pandas as pd

    if streets is None:
        return "", ""
    columns = set(streets.columns)
    approximate = "geometry_approximate" in columns and bool(
        streets["geometry_approximate"].fillna(False).astype(bool).any()
    )
    accuracy = (
        pd.to_numeric(streets["location_accuracy_m"], errors="coerce").max()
        if "location_accuracy_m" in columns
        else float("nan")
    )
    if approximate:
        zh, en = (
            "街道界线为近似划分，并非官方界线",
            "Street boundaries are approximate, not official",
        )
    elif "geometry_source" in columns:
        zh = "街道界线取自公开数据并拟合到区界（来源见 geometry_source 字段），并非官方界线"
        en = "Street boundaries come from public data fitted to the outline, not official lines"
    else:
        return "街道界线来自用户提供的数据。", "Street boundaries are the user's own data."
    if accuracy == accuracy:
        zh += f"，精度约 {accuracy:,.0f} m"
        en += f" (about {accuracy:,.0f} m)"
    return zh + "。", en + "."


def _tier_note(coverage) -> dict:
    notes = {}
    for cov in coverage:
        parts = [
            f"{m:g} 分钟 {d:,.0f} m" if d == d and d else f"{m:g} 分钟"
            for m, d in sorted(cov.distances_m.items())
        ]
        how = "步行网络距离" if cov.mode == "network" else "直线距离"
        note = f"服务半径（GB 50180-2018 社区生活圈，{how}）：" + "，".join(parts) + "。"
        if cov.baseline != "complete":
            state = "不完整" if cov.baseline == "partial" else "完整性未知"
            note += f"现状设施{state}：数据中没有的现状设施未计入，未覆盖不等于实际无设施。"
        notes[cov.facility] = note
    return notes
