"""A QGIS project (``.qgz``) beside an exported GeoPackage: groups, order, styles, labels, layouts.

The project is written as QGIS's own XML (a ``.qgs`` zipped into a ``.qgz``)
by this module, so users without QGIS still get it; QGIS 3.22 (Debian 12) and
later open it. Its layers point at the GeoPackage by a relative path, so the
folder can be moved or zipped as a whole.

What it holds:

- **Groups, top to bottom:** 规划项目 (one layer per category; points above
  lines above polygons), 服务覆盖 (a group per facility layer, one layer per
  tier of service area and of gap, cut from ``service_areas`` and ``gaps`` by
  subset filters), 底图与边界 (district outline, streets, and two XYZ tile
  layers: OpenStreetMap, and AMap with a note that it is GCJ-02).
- **Visibility:** the projects, streets and outline are on; every service area
  and gap is off except the 15-minute tier (the largest) of the first facility
  layer; the tile layers are off, so nothing waits for the network.
- **Styles and labels** from :mod:`gongshu_geo.qgis_styles` and
  :mod:`gongshu_geo.qgis_labels` (the same table as the web and PNG maps).
- **CRS** EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E), with a note in
  the project metadata on WGS 84 and CGCS2000.
- **Map themes and A3 print layouts** (:mod:`gongshu_geo.qgis_layouts`): the
  plan's projects, and the coverage of each facility layer.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import crs as _crs
from ._atomic import atomic_path
from ._errors import InputError
from ._style import category_label
from .qgis_labels import layer_labeling
from .qgis_styles import (
    QGIS_VERSION,
    aliases_element,
    gap_renderer,
    geometry_family,
    layer_renderer,
    service_area_renderer,
)
from .schema import CATEGORIES

logger = logging.getLogger(__name__)

#: The project's CRS: metres, as Chinese survey data for Hangzhou uses.
PROJECT_CRS = _crs.METRIC
#: Title of the project and of its overview layout.
PROJECT_TITLE = "拱墅区规划项目总图"
#: Names of the top-level groups, top to bottom.
GROUP_PROJECTS, GROUP_COVERAGE, GROUP_BASE = "规划项目", "服务覆盖", "底图与边界"
#: Name of the overview map theme.
OVERVIEW_THEME = "规划项目总图"

_FAMILY_ORDER = ("point", "line", "polygon")
_FAMILY_ZH = {"point": "点", "line": "线", "polygon": "面"}
_QGIS_GEOMETRY = {"point": "Point", "line": "Line", "polygon": "Polygon", None: "No geometry"}
_SUFFIX = re.compile(r"_(point|line|polygon)$")
_XYZ_CRS = "EPSG:3857"


@dataclass
class QgisLayer:
    """One layer of the project, ready to be written as a ``<maplayer>``."""

    id: str
    name: str
    source: str
    provider: str = "ogr"
    family: str | None = None
    crs: str = _crs.WGS84
    renderer: ET.Element | None = None
    labeling: ET.Element | None = None
    aliases: dict = field(default_factory=dict)
    abstract: str = ""
    checked: bool = True
    raster: bool = False


@dataclass
class Coverage:
    """The coverage layers of one facility layer: tier -> service-area layer, tier -> gap layer."""

    facility: str
    title: str
    areas: dict = field(default_factory=dict)
    gaps: dict = field(default_factory=dict)
    distances_m: dict = field(default_factory=dict)
    mode: str = "distance"
    baseline: str = "unknown"
    facility_layers: list = field(default_factory=list)


@dataclass
class ProjectPlan:
    """Everything the project holds, before it is turned into XML."""

    title: str
    district: QgisLayer | None
    streets: QgisLayer | None
    projects: list
    coverage: list
    basemaps: list
    tables: list
    extent: tuple
    notes: dict


def write_qgis_project(
    gpkg,
    target=None,
    *,
    title: str = PROJECT_TITLE,
    overlay_crs: str = _crs.WGS84,
    baselines: dict | None = None,
    themes: dict | None = None,
) -> Path:
    """Write a QGIS project for a GeoPackage written by :func:`gongshu_geo.export.export_layers`.

    Parameters
    ----------
    gpkg : str or Path
        The GeoPackage (its layers are read to choose styles, groups and extent).
    target : str or Path, optional
        The ``.qgz`` to write; by default beside ``gpkg`` with the same stem.
    title : str
        Title of the project and of the overview layout.
    overlay_crs : str
        The CRS the GeoPackage was exported in. ``"GCJ-02"`` marks the layers
        as shifted, so that the notes say the AMap tiles line up and the
        OpenStreetMap tiles do not.
    baselines : dict, optional
        Facility layer -> ``"complete"``, ``"partial"`` or ``"unknown"``: how
        complete its existing facilities are (gaps are named accordingly).
    themes : dict, optional
        GeoPackage layer name -> theme (``"projects_park"``, ``"streets"``,
        ...) for layers written under other names.

    Returns
    -------
    Path
        The ``.qgz`` written.
    """
    from .qgis_layouts import layouts_element

    gpkg = Path(gpkg)
    target = Path(target) if target is not None else gpkg.with_suffix(".qgz")
    if target.suffix.lower() != ".qgz":
        raise InputError(f"{target}: a QGIS project file must end in .qgz")
    if not gpkg.is_file():
        raise InputError(f"{gpkg}: no such GeoPackage; export the layers first")
    relative = Path(os.path.relpath(gpkg.resolve(), target.resolve().parent)).as_posix()
    plan = plan_project(
        gpkg,
        source_path=f"./{relative}" if not relative.startswith("..") else relative,
        title=title,
        overlay_crs=overlay_crs,
        baselines=baselines or {},
        themes=themes or {},
    )
    root = project_element(plan)
    root.append(layouts_element(plan))
    body = ET.tostring(root, encoding="unicode")
    document = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
    with atomic_path(target) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo(f"{target.stem}.qgs", date_time=(2022, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, document.encode("utf-8"))
    logger.info(
        "wrote QGIS project %s: %d project layers, %d facility layers' coverage",
        target,
        len(plan.projects),
        len(plan.coverage),
    )
    return target


# ---------------------------------------------------------------- reading the GeoPackage


def _theme_of(name: str, themes: dict) -> str:
    base = _SUFFIX.sub("", name)
    for candidate in (name, base):
        if candidate in themes:
            return themes[candidate]
    if base.startswith("projects_") and base[len("projects_") :] in CATEGORIES:
        return base
    return name


def _layer_id(name: str) -> str:
    safe = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return f"gg_{safe}_{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8]}"


def _read(gpkg, name, *, geometry=False):
    import pyogrio

    return pyogrio.read_dataframe(gpkg, layer=name, read_geometry=geometry)


def _layer_crs(gpkg, name) -> str:
    import pyogrio

    found = pyogrio.read_info(gpkg, layer=name).get("crs")
    return _crs.normalize_crs_name(found) if found else _crs.WGS84


def plan_project(
    gpkg, *, source_path: str, title: str, overlay_crs: str, baselines: dict, themes: dict
) -> ProjectPlan:
    """Read the GeoPackage and decide the project's layers, groups, extent and notes."""
    import pyogrio

    from . import _mapdata

    listed = pyogrio.list_layers(gpkg)
    district = streets = None
    projects, tables, area_layers, gap_layers = [], [], [], []
    for name, geom_type in listed:
        name = str(name)
        if name == "layer_styles":
            continue
        theme = _theme_of(name, themes)
        family = geometry_family(geom_type) if geom_type else None
        source = f"{source_path}|layername={name}"
        if family is None:
            if geom_type is None:
                tables.append(QgisLayer(_layer_id(name), name, source, checked=False))
            continue
        frame = _read(gpkg, name, geometry=theme in ("district", "streets"))
        layer = QgisLayer(
            _layer_id(name),
            name,
            source,
            family=family,
            crs=_layer_crs(gpkg, name),
            aliases=_aliases(frame.columns),
        )
        if theme == "district":
            layer.name = "区界 District boundary"
            layer.renderer = layer_renderer(theme, frame, family)
            district = (layer, frame)
        elif theme == "streets":
            layer.name = "街道 Streets"
            layer.renderer = layer_renderer(theme, frame, family)
            layer.labeling = layer_labeling(theme, family, frame.columns)
            streets = (layer, frame)
        elif theme.startswith("projects_"):
            category = theme[len("projects_") :]
            layer.renderer = layer_renderer(theme, frame, family)
            layer.labeling = layer_labeling(theme, family, frame.columns)
            split = _SUFFIX.search(name) is not None
            layer.name = category_label(category) + (f"（{_FAMILY_ZH[family]}）" if split else "")
            projects.append((category, layer, frame))
        elif theme == "service_areas" and family == "polygon":
            area_layers.append((layer, frame))
        elif theme == "gaps" and family == "polygon":
            gap_layers.append((layer, frame))
    if district is None and streets is None:
        raise InputError(
            f"{gpkg}: no district or streets layer; export with collect_layers() so the project "
            "has a map to show"
        )
    order = {c: i for i, c in enumerate(CATEGORIES)}
    projects.sort(key=lambda t: (_FAMILY_ORDER.index(t[1].family), order.get(t[0], 99)))
    coverage = _plan_coverage(
        area_layers, gap_layers, projects, baselines=baselines, gap_label=_mapdata.gap_label
    )
    outline = district[1] if district is not None else streets[1]
    extent = tuple(float(v) for v in outline.to_crs(PROJECT_CRS).total_bounds)
    return ProjectPlan(
        title=title,
        district=district[0] if district else None,
        streets=streets[0] if streets else None,
        projects=[layer for _c, layer, _f in projects],
        coverage=coverage,
        basemaps=_basemap_layers(overlay_crs),
        tables=tables,
        extent=extent,
        notes=_notes(
            [f for *_x, f in projects], streets[1] if streets else None, overlay_crs, coverage
        ),
    )


def _aliases(columns) -> dict:
    from .export import FIELD_LABELS

    return {c: FIELD_LABELS[c] for c in columns if c in FIELD_LABELS}


def _quote(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _plan_coverage(area_layers, gap_layers, projects, *, baselines, gap_label) -> list:
    """One :class:`Coverage` per facility layer, in the order the GeoPackage lists them."""
    import pandas as pd

    coverages: dict[str, Coverage] = {}
    for kind, layers in (("areas", area_layers), ("gaps", gap_layers)):
        for base, frame in layers:
            if not {"facility", "minutes"} <= set(frame.columns):
                continue
            for facility in pd.unique(frame["facility"].dropna()):
                facility = str(facility)
                if facility not in coverages:
                    name = category_label(facility) if facility in CATEGORIES else facility
                    coverages[facility] = Coverage(facility, name)
                cov = coverages[facility]
                cov.baseline = baselines.get(facility, cov.baseline)
                rows = frame[frame["facility"] == facility]
                tiers = sorted({float(m) for m in rows["minutes"].dropna()})
                for index, minutes in enumerate(tiers):
                    subset = f'"facility" = {_quote(facility)} AND "minutes" = {minutes:g}'
                    tag = f"{kind}:{facility}:{minutes:g}"
                    layer = QgisLayer(
                        _layer_id(tag),
                        "",
                        f"{base.source}|subset={subset}",
                        family="polygon",
                        crs=base.crs,
                        aliases=base.aliases,
                        checked=False,
                    )
                    if kind == "areas":
                        at = rows[rows["minutes"].astype(float) == minutes]
                        distance = (
                            float(at["distance_m"].max()) if "distance_m" in at.columns else None
                        )
                        cov.distances_m[minutes] = distance
                        if "mode" in at.columns and len(at):
                            cov.mode = str(at["mode"].iloc[0])
                        known = distance is not None and distance == distance
                        suffix = f" ({distance:,.0f} m)" if known else ""
                        layer.name = f"{minutes:g} 分钟服务范围 service area{suffix}"
                        layer.renderer = service_area_renderer("polygon", index)
                        cov.areas[minutes] = layer
                    else:
                        layer.name = f"{minutes:g} 分钟{gap_label(cov.baseline)}"
                        layer.renderer = gap_renderer("polygon")
                        cov.gaps[minutes] = layer
    for cov in coverages.values():
        cov.facility_layers = [layer for c, layer, _f in projects if c == cov.facility]
    ordered = list(coverages.values())
    if ordered and ordered[0].areas:
        ordered[0].areas[max(ordered[0].areas)].checked = True
    return ordered


def _basemap_layers(overlay_crs: str) -> list:
    from urllib.parse import quote

    from .basemaps import get_basemap

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
                _layer_id(f"basemap:{name}"),
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


def _notes(project_frames, streets_frame, overlay_crs, coverage) -> dict:
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
        else f"数据坐标 {overlay_crs}（{_crs.NAMED_CRS.get(overlay_crs, overlay_crs)}）。"
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


# ---------------------------------------------------------------- XML


def spatialrefsys(name: str) -> ET.Element:
    """QGIS's ``<spatialrefsys>`` for a CRS name (GCJ-02 is written as WGS 84, its label)."""
    from pyproj import CRS

    crs = CRS.from_user_input(_crs.WGS84 if name == _crs.GCJ02 else name)
    epsg = crs.to_epsg()
    node = ET.Element("spatialrefsys")
    for tag, text in (
        ("wkt", crs.to_wkt("WKT2_2019")),
        ("srid", str(epsg or 0)),
        ("authid", f"EPSG:{epsg}" if epsg else ""),
        ("description", crs.name),
        ("geographicflag", "true" if crs.is_geographic else "false"),
    ):
        ET.SubElement(node, tag).text = text
    return node


def _text(parent, tag, text) -> ET.Element:
    node = ET.SubElement(parent, tag)
    node.text = text
    return node


def maplayer_element(layer: QgisLayer) -> ET.Element:
    """Return the ``<maplayer>`` of one layer."""
    if layer.raster:
        node = ET.Element("maplayer", type="raster", hasScaleBasedVisibilityFlag="0")
    else:
        node = ET.Element(
            "maplayer",
            type="vector",
            geometry=_QGIS_GEOMETRY[layer.family],
            hasScaleBasedVisibilityFlag="0",
            labelsEnabled="1" if layer.labeling is not None else "0",
            readOnly="0",
            styleCategories="AllStyleCategories",
        )
    _text(node, "id", layer.id)
    _text(node, "datasource", layer.source)
    _text(node, "layername", layer.name)
    ET.SubElement(node, "srs").append(spatialrefsys(layer.crs))
    meta = ET.SubElement(node, "resourceMetadata")
    _text(meta, "type", "dataset")
    _text(meta, "title", layer.name)
    _text(meta, "abstract", layer.abstract)
    _text(node, "provider", layer.provider).set("encoding", "UTF-8")
    if layer.raster:
        pipe = ET.SubElement(node, "pipe")
        ET.SubElement(
            pipe,
            "rasterrenderer",
            type="singlebandcolordata",
            opacity="1",
            alphaBand="-1",
            band="1",
        )
        ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
        ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0")
        _text(node, "blendMode", "0")
        return node
    if layer.renderer is not None:
        node.append(layer.renderer)
    if layer.labeling is not None:
        node.append(layer.labeling)
    _text(node, "blendMode", "0")
    _text(node, "featureBlendMode", "0")
    _text(node, "layerOpacity", "1")
    aliases = aliases_element(layer.aliases)
    if aliases is not None:
        node.append(aliases)
    return node


def _checked(flag: bool) -> str:
    return "Qt::Checked" if flag else "Qt::Unchecked"


def tree_layer_element(layer: QgisLayer, *, checked: bool | None = None) -> ET.Element:
    """Return a ``<layer-tree-layer>`` node."""
    return ET.Element(
        "layer-tree-layer",
        id=layer.id,
        name=layer.name,
        source=layer.source,
        providerKey=layer.provider,
        checked=_checked(layer.checked if checked is None else checked),
        expanded="0" if layer.raster else "1",
    )


def tree_group_element(name: str, *, checked: bool = True, expanded: bool = True) -> ET.Element:
    """Return a ``<layer-tree-group>`` node."""
    return ET.Element(
        "layer-tree-group", name=name, checked=_checked(checked), expanded="1" if expanded else "0"
    )


def layer_tree(plan: ProjectPlan) -> list:
    """Return the tree: nested ``(group name, [children])`` and layers, top first."""
    coverage = [
        (
            f"{cov.title} 服务覆盖",
            [cov.gaps[m] for m in sorted(cov.gaps)] + [cov.areas[m] for m in sorted(cov.areas)],
        )
        for cov in plan.coverage
    ]
    base = [layer for layer in (plan.district, plan.streets) if layer is not None]
    tree = []
    if plan.projects:
        tree.append((GROUP_PROJECTS, list(plan.projects)))
    if coverage:
        tree.append((GROUP_COVERAGE, coverage))
    tree.append((GROUP_BASE, base + list(plan.basemaps)))
    return tree + list(plan.tables)


def _tree_xml(parent, items) -> None:
    for item in items:
        if isinstance(item, QgisLayer):
            parent.append(tree_layer_element(item))
        else:
            name, children = item
            group = tree_group_element(name, expanded=name != GROUP_COVERAGE)
            parent.append(group)
            _tree_xml(group, children)


def all_layers(plan: ProjectPlan) -> list:
    """Every layer of the project, in tree order (top first)."""
    out = []

    def walk(items):
        for item in items:
            if isinstance(item, QgisLayer):
                out.append(item)
            else:
                walk(item[1])

    walk(layer_tree(plan))
    return out


def map_themes(plan: ProjectPlan) -> dict:
    """Theme name -> visible layers, in tree order: the overview, then one per facility layer."""
    base = [layer for layer in (plan.district, plan.streets) if layer is not None]
    themes = {OVERVIEW_THEME: list(plan.projects) + base}
    for cov in plan.coverage:
        shown = list(cov.facility_layers)
        if cov.gaps:
            shown.append(cov.gaps[max(cov.gaps)])
        shown += [cov.areas[m] for m in sorted(cov.areas)]
        themes[coverage_theme_name(cov)] = shown + base
    return themes


def coverage_theme_name(cov: Coverage) -> str:
    """``"服务覆盖 · 地铁站点 Metro stations"``."""
    return f"{GROUP_COVERAGE} · {cov.title}"


def _group_paths(items, prefix="") -> dict:
    """Layer id -> the ``/``-joined names of the groups holding it."""
    paths = {}
    for item in items:
        if isinstance(item, QgisLayer):
            paths[item.id] = prefix
        else:
            name, children = item
            path = f"{prefix}/{name}" if prefix else name
            paths.update(_group_paths(children, path))
    return paths


def visibility_presets(plan: ProjectPlan) -> ET.Element:
    """``<visibility-presets>``: the map themes the print layouts follow."""
    node = ET.Element("visibility-presets")
    paths = _group_paths(layer_tree(plan))
    for name, layers in map_themes(plan).items():
        preset = ET.SubElement(
            node, "visibility-preset", name=name, **{"has-checked-group-info": "1"}
        )
        groups = set()
        for layer in layers:
            ET.SubElement(preset, "layer", id=layer.id, visible="1", style="default", expanded="1")
            parts = paths.get(layer.id, "").split("/")
            groups |= {"/".join(parts[: i + 1]) for i in range(len(parts)) if parts[0]}
        checked = ET.SubElement(preset, "checked-group-nodes")
        for group in sorted(groups):
            ET.SubElement(checked, "checked-group-node", id=group)
    return node


def _metadata(plan: ProjectPlan) -> ET.Element:
    meta = ET.Element("projectMetadata")
    _text(meta, "identifier", "gongshu-geo")
    _text(meta, "title", plan.title)
    _text(meta, "type", "project")
    _text(meta, "language", "zh-CN")
    _text(
        meta,
        "abstract",
        "\n".join(plan.notes[k] for k in ("source", "accuracy", "streets", "crs"))
        + "\n"
        + plan.notes["english"],
    )
    keywords = ET.SubElement(meta, "keywords", vocabulary="gmd:topicCategory")
    _text(keywords, "keyword", "planningCadastre")
    _text(meta, "author", "gongshu-geo")
    return meta


def _extent(parent, extent) -> None:
    node = ET.SubElement(parent, "extent")
    for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True):
        _text(node, tag, f"{value:.3f}")


def _padded(extent, share=0.04) -> tuple:
    xmin, ymin, xmax, ymax = extent
    dx, dy = (xmax - xmin) * share, (ymax - ymin) * share
    return (xmin - dx, ymin - dy, xmax + dx, ymax + dy)


def project_element(plan: ProjectPlan) -> ET.Element:
    """Return the ``<qgis>`` root without layouts."""
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=plan.title)
    ET.SubElement(root, "homePath", path="")
    _text(root, "title", plan.title)
    ET.SubElement(root, "projectCrs").append(spatialrefsys(PROJECT_CRS))
    tree = ET.SubElement(root, "layer-tree-group")
    _tree_xml(tree, layer_tree(plan))
    layers = ET.SubElement(root, "projectlayers")
    for layer in all_layers(plan):
        layers.append(maplayer_element(layer))
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _text(canvas, "units", "meters")
    _extent(canvas, _padded(plan.extent))
    _text(canvas, "rotation", "0")
    ET.SubElement(canvas, "destinationsrs").append(spatialrefsys(PROJECT_CRS))
    view = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    xmin, ymin, xmax, ymax = _padded(plan.extent)
    default = ET.SubElement(
        view,
        "DefaultViewExtent",
        xmin=f"{xmin:.3f}",
        ymin=f"{ymin:.3f}",
        xmax=f"{xmax:.3f}",
        ymax=f"{ymax:.3f}",
    )
    default.append(spatialrefsys(PROJECT_CRS))
    properties = ET.SubElement(root, "properties")
    # QGIS reads <projectCrs> only when this property says the project has a CRS
    srs = ET.SubElement(properties, "SpatialRefSys")
    _text(srs, "ProjectionsEnabled", "1").set("type", "int")
    paths = ET.SubElement(properties, "Paths")
    _text(paths, "Absolute", "false").set("type", "bool")
    measurement = ET.SubElement(properties, "Measurement")
    _text(measurement, "DistanceUnits", "meters").set("type", "QString")
    _text(measurement, "AreaUnits", "m2").set("type", "QString")
    root.append(visibility_presets(plan))
    root.append(_metadata(plan))
    return root
