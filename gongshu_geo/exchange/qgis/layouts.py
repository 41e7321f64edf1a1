"""A3 print layouts of the QGIS project: the plan's projects, and each facility layer's coverage.

Every sheet is A3 portrait (the district is taller than wide) with a title and
subtitle, the map at a round scale that holds the whole district, a north arrow
and a scale bar on the map (labels keep clear of both), the legend of exactly
the layers the map shows, the data sources with the accuracy of the positions
and street boundaries, the CRS, and the print date (a QGIS expression, filled in
when the sheet is exported). Each map follows a map theme of the project, so
the sheet does not change when the user switches layers on and off.
"""

from __future__ import annotations

import math
import uuid
import xml.etree.ElementTree as ET

from gongshu_geo.exchange.qgis.labels import LABEL_FONT

#: Page size in millimetres (A3 portrait).
PAGE_MM = (297.0, 420.0)
#: The map frame: x, y, width, height in millimetres.
MAP_MM = (10.0, 34.0, 277.0, 300.0)
#: Round scales a map is set to (the smallest that holds the district is used).
_NICE = (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8)

# QgsLayoutItemRegistry item types
_PAGE, _MAP, _PICTURE, _LABEL, _LEGEND, _SCALEBAR = 65638, 65639, 65640, 65641, 65642, 65646
# Qt alignment flags
_LEFT, _RIGHT, _HCENTER, _TOP, _VCENTER = 1, 2, 4, 32, 128
#: The north arrow: an SVG that ships with QGIS, found on its SVG search path.
NORTH_ARROW_SVG = "arrows/NorthArrow_02.svg"
#: Background of the map frame.
MAP_BACKGROUND = "250,250,247,255"
#: Layout name of the overview sheet.
OVERVIEW_LAYOUT = "拱墅区规划项目总图 A3"


def nice_scale(extent, frame_mm=MAP_MM[2:], *, margin: float = 0.04) -> int:
    """Return the smallest round scale at which ``extent`` (metres) fits the frame with a margin."""
    xmin, ymin, xmax, ymax = extent
    need = max(
        (xmax - xmin) * (1 + 2 * margin) / (frame_mm[0] / 1000.0),
        (ymax - ymin) * (1 + 2 * margin) / (frame_mm[1] / 1000.0),
    )
    power = 10 ** math.floor(math.log10(need))
    for step in (*_NICE, 10):
        if step * power >= need:
            return int(round(step * power))
    return int(round(10 * power))


def map_extent(extent, scale: float, frame_mm=MAP_MM[2:]) -> tuple:
    """Return the extent (metres) a frame shows at ``scale``, centred on ``extent``."""
    cx, cy = (extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2
    half_w, half_h = frame_mm[0] * scale / 2000.0, frame_mm[1] * scale / 2000.0
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _uuid(*parts) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts)))) + "}"


def _colour(parent, tag, rgba: str) -> None:
    r, g, b, a = rgba.split(",")
    ET.SubElement(parent, tag, red=r, green=g, blue=b, alpha=a)


def _font(size: float, *, bold: bool = False, italic: bool = False) -> str:
    return f"{LABEL_FONT},{size:g},-1,5,{75 if bold else 50},{1 if italic else 0},0,0,0,0"


def _item(parent, kind, uid, item_id, box, *, z, frame=False, background=False, **attrs):
    x, y, w, h = box
    node = ET.SubElement(
        parent,
        "LayoutItem",
        type=str(kind),
        uuid=uid,
        templateUuid=uid,
        id=item_id,
        position=f"{x:g},{y:g},mm",
        positionOnPage=f"{x:g},{y:g},mm",
        size=f"{w:g},{h:g},mm",
        zValue=str(z),
        visibility="1",
        frame="true" if frame else "false",
        background="true" if background else "false",
        outlineWidthM="0.3,mm",
        referencePoint="0",
        itemRotation="0",
        opacity="1",
        blendMode="0",
        excludeFromExports="0",
        positionLock="false",
        groupUuid="",
        **{k: str(v) for k, v in attrs.items()},
    )
    _colour(node, "FrameColor", "60,60,60,255")
    _colour(node, "BackgroundColor", "255,255,255,255")
    return node


def _label(parent, uid, item_id, box, text, *, size, z, bold=False, halign=_LEFT, colour="0,0,0"):
    node = _item(
        parent,
        _LABEL,
        uid,
        item_id,
        box,
        z=z,
        labelText=text,
        htmlState="0",
        halign=halign,
        valign=_TOP,
        marginX="0",
        marginY="0",
    )
    ET.SubElement(node, "LabelFont", description=_font(size, bold=bold), style="")
    _colour(node, "FontColor", f"{colour},255")
    return node


def _legend_tree(parent, groups) -> None:
    from gongshu_geo.exchange.qgis.xml import tree_group_element, tree_layer_element

    tree = ET.SubElement(parent, "layer-tree-group")
    for name, layers in groups:
        group = tree_group_element(name)
        tree.append(group)
        for layer in layers:
            group.append(tree_layer_element(layer, checked=True))


def _legend(parent, uid, map_uid, box, groups, *, z, columns):
    node = _item(
        parent,
        _LEGEND,
        uid,
        "图例 legend",
        box,
        z=z,
        title="图例 Legend",
        map_uuid=map_uid,
        columnCount=str(columns),
        splitLayer="0",
        equalColumnWidth="0",
        columnSpace="4",
        boxSpace="1.5",
        symbolWidth="6",
        symbolHeight="3",  # compact rows: 13 categories' status classes fit below the map
        lineSpacing="0.3",
        wrapChar="",
        resizeToContents="1",
        titleAlignment=str(_LEFT),
        symbolAlignment=str(_LEFT),
        legendFilterByAtlas="0",
        rasterBorder="0",
        fontColor="#1e1e1e",
    )
    styles = ET.SubElement(node, "styles")
    for name, size, bold, margin in (
        ("title", 9, True, ("marginBottom", "1.5")),
        ("group", 7.5, True, ("marginTop", "1.5")),
        ("subgroup", 6.5, True, ("marginTop", "1")),
        ("symbol", 6, False, ("marginTop", "0.1")),
        ("symbolLabel", 6, False, ("marginTop", "0.1")),
    ):
        style = ET.SubElement(node.find("styles"), "style", name=name, alignment=str(_LEFT))
        style.set(*margin)
        if name == "symbolLabel":
            style.set("marginLeft", "1.5")
        ET.SubElement(style, "styleFont", description=_font(size, bold=bold), style="")
    del styles
    _legend_tree(node, groups)
    return node


def _scale_bar(parent, uid, map_uid, box, *, z, scale):
    segment_km = 1 if scale <= 80_000 else 2
    node = _item(
        parent,
        _SCALEBAR,
        uid,
        "比例尺 scale bar",
        box,
        z=z,
        background=True,
        style="Single Box",
        mapUuid=map_uid,
        unitType="km",
        unitLabel="km",
        numMapUnitsPerScaleBarUnit="1",
        numUnitsPerSegment=str(segment_km),
        numSegments="4",
        numSegmentsLeft="0",
        numSubdivisions="1",
        segmentSizeMode="0",
        height="2",
        labelBarSpace="1.5",
        boxContentSpace="1.5",
        alignment="0",
        lineJoinStyle="miter",
        lineCapStyle="square",
        outlineWidth="0.3",
    )
    style = ET.SubElement(
        node,
        "text-style",
        fontFamily=LABEL_FONT,
        fontSize="7",
        fontSizeUnit="Point",
        textColor="0,0,0,255",
        textOpacity="1",
    )
    ET.SubElement(style, "text-buffer", bufferDraw="0")
    _colour(node, "fillColor", "40,40,40,255")
    _colour(node, "fillColor2", "255,255,255,255")
    _colour(node, "strokeColor", "40,40,40,255")
    return node


def _north_arrow(parent, uid, map_uid, box, *, z):
    return _item(
        parent,
        _PICTURE,
        uid,
        "指北针 north arrow",
        box,
        z=z,
        file=NORTH_ARROW_SVG,
        mode="0",
        resizeMode="0",
        anchorPoint="0",
        pictureRotation="0",
        northMode="0",
        northOffset="0",
        mapUuid=map_uid,
        svgFillColor="30,30,30,255",
        svgBorderColor="30,30,30,255",
        svgBorderWidth="0.2",
    )


def layout_element(
    name: str,
    *,
    theme: str,
    extent: tuple,
    title: str,
    subtitle: str,
    legend_groups: list,
    notes: list[str],
    legend_columns: int = 4,
) -> ET.Element:
    """One A3 layout: map following ``theme``, legend of ``legend_groups``, notes, date.

    Parameters
    ----------
    name : str
        The layout's name in QGIS's layout manager.
    theme : str
        The map theme the map follows.
    extent : tuple
        ``(xmin, ymin, xmax, ymax)`` in the project CRS (metres) the map must hold.
    legend_groups : list
        ``(group name, [QgisLayer, ...])`` shown in the legend.
    notes : list of str
        Lines of the source and accuracy note.
    """
    scale = nice_scale(extent)
    layout = ET.Element("Layout", name=name, units="mm", printResolution="300", worldFileMap="")
    pages = ET.SubElement(layout, "PageCollection")
    _item(pages, _PAGE, _uuid(name, "page"), "", (0, 0, *PAGE_MM), z=0, background=True)
    ET.SubElement(pages, "GuideCollection", visible="1")
    map_uid = _uuid(name, "map")
    arrow_uid, bar_uid = _uuid(name, "north"), _uuid(name, "scalebar")
    x, y, w, h = MAP_MM
    map_item = _item(
        layout,
        _MAP,
        map_uid,
        "地图 map",
        MAP_MM,
        z=1,
        frame=True,
        background=True,
        followPreset="true",
        followPresetName=theme,
        keepLayerSet="false",
        drawCanvasItems="false",
        mapRotation="0",
        labelMargin="0,mm",
        isTemporal="0",
        mapFlags="0",
    )
    map_item.find("BackgroundColor").attrib.update(
        dict(zip(("red", "green", "blue", "alpha"), MAP_BACKGROUND.split(","), strict=True))
    )
    xmin, ymin, xmax, ymax = map_extent(extent, scale)
    ET.SubElement(
        map_item,
        "Extent",
        xmin=f"{xmin:.3f}",
        ymin=f"{ymin:.3f}",
        xmax=f"{xmax:.3f}",
        ymax=f"{ymax:.3f}",
    )
    ET.SubElement(map_item, "LayerSet")
    blocking = ET.SubElement(map_item, "labelBlockingItems")
    for uid in (arrow_uid, bar_uid):
        ET.SubElement(blocking, "item", uuid=uid)
    title_box = (10, 8, 277, 12)
    _label(layout, _uuid(name, "title"), "标题 title", title_box, title, size=20, z=2, bold=True)
    _label(
        layout,
        _uuid(name, "subtitle"),
        "副标题 subtitle",
        (10, 22, 277, 8),
        f"{subtitle}　比例尺 1:{scale:,}".replace(",", " "),
        size=9.5,
        z=2,
        colour="60,60,60",
    )
    _north_arrow(layout, arrow_uid, map_uid, (x + w - 17, y + 4, 12, 18), z=5)
    _scale_bar(layout, bar_uid, map_uid, (x + 4, y + h - 14, 80, 10), z=5, scale=scale)
    _legend(
        layout,
        _uuid(name, "legend"),
        map_uid,
        (10, y + h + 4, 200, PAGE_MM[1] - (y + h + 4) - 8),
        legend_groups,
        z=3,
        columns=legend_columns,
    )
    _label(
        layout,
        _uuid(name, "notes"),
        "说明 notes",
        (214, y + h + 4, 73, PAGE_MM[1] - (y + h + 4) - 16),
        "\n".join(notes),
        size=6.5,
        z=2,
        colour="40,40,40",
    )
    _label(
        layout,
        _uuid(name, "date"),
        "日期 date",
        (214, PAGE_MM[1] - 12, 73, 5),
        "出图日期 Printed [% format_date(now(), 'yyyy-MM-dd') %]　gongshu-geo",
        size=6.5,
        z=2,
        colour="60,60,60",
    )
    return layout


def layouts_element(plan) -> ET.Element:
    """``<Layouts>``: the overview sheet, then one coverage sheet per facility layer."""
    from gongshu_geo.exchange.qgis.xml import (
        GROUP_BASE,
        GROUP_COVERAGE,
        GROUP_PROJECTS,
        OVERVIEW_THEME,
        coverage_theme_name,
    )

    node = ET.Element("Layouts")
    base = [layer for layer in (plan.district, plan.streets) if layer is not None]
    notes = [plan.notes[k] for k in ("source", "accuracy", "streets", "crs")]
    groups = [(GROUP_PROJECTS, plan.projects)] if plan.projects else []
    node.append(
        layout_element(
            OVERVIEW_LAYOUT,
            theme=OVERVIEW_THEME,
            extent=plan.extent,
            title=plan.title,
            subtitle="《拱墅区国民经济和社会发展第十四个五年规划》（2022 年更新）项目分布",
            legend_groups=groups + [(GROUP_BASE, base)],
            notes=notes,
        )
    )
    for cov in plan.coverage:
        coverage_layers = []
        if cov.gaps:
            coverage_layers.append(cov.gaps[max(cov.gaps)])
        coverage_layers += [cov.areas[m] for m in sorted(cov.areas)]
        groups = [(GROUP_COVERAGE, coverage_layers)]
        if cov.facility_layers:
            groups.insert(0, ("设施 Facilities", cov.facility_layers))
        tier_note = plan.notes["tiers"].get(cov.facility, "")
        node.append(
            layout_element(
                f"服务覆盖 {cov.title} A3",
                theme=coverage_theme_name(cov),
                extent=plan.extent,
                title=f"拱墅区{cov.title.split(' ')[0]}服务覆盖",
                subtitle=f"{cov.title}：5/10/15 分钟社区生活圈服务范围与未覆盖区域",
                legend_groups=groups + [(GROUP_BASE, base)],
                notes=[tier_note, *notes],
                legend_columns=3,
            )
        )
    return node
