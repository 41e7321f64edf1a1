"""QGIS labels (rule-based ``<labeling>``) for streets and projects.

- Streets: the Chinese name, always; the pinyin name (``name_en`` without its
  "Subdistrict" suffix) in a second rule that is off until the user ticks it,
  placed below the Chinese name so the two never collide.
- Projects: the Chinese name. Parks, future communities, historic districts,
  cultural and sports venues, public services and the spoil dock are named from
  the district scale (up to 1:100 000); metro stations, roads, lines, rivers and
  development blocks, which are many and close together, from 1:25 000.

QGIS's labelling engine never draws two labels over each other (no rule asks it
to "show all labels"), and street names go first: at the district scale a
project name that has no free room is left out instead of covering another.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

#: The font of every label (Noto Sans CJK, Debian's ``fonts-noto-cjk``); QGIS
#: substitutes the system's CJK font where it is missing.
LABEL_FONT = "Noto Sans CJK SC"
#: Categories named from the district scale on; the others only when zoomed in.
DISTRICT_SCALE_CATEGORIES = (
    "park",
    "future_community",
    "historic_district",
    "cultural_venue",
    "sports_venue",
    "public_service",
    "spoil_dock",
)
#: Most zoomed-out scale (denominator) at which project names show.
DISTRICT_SCALE = 100_000
#: The same for the crowded categories.
DETAIL_SCALE = 25_000
#: Pinyin of a street: its English name without the administrative suffix.
PINYIN_EXPRESSION = "regexp_replace(\"name_en\", '\\\\s*(Sub-?district|Street)$', '')"

# QgsPalLayerSettings.Placement
_AROUND_POINT, _OVER_POINT, _CURVED, _ORDERED_AROUND_POINT = "0", "1", "3", "6"


def _text_style(parent, field, *, expression, size, colour, bold=False, italic=False):
    style = ET.SubElement(
        parent,
        "text-style",
        fieldName=field,
        isExpression="1" if expression else "0",
        fontFamily=LABEL_FONT,
        fontSize=f"{size:g}",
        fontSizeUnit="Point",
        fontWeight="75" if bold else "50",
        fontItalic="1" if italic else "0",
        textColor=colour,
        textOpacity="1",
        multilineHeight="1",
        namedStyle="Bold" if bold else "Regular",
    )
    ET.SubElement(
        style,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.7",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="0.85",
        bufferNoFill="1",
        bufferJoinStyle="128",
    )


def label_settings(
    field: str,
    *,
    expression: bool = False,
    size: float = 7,
    colour: str = "40,40,40,255",
    bold: bool = False,
    italic: bool = False,
    placement: str = _ORDERED_AROUND_POINT,
    priority: int = 5,
    distance_mm: float = 0.8,
    y_offset_mm: float = 0,
    min_scale: float | None = None,
    z_index: float = 0,
) -> ET.Element:
    """One ``<settings>`` of QGIS's labelling (QgsPalLayerSettings).

    Parameters
    ----------
    field : str
        The field name, or an expression when ``expression`` is true.
    size : float
        Font size in points.
    placement : str
        QGIS placement code (``"1"`` over the centroid, ``"3"`` curved along a
        line, ``"6"`` cartographic around a point).
    priority : int
        0 (lowest) to 10: who wins when two labels want the same room.
    min_scale : float, optional
        The most zoomed-out scale denominator at which the labels show.
    """
    settings = ET.Element("settings", calloutType="simple")
    _text_style(
        settings, field, expression=expression, size=size, colour=colour, bold=bold, italic=italic
    )
    ET.SubElement(settings, "text-format", multilineAlign="3", wrapChar="")
    ET.SubElement(
        settings,
        "placement",
        placement=placement,
        priority=str(priority),
        dist=f"{distance_mm:g}",
        distUnits="MM",
        xOffset="0",
        yOffset=f"{y_offset_mm:g}",
        offsetUnits="MM",
        quadOffset="4",
        centroidInside="1",
        centroidWhole="0",
        fitInPolygonOnly="0",
        repeatDistance="0",
        maxCurvedCharAngleIn="25",
        maxCurvedCharAngleOut="-25",
        placementFlags="10",
        predefinedPositionOrder="TR,TL,BR,BL,R,L,TSR,BSR",
    )
    ET.SubElement(
        settings,
        "rendering",
        drawLabels="1",
        displayAll="0",
        obstacle="1",
        obstacleFactor="1",
        obstacleType="1",
        upsidedownLabels="0",
        labelPerPart="0",
        mergeLines="1",
        limitNumLabels="0",
        maxNumLabels="2000",
        minFeatureSize="0",
        fontLimitPixelSize="0",
        zIndex=f"{z_index:g}",
        scaleVisibility="1" if min_scale else "0",
        # QGIS's historical names: "scaleMax" holds the most zoomed-out scale (minimumScale)
        scaleMax=f"{min_scale:g}" if min_scale else "0",
        scaleMin="0",
        unplacedVisibility="0",
    )
    return settings


def rule_based_labeling(rules: list[tuple[str, ET.Element, bool]]) -> ET.Element:
    """QGIS rule-based labelling: ``(description, settings, active)`` per rule."""
    labeling = ET.Element("labeling", type="rule-based")
    root = ET.SubElement(labeling, "rules", key="{00000000-0000-0000-0000-000000000000}")
    for index, (description, settings, active) in enumerate(rules, start=1):
        rule = ET.SubElement(
            root,
            "rule",
            key=f"{{00000000-0000-0000-0000-{index:012d}}}",
            description=description,
        )
        if not active:
            rule.set("active", "0")
        rule.append(settings)
    return labeling


def street_labeling(columns) -> ET.Element | None:
    """Street names in Chinese, with pinyin as a second rule that is off."""
    columns = set(columns)
    if "name" not in columns:
        return None
    rules = [
        (
            "街道名称 Street name (中文)",
            label_settings(
                "name",
                size=9,
                colour="50,50,50,255",
                bold=True,
                placement=_OVER_POINT,
                priority=10,
                z_index=2,
            ),
            True,
        )
    ]
    if "name_en" in columns:
        rules.append(
            (
                "街道拼音 Street name (pinyin)",
                label_settings(
                    PINYIN_EXPRESSION,
                    expression=True,
                    size=6.5,
                    colour="80,80,80,255",
                    italic=True,
                    placement=_OVER_POINT,
                    priority=9,
                    y_offset_mm=4.6,
                    z_index=2,
                ),
                False,
            )
        )
    return rule_based_labeling(rules)


def project_labeling(category: str, family: str, columns) -> ET.Element | None:
    """Project names, from the district scale or only when zoomed in (see the module)."""
    if "name" not in set(columns):
        return None
    major = category in DISTRICT_SCALE_CATEGORIES
    placement = {"point": _ORDERED_AROUND_POINT, "line": _CURVED, "polygon": _OVER_POINT}[family]
    settings = label_settings(
        "name",
        size=6.5,
        colour="30,30,30,255",
        placement=placement,
        priority=6 if major else 3,
        min_scale=DISTRICT_SCALE if major else DETAIL_SCALE,
        z_index=1,
    )
    return rule_based_labeling([("项目名称 Project name", settings, True)])


def layer_labeling(theme: str, family: str | None, columns) -> ET.Element | None:
    """Return the labels of a GeoPackage layer by its theme (None when it has none)."""
    if family is None:
        return None
    if theme == "streets":
        return street_labeling(columns)
    if theme.startswith("projects_"):
        return project_labeling(theme[len("projects_") :], family, columns)
    return None
