"""The XML of a QGIS project: its layers, layer tree, map themes and metadata.

The data classes here describe a project before it is XML
(:class:`ProjectPlan`, filled in by :mod:`gongshu_geo.exchange.qgis.project`); the
functions turn them into the elements QGIS 3.22 reads. Only what QGIS needs is
written; it fills every other setting with its default.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from gongshu_geo.core import crs as _crs
from gongshu_geo.exchange.qgis.styles import QGIS_VERSION, aliases_element

#: The project's CRS: metres, as Chinese survey data for Hangzhou uses.
PROJECT_CRS = _crs.METRIC
#: Names of the top-level groups, top to bottom.
GROUP_PROJECTS, GROUP_COVERAGE, GROUP_BASE = "规划项目", "服务覆盖", "底图与边界"
#: Name of the overview map theme.
OVERVIEW_THEME = "规划项目总图"

_QGIS_GEOMETRY = {"point": "Point", "line": "Line", "polygon": "Polygon", None: "No geometry"}


def layer_id(name: str) -> str:
    """Return a stable QGIS layer id for a name: ASCII, unique, the same on every run."""
    safe = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return f"gg_{safe}_{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8]}"


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
