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
- **Styles and labels** from :mod:`gongshu_geo.exchange.qgis.styles` and
  :mod:`gongshu_geo.exchange.qgis.labels` (the same table as the web and PNG maps).
- **CRS** EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E), with a note in
  the project metadata on WGS 84 and CGCS2000.
- **Map themes and A3 print layouts** (:mod:`gongshu_geo.exchange.qgis.layouts`): the
  plan's projects, and the coverage of each facility layer.
"""

from __future__ import annotations

import logging
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.atomic import atomic_path
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import CATEGORIES
from gongshu_geo.exchange.qgis.labels import layer_labeling
from gongshu_geo.exchange.qgis.notes import basemap_layers, project_notes
from gongshu_geo.exchange.qgis.styles import (
    gap_renderer,
    geometry_family,
    layer_renderer,
    service_area_renderer,
)
from gongshu_geo.exchange.qgis.xml import (
    PROJECT_CRS,
    Coverage,
    ProjectPlan,
    QgisLayer,
    layer_id,
    project_element,
)
from gongshu_geo.maps.style import category_label

logger = logging.getLogger(__name__)

#: Title of the project and of its overview layout.
PROJECT_TITLE = "拱墅区规划项目总图"

_FAMILY_ORDER = ("point", "line", "polygon")
_FAMILY_ZH = {"point": "点", "line": "线", "polygon": "面"}
_SUFFIX = re.compile(r"_(point|line|polygon)$")


def write_qgis_project(
    gpkg,
    target=None,
    *,
    title: str = PROJECT_TITLE,
    overlay_crs: str = _crs.WGS84,
    baselines: dict | None = None,
    themes: dict | None = None,
) -> Path:
    """Write a QGIS project for a GeoPackage written by ``export_layers``.

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
    from gongshu_geo.exchange.qgis.layouts import layouts_element

    gpkg = Path(gpkg)
    target = Path(target) if target is not None else gpkg.with_suffix(".qgz")
    if target.suffix.lower() != ".qgz":
        raise InputError(_("{target}: a QGIS project file must end in .qgz").format(target=target))
    if not gpkg.is_file():
        raise InputError(_("{gpkg}: no such GeoPackage; export the layers first").format(gpkg=gpkg))
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
        _("wrote QGIS project %s: %d project layers, %d facility layers' coverage"),
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

    from gongshu_geo.maps import layers as _mapdata

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
                tables.append(QgisLayer(layer_id(name), name, source, checked=False))
            continue
        frame = _read(gpkg, name, geometry=theme in ("district", "streets"))
        layer = QgisLayer(
            layer_id(name),
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
            _(
                "{gpkg}: no district or streets layer; export with collect_layers() so "
                "the project has a map to show"
            ).format(gpkg=gpkg)
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
        basemaps=basemap_layers(overlay_crs),
        tables=tables,
        extent=extent,
        notes=project_notes(
            [f for *_x, f in projects], streets[1] if streets else None, overlay_crs, coverage
        ),
    )


def _aliases(columns) -> dict:
    from gongshu_geo.exchange.fields import FIELD_LABELS

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
                        layer_id(tag),
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
