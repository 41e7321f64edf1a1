"""QGIS layer styles (QML) for exported layers, stored in a GeoPackage's ``layer_styles``.

QGIS looks for a layer's default style in a ``layer_styles`` table inside the
GeoPackage itself (the table QGIS creates with "Save as default → Datasource
database"). Writing that table with QGIS's own schema makes every exported
layer open styled: project layers categorized by status in their category's
colour, with Chinese legend labels and field aliases.

The QML is generated here from the schema (no QGIS needed); only the elements
QGIS 3.x reads are written, and QGIS fills every other setting with its default.
"""

from __future__ import annotations

import logging
import sqlite3
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from .schema import STATUSES

logger = logging.getLogger(__name__)

#: category -> RGB colour of its features.
CATEGORY_COLORS = {
    "park": (51, 160, 44),
    "greenway": (120, 190, 60),
    "road": (90, 90, 90),
    "metro_line": (200, 30, 40),
    "metro_station": (200, 30, 40),
    "future_community": (230, 120, 20),
    "historic_district": (140, 80, 40),
    "cultural_venue": (150, 60, 170),
    "sports_venue": (30, 120, 200),
    "public_service": (0, 150, 150),
    "development_block": (240, 180, 0),
    "river": (40, 110, 220),
    "spoil_dock": (120, 120, 60),
}

#: status -> (fill opacity 0-255, outline style) so status reads at a glance.
STATUS_LOOK = {
    "planned": (60, "dash"),
    "under_construction": (140, "dot"),
    "completed": (220, "solid"),
    "existing": (110, "solid"),
}

_DEFAULT_COLOR = (100, 100, 100)
#: The categorized field of project layers.
STYLE_FIELD = "status"


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


def _rgba(rgb, alpha=255) -> str:
    return ",".join(str(v) for v in (*rgb, alpha))


def _options(parent, values: dict) -> None:
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(options, "Option", name=key, value=str(value), type="QString")


def _symbol(parent, name: str, family: str, rgb, *, alpha=255, outline="solid") -> None:
    kind = {"point": "marker", "line": "line", "polygon": "fill"}[family]
    symbol = ET.SubElement(
        parent, "symbol", name=name, type=kind, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    if family == "point":
        layer = ET.SubElement(
            symbol, "layer", {"class": "SimpleMarker"}, enabled="1", locked="0", pass_="0"
        )
        values = {
            "name": "circle",
            "color": _rgba(rgb, max(alpha, 160)),
            "outline_color": "35,35,35,255",
            "outline_style": outline,
            "outline_width": "0.3",
            "size": "3",
            "size_unit": "MM",
        }
    elif family == "line":
        layer = ET.SubElement(
            symbol, "layer", {"class": "SimpleLine"}, enabled="1", locked="0", pass_="0"
        )
        values = {
            "line_color": _rgba(rgb),
            "line_style": outline,
            "line_width": "0.8",
            "line_width_unit": "MM",
            "capstyle": "round",
            "joinstyle": "round",
        }
    else:
        layer = ET.SubElement(
            symbol, "layer", {"class": "SimpleFill"}, enabled="1", locked="0", pass_="0"
        )
        values = {
            "color": _rgba(rgb, alpha),
            "style": "solid" if alpha else "no",
            "outline_color": _rgba(rgb),
            "outline_style": outline,
            "outline_width": "0.5",
            "outline_width_unit": "MM",
        }
    _options(layer, values)


def _aliases(root, aliases: dict | None) -> None:
    if not aliases:
        return
    node = ET.SubElement(root, "aliases")
    for index, (field, label) in enumerate(aliases.items()):
        ET.SubElement(node, "alias", field=str(field), index=str(index), name=str(label))


def _document(renderer_builder, aliases) -> str:
    root = ET.Element("qgis", version="3.22.0", styleCategories="Symbology|Fields")
    renderer_builder(root)
    _aliases(root, aliases)
    body = ET.tostring(root, encoding="unicode").replace('pass_="0"', 'pass="0"')
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


def categorized_qml(
    family: str,
    field: str,
    categories: list[tuple],
    *,
    aliases: dict | None = None,
) -> str:
    """QML of a categorized renderer (QGIS ``categorizedSymbol``).

    Parameters
    ----------
    family : str
        ``"point"``, ``"line"`` or ``"polygon"``.
    field : str
        The attribute the categories are read from.
    categories : list of tuple
        ``(value, label, rgb, alpha, outline_style)`` per category.
    aliases : dict, optional
        Field name -> alias shown in QGIS's attribute table and forms.
    """

    def build(root):
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            type="categorizedSymbol",
            attr=field,
            forceraster="0",
            symbollevels="0",
            enableorderby="0",
        )
        cats = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for index, (value, label, rgb, alpha, outline) in enumerate(categories):
            ET.SubElement(
                cats,
                "category",
                value=str(value),
                label=str(label),
                symbol=str(index),
                render="true",
            )
            _symbol(symbols, str(index), family, rgb, alpha=alpha, outline=outline)

    return _document(build, aliases)


def single_qml(family: str, rgb, *, alpha: int = 0, outline: str = "solid", aliases=None) -> str:
    """QML of a single-symbol renderer (QGIS ``singleSymbol``), hollow polygons by default."""

    def build(root):
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            type="singleSymbol",
            forceraster="0",
            symbollevels="0",
            enableorderby="0",
        )
        symbols = ET.SubElement(renderer, "symbols")
        _symbol(symbols, "0", family, rgb, alpha=alpha, outline=outline)

    return _document(build, aliases)


def layer_qml(theme: str, frame, family: str, *, aliases: dict | None = None) -> str | None:
    """Return the default style (QML) of one exported layer, or None without geometry.

    Parameters
    ----------
    theme : str
        The layer's theme key from :func:`gongshu_geo.export.collect_layers`
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
    if theme.startswith("projects_") and STYLE_FIELD in frame.columns:
        category = theme[len("projects_") :]
        rgb = CATEGORY_COLORS.get(category, _DEFAULT_COLOR)
        present = set(frame[STYLE_FIELD].dropna())
        cats = []
        for status, label in STATUSES.items():
            if status in present:
                alpha, outline = STATUS_LOOK[status]
                cats.append((status, f"{label} {status}", rgb, alpha, outline))
        return categorized_qml(family, STYLE_FIELD, cats, aliases=aliases)
    if theme == "service_areas" and "minutes" in frame.columns:
        values = sorted(set(frame["minutes"].dropna()))
        cats = []
        for i, minutes in enumerate(values):
            shade = 200 - int(120 * i / max(len(values) - 1, 1))
            label = f"{minutes:g} 分钟 min" if isinstance(minutes, (int, float)) else str(minutes)
            cats.append((minutes, label, (40, shade, 120), 70, "solid"))
        return categorized_qml(family, "minutes", cats, aliases=aliases)
    if theme == "gaps":
        return single_qml(family, (220, 40, 40), alpha=120, aliases=aliases)
    if theme == "district":
        return single_qml(family, (20, 20, 20), outline="solid", aliases=aliases)
    return single_qml(family, (90, 90, 90), outline="dash", aliases=aliases)


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
