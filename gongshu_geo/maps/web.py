"""Interactive web maps with folium (Leaflet): the only module that imports folium.

Every overlay is prepared for display the same way: simplified by
:data:`gongshu_geo.maps.layers.DISPLAY_SIMPLIFY_M` metres in EPSG:4549, shifted to GCJ-02 with
:func:`gongshu_geo.core.crs.to_gcj02` when (and only when) the basemap draws in
GCJ-02, and rounded to ``DISPLAY_DECIMALS`` decimals. The frames passed in
are never changed.

Styling (see :mod:`gongshu_geo.maps.style`): colour by category; solid outlines for
existing and completed projects (completed thicker and more strongly filled),
dashed for those under construction, dotted and hollow for planned ones.
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.elements import ElementAddToElement
from folium.template import Template

from gongshu_geo.analysis.timeline import YearSlider, year_range
from gongshu_geo.core.atomic import write_text_atomic
from gongshu_geo.core.deprecated import deprecated_alias
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.roles import check_roles, check_streets_frame
from gongshu_geo.data.schema import CATEGORIES, require_columns
from gongshu_geo.maps import assets as _assets
from gongshu_geo.maps import layers as _mapdata
from gongshu_geo.maps.basemaps import Basemap, get_basemap
from gongshu_geo.maps.style import (
    CATEGORY_STYLE,
    DISTRICT_STYLE,
    GAP_STYLE,
    POINT_RADIUS_PX,
    STREET_STYLE,
    category_label,
    class_colours,
    classify,
    coverage_value_column,
    path_style,
    point_style,
    service_area_style,
)

if TYPE_CHECKING:
    from gongshu_geo.analysis.access import DistanceSurface
    from gongshu_geo.analysis.siting import SiteChoice

logger = logging.getLogger(__name__)

#: Custom panes so points stay above lines and lines above polygons.
PANES = {"polygon": ("gsPolygons", 410), "line": ("gsLines", 420), "point": ("gsPoints", 430)}

# Only Leaflet, at the version folium asks for: no jQuery, Bootstrap or awesome-markers.
_LEAFLET_ONLY_JS = [(k, v) for k, v in folium.Map.default_js if k == "leaflet"]
_LEAFLET_ONLY_CSS = [(k, v) for k, v in folium.Map.default_css if k == "leaflet_css"]


class Legend(MacroElement):
    """A Leaflet control holding a legend written in HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create('div', 'gs-legend');
            div.innerHTML = {{ this.body|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, position: str = "bottomleft"):
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.position = position


class GongshuMap(folium.Map):
    """A :class:`folium.Map` that renders copies of itself when displayed.

    folium adds statements to a map each time it is rendered; displaying this
    map in a notebook leaves it untouched, so :func:`write_map` afterwards
    writes the same bytes as before.
    """

    def _repr_html_(self, **kwargs) -> str:
        return folium.Map._repr_html_(copy.deepcopy(self), **kwargs)


# ---------------------------------------------------------------- public maps


def make_overview_map(
    streets: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    district: gpd.GeoDataFrame,
    *,
    basemap="osm",
    tianditu_key: str | None = None,
    as_of: int | None = None,
) -> folium.Map:
    """All plan projects over the streets and the district outline.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        ``street_code``, ``name``, ``population``, ``area_km2`` and polygons.
    projects : geopandas.GeoDataFrame
        Validated projects (see :func:`gongshu_geo.read_projects`).
    district : geopandas.GeoDataFrame
        The district outline.
    basemap : str or Basemap
        See :mod:`gongshu_geo.maps.basemaps`; GCJ-02 basemaps shift every overlay.
    tianditu_key : str, optional
        Key for ``basemap="tianditu"``.
    as_of : int, optional
        The year the schedule slider starts at; by default it shows every project.

    Returns
    -------
    folium.Map
        One layer per category (named ``"公园绿地 Parks (n)"``), popups in
        Chinese, a legend, a layer control and, when the projects carry
        ``start_year``/``end_year``, a year slider (:mod:`gongshu_geo.analysis.timeline`).
    """
    check_roles("make_overview_map", streets, "streets, projects, district", projects=projects)
    require_columns(projects, ["id", "name", "category", "status"], "projects", geometry=True)
    require_columns(streets, ["street_code", "name"], "streets", geometry=True)
    bm = get_basemap(basemap, tianditu_key=tianditu_key)
    shown_district = _mapdata.display_frame(district, gcj02=bm.needs_gcj02, what="district")
    m = _base_map(bm, shown_district)
    _add_outline(m, shown_district)
    _add_streets(m, _mapdata.display_frame(streets, gcj02=bm.needs_gcj02, what="streets"))
    shown = _mapdata.display_frame(projects, gcj02=bm.needs_gcj02, what="projects")
    for category in CATEGORIES:
        rows = shown[shown["category"] == category]
        group = folium.FeatureGroup(name=f"{category_label(category)} ({len(rows)})", show=True)
        for kind, part in _mapdata.split_by_kind(rows).items():
            _project_layer(part, category, kind).add_to(group)
        group.add_to(m)
    Legend(_mapdata.overview_legend(bm.needs_gcj02)).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    years = year_range(projects)
    if years is not None:
        first, last = years
        if as_of is not None:
            as_of = min(max(int(as_of), first), last)
        YearSlider(first, last, as_of=as_of).add_to(m)
    logger.info(
        _("overview map: %d projects in %d categories on %s (%s)"),
        len(projects),
        shown["category"].nunique(),
        bm.name,
        bm.datum,
    )
    return m


def make_coverage_map(
    streets: gpd.GeoDataFrame,
    service_areas: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    *,
    facility: str,
    facilities: gpd.GeoDataFrame | None = None,
    basemap="osm",
    tianditu_key: str | None = None,
    baseline: str | None = None,
    surface: DistanceSurface | None = None,
    speed_m_per_min: float = 60.0,
) -> folium.Map:
    """5/10/15-minute service areas, uncovered gaps and a coverage choropleth.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street polygons with ``street_code`` and ``name``.
    service_areas : geopandas.GeoDataFrame
        ``minutes``, ``distance_m`` and polygons.
    gaps : geopandas.GeoDataFrame
        ``street_code``, ``minutes`` and the uncovered polygons.
    coverage : pandas.DataFrame
        ``street_code``, ``minutes`` and ``covered_pop_share`` (or
        ``covered_area_share``) between 0 and 1.
    facility : str
        The facility category (e.g. ``"park"``) or a free-text name.
    facilities : geopandas.GeoDataFrame, optional
        The facilities themselves, drawn as small circles.
    basemap, tianditu_key
        As for :func:`make_overview_map`.
    baseline : {"complete", "partial", "unknown"}, optional
        How complete the layer's existing facilities are (:func:`gongshu_geo.read_baseline`).
        Unless ``"complete"``, gaps are labelled as gaps *in this dataset* and the
        legend says why.
    surface : gongshu_geo.analysis.access.DistanceSurface, optional
        Add the accessibility surface: minutes to the nearest facility, an image
        layer inside the page (off at first; switch it on in the layer control),
        with its classes in the legend.
    speed_m_per_min : float
        Walking speed turning the surface's metres into minutes.

    Returns
    -------
    folium.Map
        The choropleth and gaps of the largest tier are shown; the others can
        be switched on in the layer control.
    """
    require_columns(streets, ["street_code", "name"], "streets", geometry=True)
    require_columns(service_areas, ["minutes", "distance_m"], "service_areas", geometry=True)
    require_columns(gaps, ["street_code", "minutes"], "gaps", geometry=True)
    require_columns(coverage, ["street_code", "minutes"], "coverage")
    value_column = coverage_value_column(coverage)
    bm = get_basemap(basemap, tianditu_key=tianditu_key)
    shown_streets = _mapdata.display_frame(streets, gcj02=bm.needs_gcj02, what="streets")
    m = _base_map(bm, shown_streets)
    tiers = sorted(
        {float(t) for t in service_areas["minutes"]} | {float(t) for t in coverage["minutes"]}
    )
    top = max(tiers) if tiers else None
    values = pd.to_numeric(coverage[value_column], errors="coerce")
    bins, method = classify(values.to_numpy())
    colours = class_colours(len(bins))
    for minutes in tiers:
        tier = coverage[coverage["minutes"].astype(float) == minutes]
        lookup = _mapdata.share_lookup(tier, value_column)
        group = folium.FeatureGroup(
            name=f"覆盖率 Coverage · {_mapdata.minutes_text(minutes)} 分钟 min", show=minutes == top
        )
        _choropleth_layer(
            shown_streets, lookup, bins, colours, "覆盖比例 share", percent=True
        ).add_to(group)
        group.add_to(m)
    _add_outline(m, shown_streets.dissolve())
    if surface is not None:
        _surface_layer(surface, speed_m_per_min, gcj02=bm.needs_gcj02).add_to(m)
    areas = _mapdata.display_frame(service_areas, gcj02=bm.needs_gcj02, what="service_areas")
    for i, minutes in enumerate(sorted(tiers, reverse=True)):
        rows = areas[areas["minutes"].astype(float) == minutes]
        distance = rows["distance_m"].max() if len(rows) else float("nan")
        name = f"{_mapdata.minutes_text(minutes)} 分钟服务范围 service area" + (
            f" ({distance:,.0f} m)" if np.isfinite(distance) else ""
        )
        group = folium.FeatureGroup(name=name, show=True)
        if len(rows):
            style = service_area_style(len(tiers) - 1 - i)
            _geojson(rows, [], style=lambda f, s=style: s, pane="polygon").add_to(group)
        group.add_to(m)
    shown_gaps = _mapdata.display_frame(gaps, gcj02=bm.needs_gcj02, what="gaps")
    for minutes in tiers:
        rows = shown_gaps[shown_gaps["minutes"].astype(float) == minutes]
        group = folium.FeatureGroup(
            name=f"{_mapdata.minutes_text(minutes)} 分钟{_mapdata.gap_label(baseline)}",
            show=minutes == top,
        )
        if len(rows):
            style = dict(GAP_STYLE)
            _geojson(rows, [], style=lambda f, s=style: s, pane="line").add_to(group)
        group.add_to(m)
    if facilities is not None and len(facilities):
        shown_fac = _mapdata.display_frame(facilities, gcj02=bm.needs_gcj02, what="facilities")
        group = folium.FeatureGroup(name=f"设施 Facilities ({len(shown_fac)})", show=True)
        for kind, part in _mapdata.split_by_kind(shown_fac).items():
            _facility_layer(part, facility, kind).add_to(group)
        group.add_to(m)
    legend = _mapdata.coverage_legend(
        facility, tiers, bins, colours, method, value_column, baseline=baseline
    )
    if surface is not None:
        legend += _mapdata.surface_legend(speed_m_per_min, mode=surface.mode)
    Legend(legend).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _surface_layer(surface, speed_m_per_min, *, gcj02):
    """Make the image layer of a surface's minutes, the PNG inside the page."""
    import base64

    from gongshu_geo.analysis.surfaces import make_surface_image

    png, bounds = make_surface_image(surface, speed_m_per_min=speed_m_per_min, gcj02=gcj02)
    group = folium.FeatureGroup(name="步行时间 Walking minutes (surface)", show=False)
    folium.raster_layers.ImageOverlay(
        image="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        bounds=bounds,
        opacity=1.0,
        interactive=False,
        zindex=1,
    ).add_to(group)
    return group


def make_street_stats_map(
    street_stats: gpd.GeoDataFrame, *, column: str, basemap="osm", tianditu_key: str | None = None
) -> folium.Map:
    """Map one per-street statistic (e.g. ``n_projects``, ``road_km``) as a choropleth.

    Parameters
    ----------
    street_stats : geopandas.GeoDataFrame
        Streets with ``street_code``, ``name`` and numeric statistics.
    column : str
        The statistic to map.
    basemap, tianditu_key
        As for :func:`make_overview_map`.

    Returns
    -------
    folium.Map
    """
    require_columns(street_stats, ["street_code", "name"], "street_stats", geometry=True)
    if column not in street_stats.columns:
        numeric = [
            c for c in street_stats.columns if pd.api.types.is_numeric_dtype(street_stats[c])
        ]
        raise InputError(
            _('street_stats: column "{column}" not found; numeric columns are {numeric}').format(
                column=column, numeric=", ".join(numeric)
            )
        )
    values = pd.to_numeric(street_stats[column], errors="coerce")
    if values.notna().sum() == 0 and street_stats[column].notna().any():
        raise InputError(
            _('street_stats: column "{column}" must be numeric; found {found!r}').format(
                column=column, found=street_stats[column].dropna().iloc[0]
            )
        )
    bm = get_basemap(basemap, tianditu_key=tianditu_key)
    shown = _mapdata.display_frame(street_stats, gcj02=bm.needs_gcj02, what="street_stats")
    m = _base_map(bm, shown)
    bins, method = classify(values.to_numpy())
    colours = class_colours(len(bins))
    lookup = dict(zip(street_stats["street_code"].astype(str), values, strict=True))
    group = folium.FeatureGroup(name=f"{column}", show=True)
    _choropleth_layer(shown, lookup, bins, colours, column).add_to(group)
    group.add_to(m)
    Legend(_mapdata.stats_legend(column, bins, colours, method)).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


#: Colour of each kind of change on the diff map.
DIFF_COLOURS = {
    "added": "#1a9850",
    "removed": "#d73027",
    "moved": "#4575b4",
    "reshaped": "#984ea3",
    "changed": "#fdae61",
    "unchanged": "#9e9e9e",
}


def make_diff_map(old, new, diff, *, district, basemap="osm") -> folium.Map:
    """Two versions of a project list on one map, coloured by kind of change.

    Parameters
    ----------
    old, new : geopandas.GeoDataFrame
        The versions, with ``id`` (and ``name``).
    diff : pandas.DataFrame
        From :func:`gongshu_geo.analysis.diff.diff_projects`.
    district : geopandas.GeoDataFrame
        Outline to frame the map.
    basemap : str
        See :mod:`gongshu_geo.maps.basemaps`.

    Returns
    -------
    folium.Map
        Layers "之前 before" (dashed grey, changed projects only) and "之后 after"
        (every project of the new version, coloured by its first change); popups
        list each change with its old and new value.
    """
    bm = get_basemap(basemap)
    shown_district = _mapdata.display_frame(district, gcj02=bm.needs_gcj02, what="district")
    m = _base_map(bm, shown_district)
    _add_outline(m, shown_district)
    first = diff.drop_duplicates("id").set_index("id")["change"].to_dict()
    popups = {
        fid: "<br>".join(
            _mapdata.esc(
                f"{r.change}: {r.field} {r.old} → {r.new}"
                if r.change == "changed"
                else f"{r.change}"
                + (f" {r.moved_m:,.1f} m" if r.moved_m is not None else "")
                + (f", IoU {r.iou:.2f}" if r.iou is not None else "")
            )
            for r in rows.itertuples()
        )
        for fid, rows in diff.groupby("id")
    }
    for label, frame, dashed in (("之前 before", old, True), ("之后 after", new, False)):
        rows = frame if not dashed else frame[frame["id"].isin(first)]
        shown = _mapdata.display_frame(rows, gcj02=bm.needs_gcj02, what=label)
        group = folium.FeatureGroup(name=f"{label} ({len(shown)})", show=True)
        for kind, part in _mapdata.split_by_kind(shown).items():
            props = [
                {
                    "name": _mapdata.esc(f"{r.id} {getattr(r, 'name', '') or ''}"),
                    "change": "removed"
                    if dashed and first.get(r.id) == "removed"
                    else first.get(r.id, "unchanged"),
                    "popup": f"<b>{_mapdata.esc(str(r.id))}</b><br>"
                    + popups.get(r.id, "无变化 unchanged"),
                }
                for r in part.itertuples(index=False)
            ]

            def style(feature, dashed=dashed, kind=kind):
                colour = "#777777" if dashed else DIFF_COLOURS[feature["properties"]["change"]]
                if feature["properties"]["change"] == "removed":
                    colour = DIFF_COLOURS["removed"]
                return {
                    "color": colour,
                    "weight": 2 if kind != "point" else 1,
                    "dashArray": "5 4" if dashed else None,
                    "fillColor": colour,
                    "fillOpacity": 0.6 if kind == "point" else 0.15,
                }

            _geojson(
                part,
                props,
                style=style,
                pane=kind,
                marker=folium.CircleMarker(radius=5) if kind == "point" else None,
                popup=folium.GeoJsonPopup(["popup"], labels=False, max_width=360),
                tooltip=folium.GeoJsonTooltip(["name"], labels=False),
            ).add_to(group)
        group.add_to(m)
    counts = diff.groupby("change")["id"].nunique().to_dict()
    body = "<h4>版本比较 What changed</h4>" + "".join(
        f'<div><span class="sw" style="background:{c}"></span>{k} ({counts.get(k, 0)})</div>'
        for k, c in DIFF_COLOURS.items()
    )
    Legend(body).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


#: Colour of each chosen site (by rank) on the site-selection map; repeats after ten.
SITE_COLOURS = (
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00",
    "#a65628", "#f781bf", "#1b9e77", "#7570b3", "#66a61e",
)  # fmt: skip


def make_sites_map(
    streets: gpd.GeoDataFrame,
    choice: SiteChoice,
    *,
    basemap="osm",
    tianditu_key: str | None = None,
    runners_up: int = 5,
) -> folium.Map:
    """Map the chosen sites, their service areas, the people they add, and the runners-up.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        Street polygons with ``street_code`` and ``name``, to frame the map.
    choice : gongshu_geo.analysis.siting.SiteChoice
        From :func:`gongshu_geo.analysis.siting.choose_sites`.
    basemap, tianditu_key
        As for :func:`make_overview_map`.
    runners_up : int
        How many of the best candidates not chosen (by what each adds alone) to mark.

    Returns
    -------
    folium.Map
        Layers: the streets, the existing facilities, the cells each site newly
        reaches (shaded in its colour), each site's service area, the chosen
        sites numbered by rank, the runners-up, and every candidate (off at start).
    """
    check_streets_frame("make_sites_map", streets, "streets, choice")
    require_columns(streets, ["street_code", "name"], "streets", geometry=True)
    bm = get_basemap(basemap, tianditu_key=tianditu_key)

    def shown(frame, what):
        return _mapdata.display_frame(frame, gcj02=bm.needs_gcj02, what=what)

    shown_streets = shown(streets, "streets")
    m = _base_map(bm, shown_streets)
    _add_streets(m, shown_streets)
    _add_outline(m, shown_streets.dissolve())

    def colour(rank):
        return SITE_COLOURS[(int(rank) - 1) % len(SITE_COLOURS)]

    if len(choice.existing):
        group = folium.FeatureGroup(name=f"现有设施 Existing ({len(choice.existing)})", show=True)
        for kind, part in _mapdata.split_by_kind(shown(choice.existing, "existing")).items():
            _facility_layer(part, choice.layer, kind).add_to(group)
        group.add_to(m)
    cells = shown(choice.new_cells, "new_cells")  # sites that add nobody have no cells
    group = folium.FeatureGroup(name="新覆盖人口 People newly within reach", show=True)
    props = [
        {"name": _mapdata.esc(f"#{r.rank}: +{r.new_covered_pop:,.0f} 人 people"), "rank": r.rank}
        for r in cells.itertuples()
    ]
    if len(cells):
        _geojson(
            cells, props, pane="polygon",
            style=lambda f: {"color": colour(f["properties"]["rank"]), "weight": 0,
                             "fillColor": colour(f["properties"]["rank"]), "fillOpacity": 0.45},
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(group)  # fmt: skip
    group.add_to(m)
    areas = shown(choice.service_areas, "service_areas")
    group = folium.FeatureGroup(
        name=f"服务范围 Service areas ({choice.minutes:g} 分钟 min, {choice.distance_m:,.0f} m)",
        show=True,
    )
    if len(areas):
        _geojson(
            areas, [{"rank": int(r)} for r in areas["rank"]], pane="line",
            style=lambda f: {"color": colour(f["properties"]["rank"]), "weight": 2,
                             "dashArray": "6 4", "fill": False},
            interactive=False,
        ).add_to(group)  # fmt: skip
    group.add_to(m)
    chosen = shown(choice.chosen, "chosen")
    group = folium.FeatureGroup(name=f"选址 Chosen sites ({len(chosen)})", show=True)
    for kind, part in _mapdata.split_by_kind(chosen).items():
        props = [_site_properties(r, f"#{r.rank} 选址 chosen") for r in part.itertuples()]
        _geojson(
            part, props, pane=kind,
            marker=folium.CircleMarker(radius=8) if kind == "point" else None,
            style=lambda f: {"color": "#000000", "weight": 2, "fillOpacity": 0.9 if
                             f["geometry"]["type"] == "Point" else 0.2,
                             "fillColor": colour(f["properties"]["rank"])},
            popup=folium.GeoJsonPopup(["popup"], labels=False, max_width=360),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(group)  # fmt: skip
    for row, point in zip(chosen.itertuples(), chosen.representative_point(), strict=True):
        folium.Marker(
            [point.y, point.x], interactive=False,
            icon=folium.DivIcon(html=f'<div class="gs-rank">{int(row.rank)}</div>',
                                icon_size=(16, 16), icon_anchor=(8, 8)),
        ).add_to(group)  # fmt: skip
    group.add_to(m)
    others = choice.candidates[choice.candidates["chosen_rank"].isna()]
    best = others.sort_values(["alone_rank"]).head(runners_up)
    for label, rows, show, radius in (
        (f"备选 Runners-up ({len(best)})", best, True, 6),
        (f"全部候选 All candidates ({len(choice.candidates)})", choice.candidates, False, 4),
    ):
        group = folium.FeatureGroup(name=label, show=show)
        for kind, part in _mapdata.split_by_kind(shown(rows, label)).items():
            props = [
                {**_site_properties(r, f"第 {r.alone_rank} 单独 alone"), "rank": 0}
                for r in part.itertuples()
            ]
            _geojson(
                part, props, pane=kind,
                marker=folium.CircleMarker(radius=radius) if kind == "point" else None,
                style=lambda f: {"color": "#ff7f00", "weight": 2, "fillColor": "#ffffff",
                                 "fillOpacity": 0.8 if f["geometry"]["type"] == "Point" else 0},
                popup=folium.GeoJsonPopup(["popup"], labels=False, max_width=360),
                tooltip=folium.GeoJsonTooltip(["name"], labels=False),
            ).add_to(group)  # fmt: skip
        group.add_to(m)
    m.get_root().header.add_child(Element(_SITE_CSS), name="gongshu_sites_css")
    Legend(_sites_legend(choice, colour)).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


_SITE_CSS = """<style>
.gs-rank { width: 16px; height: 16px; line-height: 16px; text-align: center; color: #fff;
  font: bold 11px sans-serif; text-shadow: 0 0 2px #000; }
</style>"""


def _site_properties(row, what) -> dict:
    """Tooltip and popup of a candidate site (chosen or not)."""
    alone = f"{row.alone_new_covered_pop:,.0f}"
    lines = [f"<b>{_mapdata.esc(row.id)} {_mapdata.esc(row.name)}</b>", _mapdata.esc(what)]
    if getattr(row, "new_covered_pop", None) is not None:
        lines.append(f"新增覆盖 adds {row.new_covered_pop:,.0f} 人 (after the sites before it)")
    lines.append(f"单独 alone: {alone} 人 people")
    return {
        "name": _mapdata.esc(f"{row.id} {row.name}"),
        "rank": int(getattr(row, "rank", 0) or 0),
        "popup": '<div class="gs-popup">' + "<br>".join(lines) + "</div>",
    }


def _sites_legend(choice, colour) -> str:
    rows = "".join(
        f'<div><span class="sw" style="background:{colour(r.rank)}"></span>'
        f"{int(r.rank)}. {_mapdata.esc(r.name)}: +{r.new_covered_pop:,.0f} 人</div>"
        for r in choice.chosen.itertuples()
    )
    method = (
        "精确最优 exact optimum (CBC)"
        if choice.method == "exact"
        else f"贪心 greedy: ≥ {choice.guarantee:.1%} of the optimum, which is ≤ "
        f"{choice.upper_bound:,.0f} 人"
    )
    share = choice.objective / choice.population if choice.population else float("nan")
    return (
        f"<h4>选址 Where to build next · {_mapdata.esc(choice.layer)} · "
        f"{choice.minutes:g} 分钟 min</h4>{rows}"
        f"<div>合计 total: +{choice.objective:,.0f} 人 ({share:.1%})</div>"
        f'<div class="gs-note">{_mapdata.esc(method)}; already within reach: '
        f"{choice.already_covered_pop:,.0f} 人 ({choice.given})</div>"
    )


def render_map(m: folium.Map, *, inline_assets: bool = True) -> str:
    """Render a map's HTML page: reproducible, self-contained unless asked otherwise."""
    page = _assets.unescape_text(_assets.number_ids(_fresh_root(m).render()))
    return _assets.inline_assets(page) if inline_assets else page


def write_map(m: folium.Map, path: str | os.PathLike, *, inline_assets: bool = True) -> Path:
    """Write a map as one HTML file, atomically.

    Parameters
    ----------
    m : folium.Map
    path : str or Path
        Target file (its folder is created).
    inline_assets : bool
        Embed Leaflet's JavaScript and CSS from the installed xstatic-leaflet
        (default: the file works offline); ``False`` links them on a CDN.

    Returns
    -------
    Path
    """
    page = render_map(m, inline_assets=inline_assets)
    path = write_text_atomic(path, page)
    if inline_assets:
        logger.info(_("wrote %s (%.0f kB, self-contained)"), path, len(page.encode("utf-8")) / 1024)
    else:
        logger.info(
            _("wrote %s (%.0f kB, Leaflet from CDN)"), path, len(page.encode("utf-8")) / 1024
        )
    return Path(path)


def _fresh_root(m):
    """Copy the map's page, dropping what earlier renderings left in it.

    folium adds ``addTo``/``setIcon`` statements on every rendering (a notebook
    display, a save); rendering a cleaned copy keeps ``m`` untouched and the
    output the same however often the map was shown before.
    """
    root = copy.deepcopy(m.get_root())
    stale, stack = set(), [root]
    while stack:
        element = stack.pop()
        for key, child in list(element._children.items()):
            if isinstance(child, (ElementAddToElement, folium.Marker.SetIcon)):
                stale.add(child.get_name())
                del element._children[key]
            else:
                stack.append(child)
    for holder in (root.header, root.html, root.script):
        for key in [k for k in holder._children if k in stale]:
            del holder._children[key]
    return root


def _geojson(gdf, props, *, style, pane=None, marker=None, **kwargs):
    props = props or [{} for _ in range(len(gdf))]
    options = {"pane": PANES[pane][0]} if pane else {}
    return folium.GeoJson(
        _mapdata.feature_collection(gdf, props),
        style_function=style,
        marker=marker,
        control=False,
        **options,
        **kwargs,
    )


# ---------------------------------------------------------------- layers


def _base_map(bm: Basemap, frame) -> folium.Map:
    minx, miny, maxx, maxy = frame.total_bounds
    m = GongshuMap(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=12,
        zoom_snap=0.25,
        tiles=None,
        control_scale=True,
        max_zoom=bm.max_zoom,
    )
    m.default_js = list(_LEAFLET_ONLY_JS)
    m.default_css = list(_LEAFLET_ONLY_CSS)
    m.get_root().header.add_child(Element(_mapdata.PAGE_CSS), name="gongshu_css")
    if bm.tiles_url:
        folium.TileLayer(
            tiles=bm.tiles_url,
            attr=bm.attribution,
            name=bm.label,
            max_zoom=bm.max_zoom,
            subdomains="".join(bm.subdomains) or "abc",
            overlay=False,
            control=True,
        ).add_to(m)
    if bm.overlay_url:
        folium.TileLayer(
            tiles=bm.overlay_url,
            attr=bm.attribution,
            name="注记 labels",
            max_zoom=bm.max_zoom,
            subdomains="".join(bm.subdomains),
            overlay=True,
            control=True,
        ).add_to(m)
    for name, z_index in PANES.values():
        folium.map.CustomPane(name, z_index=z_index).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _add_outline(m, district):
    group = folium.FeatureGroup(name="区界 District boundary", show=True)
    style = dict(DISTRICT_STYLE)
    _geojson(district, [], style=lambda f: style, interactive=False).add_to(group)
    group.add_to(m)


def _add_streets(m, streets):
    props = _mapdata.street_properties(streets)
    style = dict(STREET_STYLE)
    highlight = {"weight": 2.5, "color": "#000000", "fillOpacity": 0.12}
    group = folium.FeatureGroup(name=f"街道 Streets ({len(streets)})", show=True)
    folium.GeoJson(
        _mapdata.feature_collection(streets, props),
        style_function=lambda f: style,
        highlight_function=lambda f: highlight,
        control=False,
        tooltip=folium.GeoJsonTooltip(
            ["name", "street_code", "population", "area_km2"],
            aliases=["街道", "代码", "人口", "面积 km²"],
            sticky=True,
        ),
    ).add_to(group)
    group.add_to(m)
    labels = folium.FeatureGroup(name="街道名称 Street names", show=True)
    points = streets.representative_point()
    for row, point in zip(streets.itertuples(index=False), points, strict=True):
        folium.Marker(
            [point.y, point.x],
            interactive=False,
            icon=folium.DivIcon(
                html=f'<div class="gs-label">{_mapdata.esc(str(row.name))}</div>',
                icon_size=(80, 14),
                icon_anchor=(40, 7),
            ),
        ).add_to(labels)
    labels.add_to(m)


def _project_layer(rows, category, kind):
    props = _mapdata.project_properties(rows)

    def style(feature):
        status = feature["properties"]["status"]
        if kind == "point":
            return {**point_style(category, status), "pane": PANES["point"][0]}
        return path_style(category, status, fill=kind == "polygon")

    marker = folium.CircleMarker(radius=POINT_RADIUS_PX) if kind == "point" else None
    return _geojson(
        rows,
        props,
        style=style,
        pane=kind,
        marker=marker,
        popup=folium.GeoJsonPopup(["popup"], labels=False, max_width=360),
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
    )


def _facility_layer(rows, facility, kind):
    colour = CATEGORY_STYLE.get(facility, ("#000000",))[0]
    props = [
        {"name": _mapdata.esc(str(getattr(r, "name", "")))} for r in rows.itertuples(index=False)
    ]
    style = {
        "color": "#000000",
        "weight": 1,
        "fillColor": colour,
        "fillOpacity": 0.9,
        "fill": kind != "line",
        "pane": PANES[kind][0],
    }
    marker = folium.CircleMarker(radius=4) if kind == "point" else None
    return _geojson(
        rows,
        props,
        style=lambda f: style,
        pane=kind,
        marker=marker,
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
    )


def _choropleth_layer(streets, lookup, bins, colours, value_name, *, percent=False):
    props = _mapdata.choropleth_properties(streets, lookup, bins, colours, percent=percent)
    return folium.GeoJson(
        _mapdata.feature_collection(streets, props),
        control=False,
        style_function=lambda f: {
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.6,
            "fillColor": f["properties"]["fill"],
        },
        tooltip=folium.GeoJsonTooltip(
            ["name", "value"], aliases=["街道", _mapdata.esc(value_name)]
        ),
    )


save_map = deprecated_alias(write_map, "save_map")
