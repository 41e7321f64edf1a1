"""One look for one thing: the web maps, the PNG maps and the QGIS styles draw a project alike.

For every category, status and geometry the schema allows, the Leaflet options
of the web map (``_style.path_style`` / ``point_style``), the matplotlib artists
the PNG map draws (``plots._draw_projects``) and the QGIS symbol of the QML
(``qgis_styles``) must give the same colour, the same fill opacity, and the same
line pattern: solid, dashed (dashes longer than gaps) or dotted.
"""

import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from shapely import LineString, Point, box

from gongshu_geo.data.schema import CATEGORIES, STATUSES
from gongshu_geo.exchange.qgis import styles as qgis_styles
from gongshu_geo.maps import static as plots
from gongshu_geo.maps import style as _style

FAMILY_OF = {
    "Point": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}
GEOMETRY = {
    "point": Point(0, 0),
    "line": LineString([(0, 0), (10, 0)]),
    "polygon": box(0, 0, 10, 10),
}
CASES = sorted(
    {
        (category, status, FAMILY_OF[geom])
        for category, (_zh, _prefix, geoms) in CATEGORIES.items()
        for geom in geoms
        for status in STATUSES
    }
)


def _rgb(hex_colour):
    value = hex_colour.lstrip("#")
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def _kind(on_off):
    """``"solid"``, ``"dashed"`` or ``"dotted"`` for a dash pattern (None = solid)."""
    if not on_off:
        return "solid"
    on, off = float(on_off[0]), float(on_off[1])
    return "dashed" if on > off else "dotted"


def _web(category, status, family):
    style = (
        _style.point_style(category, status)
        if family == "point"
        else _style.path_style(category, status, fill=family == "polygon")
    )
    dash = style.get("dashArray")
    return {
        "line": _rgb(style["color"]),
        "fill": _rgb(style["fillColor"]),
        "fill_alpha": style["fillOpacity"] if style.get("fill", True) else 0.0,
        "pattern": _kind(dash.split() if dash else None),
    }


def _qml(category, status, family):
    """What the QML holds for this project, read back from the XML."""
    document = qgis_styles.qml_document(qgis_styles.project_renderer(category, family, [status]))
    root = ET.fromstring(document.split("\n", 1)[1])
    (category_node,) = root.iter("category")
    assert category_node.get("value") == status
    layers = {}
    for layer in root.iter("layer"):
        options = {o.get("name"): o.get("value") for o in layer.iter("Option") if o.get("name")}
        layers[layer.get("class")] = options

    def rgba(text):
        r, g, b, a = (int(v) for v in text.split(","))
        return (r, g, b), a / 255

    if family == "point":
        marker = layers["SimpleMarker"]
        fill, alpha = rgba(marker["color"])
        line, _ = rgba(marker["outline_color"])
        style = marker["outline_style"]
        pattern = {"solid": "solid", "dash": "dashed", "dot": "dotted"}[style]
    else:
        stroke = layers["SimpleLine"]
        line, _ = rgba(stroke["line_color"])
        dash = stroke.get("customdash") if stroke.get("use_custom_dash") == "1" else None
        pattern = _kind(dash.split(";") if dash else None)
        if family == "polygon":
            fill, alpha = rgba(layers["SimpleFill"]["color"])
        else:
            fill, alpha = line, 0.0
    return {"line": line, "fill": fill, "fill_alpha": alpha, "pattern": pattern}


def _png(category, status, family):
    """What the PNG map draws for this project, read from matplotlib's artists."""
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    rows = gpd.GeoDataFrame({"status": [status]}, geometry=[GEOMETRY[family]])
    plots._draw_projects(ax, rows, category, status, family)
    (artist,) = ax.collections
    (offset, dashes), *_ = artist.get_linestyle()
    edge = to_rgba(artist.get_edgecolor()[0])
    face = to_rgba(artist.get_facecolor()[0]) if family != "line" else edge
    return {
        "line": tuple(round(v * 255) for v in edge[:3]),
        "fill": tuple(round(v * 255) for v in face[:3]),
        "fill_alpha": face[3] if family != "line" else 0.0,
        "pattern": _kind(dashes),
    }


@pytest.mark.parametrize(("category", "status", "family"), CASES)
def test_web_png_and_qml_draw_a_project_alike(category, status, family):
    web, qml, png = (
        _web(category, status, family),
        _qml(category, status, family),
        _png(category, status, family),
    )
    colour = _rgb(_style.CATEGORY_STYLE[category][0])
    assert web["line"] == qml["line"] == png["line"] == colour
    assert web["pattern"] == qml["pattern"] == png["pattern"]
    assert web["fill"] == qml["fill"] == png["fill"]
    if family == "polygon":
        assert qml["fill_alpha"] == pytest.approx(web["fill_alpha"], abs=1 / 255)
        assert png["fill_alpha"] == pytest.approx(web["fill_alpha"])
    elif family == "point":
        assert qml["fill_alpha"] == pytest.approx(web["fill_alpha"], abs=1 / 255)


@pytest.mark.parametrize(
    ("status", "pattern"),
    [
        ("existing", "solid"),
        ("completed", "solid"),
        ("under_construction", "dashed"),
        ("planned", "dotted"),
    ],
)
def test_status_patterns_are_the_documented_ones(status, pattern):
    # _style's table: under construction dashed "8 4", planned dotted "2 5" (issue 12
    # found QGIS drawing the reverse)
    for family in ("line", "polygon"):
        assert _qml("road" if family == "line" else "park", status, family)["pattern"] == pattern


def test_future_communities_are_blue_everywhere():
    # issue 12: QGIS drew them orange while the web and PNG maps drew them blue
    blue = (0x15, 0x65, 0xC0)
    for family in ("point", "polygon"):
        for look in (_web, _qml, _png):
            assert look("future_community", "planned", family)["line"] == blue


def test_service_area_and_gap_symbols_follow_the_web_styles():
    for index in range(3):
        web = _style.service_area_style(index)
        root = ET.fromstring(ET.tostring(qgis_styles.service_area_renderer("polygon", index)))
        fill = next(o.get("value") for o in root.iter("Option") if o.get("name") == "color")
        *rgb, alpha = (int(v) for v in fill.split(","))
        assert tuple(rgb) == _rgb(web["fillColor"]) == _rgb(_style.TIER_COLOURS[index])
        assert alpha == round(web["fillOpacity"] * 255) == 51
    root = ET.fromstring(ET.tostring(qgis_styles.gap_renderer("polygon")))
    options = {o.get("name"): o.get("value") for o in root.iter("Option") if o.get("name")}
    assert options["line_color"].startswith(",".join(map(str, _rgb(_style.GAP_COLOUR))))
    # "4 3" px at 96 dpi is 1.058;0.794 mm: dashes longer than gaps
    assert options["customdash"] == "1.058;0.794"


def test_stacked_layers_of_the_geopackage_are_outlines_only():
    # every facility layer and tier lie on top of each other in service_areas and gaps:
    # any fill adds up to an opaque cover (the "solid red district" of issue 17)
    import pandas as pd

    areas = pd.DataFrame({"minutes": [5.0, 10.0, 15.0]})
    for theme, frame in (("service_areas", areas), ("gaps", areas)):
        root = ET.fromstring(ET.tostring(qgis_styles.layer_renderer(theme, frame, "polygon")))
        fills = [layer for layer in root.iter("layer") if layer.get("class") == "SimpleFill"]
        assert fills
        for layer in fills:
            options = {o.get("name"): o.get("value") for o in layer.iter("Option")}
            assert options["style"] == "no"
            assert options["color"].endswith(",0")
