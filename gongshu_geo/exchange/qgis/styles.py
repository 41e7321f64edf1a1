"""QGIS layer styles (QML), derived from the style table of the web and PNG maps.

Every symbol here is translated from the Leaflet path options that
:mod:`gongshu_geo.maps.style` gives the web maps (:func:`~gongshu_geo.maps.style.path_style`,
:func:`~gongshu_geo.maps.style.point_style`, :data:`~gongshu_geo.maps.style.STREET_STYLE`, ...),
so the three looks cannot drift apart: a category has one colour, a status one
line pattern (*under construction* dashed ``8 4``, *planned* dotted ``2 5``) and
one fill opacity everywhere. CSS pixels become millimetres at 96 dpi.

The styles are used twice: as the default style of each GeoPackage layer
(QGIS's ``layer_styles`` table, read when a layer is added by hand) and inside
the QGIS project written by :mod:`gongshu_geo.exchange.qgis.project`. The QML is
generated from the schema (no QGIS needed); only the elements QGIS 3.x reads
are written, and QGIS fills every other setting with its default.
"""

from __future__ import annotations

import logging
import sqlite3
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from gongshu_geo.data.schema import STATUSES
from gongshu_geo.maps.style import (
    DISTRICT_STYLE,
    GAP_STYLE,
    POINT_RADIUS_PX,
    STREET_STYLE,
    path_style,
    point_style,
    service_area_style,
    status_label,
)

logger = logging.getLogger(__name__)

#: Millimetres per CSS pixel (96 dpi).
MM_PER_PX = 25.4 / 96
#: The categorized field of project layers.
STYLE_FIELD = "status"
#: QGIS version the documents declare.
QGIS_VERSION = "3.22.0"


def geometry_family(geom_type: str | None) -> str | None:
    """``"point"``, ``"line"`` or ``"polygon"`` for a geometry type name (None if unknown)."""
    if not geom_type:
        return None
    name = geom_type.lower().replace("multi", "")
    if name == "point":
        return "point"
    if name in ("linestring", "linearring"):
        return "line"
    if name == "polygon":
        return "polygon"
    return None


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """``(r, g, b)`` of a ``#rrggbb`` colour."""
    value = colour.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"expected a #rrggbb colour; found {colour!r}")
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def qgis_colour(colour: str, opacity: float = 1.0) -> str:
    """QGIS's ``"r,g,b,a"`` for a ``#rrggbb`` colour and an opacity from 0 to 1."""
    alpha = round(max(0.0, min(1.0, float(opacity))) * 255)
    return ",".join(str(v) for v in (*hex_rgb(colour), alpha))


def dash_pattern_mm(dash_array: str | None) -> tuple[float, ...] | None:
    """Convert a Leaflet ``dashArray`` (``"8 4"``, pixels) as QGIS dash lengths in millimetres."""
    if not dash_array:
        return None
    return tuple(round(float(v) * MM_PER_PX, 3) for v in str(dash_array).replace(",", " ").split())


def pen_style(dash_array: str | None) -> str:
    """Return the Qt pen style closest to a dash pattern, for outlines that take no custom dash.

    Dashes longer than their gaps are ``"dash"``, shorter ones ``"dot"``.
    """
    pattern = dash_pattern_mm(dash_array)
    if not pattern:
        return "solid"
    on, off = pattern[0], pattern[1] if len(pattern) > 1 else pattern[0]
    return "dash" if on > off else "dot"


def _mm(px) -> str:
    return f"{float(px) * MM_PER_PX:.3f}"


def _options(parent, values: dict) -> None:
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(options, "Option", name=key, value=str(value), type="QString")


def _symbol_layer(symbol, cls: str, values: dict) -> None:
    layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "locked": "0"})
    layer.set("pass", "0")
    _options(layer, values)


def _line_values(style: dict) -> dict:
    values = {
        "line_color": qgis_colour(style["color"], style.get("opacity", 1.0)),
        "line_style": "solid",
        "line_width": _mm(style.get("weight", 1)),
        "line_width_unit": "MM",
        "capstyle": "round",
        "joinstyle": "round",
    }
    pattern = dash_pattern_mm(style.get("dashArray"))
    if pattern:
        values.update(
            use_custom_dash="1",
            customdash=";".join(f"{v:g}" for v in pattern),
            customdash_unit="MM",
            capstyle="flat",
        )
    return values


def symbol_element(name: str, family: str, style: dict) -> ET.Element:
    """One QGIS symbol drawn as a Leaflet path with these options draws.

    Parameters
    ----------
    name : str
        The symbol's name inside its renderer (``"0"``, ``"1"``, ...).
    family : str
        ``"point"``, ``"line"`` or ``"polygon"``.
    style : dict
        Leaflet path options: ``color``, ``weight`` (px), ``opacity``,
        ``fillColor``, ``fillOpacity``, ``fill``, ``dashArray``, and for points
        ``radius`` (px, default :data:`~gongshu_geo.maps.style.POINT_RADIUS_PX`).
    """
    kind = {"point": "marker", "line": "line", "polygon": "fill"}[family]
    symbol = ET.Element(
        "symbol", name=name, type=kind, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    fill_colour = style.get("fillColor", style["color"])
    fill_opacity = style.get("fillOpacity", 0.2) if style.get("fill", True) else 0.0
    if family == "point":
        _symbol_layer(
            symbol,
            "SimpleMarker",
            {
                "name": "circle",
                "color": qgis_colour(fill_colour, fill_opacity),
                "outline_color": qgis_colour(style["color"], style.get("opacity", 1.0)),
                "outline_style": pen_style(style.get("dashArray")),
                "outline_width": _mm(style.get("weight", 1)),
                "outline_width_unit": "MM",
                "size": _mm(2 * style.get("radius", POINT_RADIUS_PX)),
                "size_unit": "MM",
            },
        )
    elif family == "line":
        _symbol_layer(symbol, "SimpleLine", _line_values(style))
    else:
        _symbol_layer(
            symbol,
            "SimpleFill",
            {
                "color": qgis_colour(fill_colour, fill_opacity),
                "style": "solid" if fill_opacity > 0 else "no",
                "outline_style": "no",
                "outline_width": "0",
            },
        )
        # a line layer draws the outline: a fill's own outline takes no custom dash
        _symbol_layer(symbol, "SimpleLine", _line_values(style))
    return symbol


def project_style(category: str, status: str, family: str) -> dict:
    """Return the Leaflet options the web map draws a project of this category and status with."""
    if family == "point":
        return point_style(category, status)
    return path_style(category, status, fill=family == "polygon")


def categorized_renderer(family: str, field: str, categories: list[tuple]) -> ET.Element:
    """Return a QGIS ``categorizedSymbol`` renderer.

    Parameters
    ----------
    family : str
        ``"point"``, ``"line"`` or ``"polygon"``.
    field : str
        The attribute the categories are read from.
    categories : list of tuple
        ``(value, label, style)`` per category, ``style`` as for :func:`symbol_element`.
    """
    renderer = ET.Element(
        "renderer-v2",
        type="categorizedSymbol",
        attr=field,
        forceraster="0",
        symbollevels="0",
        enableorderby="0",
    )
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for index, (value, label, style) in enumerate(categories):
        ET.SubElement(
            cats, "category", value=str(value), label=str(label), symbol=str(index), render="true"
        )
        symbols.append(symbol_element(str(index), family, style))
    return renderer


def single_renderer(family: str, style: dict) -> ET.Element:
    """Return a QGIS ``singleSymbol`` renderer."""
    renderer = ET.Element(
        "renderer-v2", type="singleSymbol", forceraster="0", symbollevels="0", enableorderby="0"
    )
    ET.SubElement(renderer, "symbols").append(symbol_element("0", family, style))
    return renderer


def minutes_label(minutes) -> str:
    """``"15 分钟 min"``."""
    if isinstance(minutes, (int, float)):
        return f"{float(minutes):g} 分钟 min"
    return str(minutes)


def project_renderer(category: str, family: str, statuses) -> ET.Element:
    """Projects of one category, categorized by status (in schema order)."""
    present = set(statuses)
    cats = [
        (status, status_label(status), project_style(category, status, family))
        for status in STATUSES
        if status in present
    ]
    return categorized_renderer(family, STYLE_FIELD, cats)


def service_area_renderer(family: str, tier_index: int, *, outline_only: bool = False):
    """One tier's service areas: the tier's colour, a faint fill (none when ``outline_only``)."""
    style = service_area_style(tier_index)
    if outline_only:
        style["fillOpacity"] = 0.0
    return single_renderer(family, style)


def gap_renderer(family: str, *, outline_only: bool = False) -> ET.Element:
    """Uncovered gaps: a dashed red outline over a faint fill (none when ``outline_only``)."""
    style = dict(GAP_STYLE)
    if outline_only:
        style["fillOpacity"] = 0.0
    return single_renderer(family, style)


def layer_renderer(theme: str, frame, family: str) -> ET.Element:
    """Return the renderer of a layer of the GeoPackage, by its theme.

    ``service_areas`` and ``gaps`` hold every facility layer and tier on top of
    each other, so their default styles are outlines only: any fill would add up
    to an opaque cover over the district. The QGIS project splits them into one
    layer per facility and tier, each with a faint fill.
    """
    if theme.startswith("projects_") and STYLE_FIELD in frame.columns:
        category = theme[len("projects_") :]
        return project_renderer(category, family, frame[STYLE_FIELD].dropna())
    if theme == "service_areas" and "minutes" in frame.columns:
        values = sorted(set(frame["minutes"].dropna()))
        cats = []
        for index, minutes in enumerate(values):
            style = service_area_style(index)
            style["fillOpacity"] = 0.0
            cats.append((minutes, minutes_label(minutes), style))
        return categorized_renderer(family, "minutes", cats)
    if theme == "gaps":
        return gap_renderer(family, outline_only=True)
    if theme == "district":
        return single_renderer(family, DISTRICT_STYLE)
    if theme == "streets":
        return single_renderer(family, STREET_STYLE)
    return single_renderer(family, {"color": "#5a5a5a", "weight": 1.5, "fillOpacity": 0.1})


def aliases_element(aliases: dict | None) -> ET.Element | None:
    """QGIS's ``<aliases>``: field name -> label."""
    if not aliases:
        return None
    node = ET.Element("aliases")
    for index, (field, label) in enumerate(aliases.items()):
        ET.SubElement(node, "alias", field=str(field), index=str(index), name=str(label))
    return node


def qml_document(renderer: ET.Element, *, aliases: dict | None = None, labeling=None) -> str:
    """Return a QML document holding a renderer, optionally labels and field aliases."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Labeling|Fields")
    root.append(renderer)
    if labeling is not None:
        root.append(labeling)
        root.set("labelsEnabled", "1")
    alias_node = aliases_element(aliases)
    if alias_node is not None:
        root.append(alias_node)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


def layer_qml(theme: str, frame, family: str, *, aliases: dict | None = None) -> str | None:
    """Return the default style (QML) of one exported layer, or None without geometry.

    Parameters
    ----------
    theme : str
        The layer's theme key from :func:`gongshu_geo.exchange.export.collect_layers`
        (``"projects_park"``, ``"streets"``, ...).
    frame : pandas.DataFrame
        The layer's rows (their values decide which categories are listed).
    family : str
        ``"point"``, ``"line"`` or ``"polygon"``.
    aliases : dict, optional
        Field name -> alias.
    """
    if family is None:
        return None
    from gongshu_geo.exchange.qgis.labels import layer_labeling

    renderer = layer_renderer(theme, frame, family)
    return qml_document(
        renderer, aliases=aliases, labeling=layer_labeling(theme, family, frame.columns)
    )


_STYLE_TABLE = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
    f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


def write_layer_styles(gpkg_path, styles: dict) -> int:
    """Store QML styles as the default styles of GeoPackage layers.

    Creates QGIS's ``layer_styles`` table (registered in ``gpkg_contents`` as
    an attributes table, so GDAL and QGIS see it) and inserts one row per
    layer, marked ``useAsDefault``.

    Parameters
    ----------
    gpkg_path : str or Path
        An existing GeoPackage (closed by every other writer).
    styles : dict
        Table name -> ``(qml, description)``.

    Returns
    -------
    int
        The number of styles written.
    """
    if not styles:
        return 0
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    con = sqlite3.connect(str(gpkg_path))
    try:
        with con:
            con.execute(_STYLE_TABLE)
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                "'QGIS layer styles (default style of each layer)', ?)",
                (now,),
            )
            for table, (qml, description) in styles.items():
                row = con.execute(
                    "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
                ).fetchone()
                geom_column = row[0] if row else ""
                con.execute(
                    "DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
                    (table, table),
                )
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                    "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
                    (table, geom_column, table, qml, description, now),
                )
    finally:
        con.close()
    logger.debug("%s: stored %d QGIS layer styles", gpkg_path, len(styles))
    return len(styles)
