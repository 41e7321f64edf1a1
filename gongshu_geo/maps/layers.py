"""What the web maps draw, prepared without folium.

Display geometry (simplified by :data:`DISPLAY_SIMPLIFY_M` metres in
EPSG:4549, shifted to GCJ-02 when the basemap needs it, rounded to
:data:`DISPLAY_DECIMALS` decimals), GeoJSON features, and the HTML fragments:
page CSS, project popups and legends, with every value from data escaped.
:mod:`gongshu_geo.maps.web` puts them in place.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import CRSError
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import CATEGORIES, OPTIONAL_NUMERIC, STATUSES
from gongshu_geo.maps.style import (
    CATEGORY_STYLE,
    GAP_COLOUR,
    NO_DATA,
    STATUS_STYLE,
    TIER_COLOURS,
    category_label,
    class_index,
    class_labels,
    finite_or_none,
    geometry_kind,
    status_label,
)

#: Simplification tolerance for display, metres (EPSG:4549).
DISPLAY_SIMPLIFY_M = 5.0
#: Decimals kept in displayed coordinates (6 is about 0.1 m).
DISPLAY_DECIMALS = 6
#: Map background, seen where no tiles load.
BACKGROUND = "#eef0ea"
_FONT = "'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif"
PAGE_CSS = f"""<style>
div.leaflet-container {{ background: {BACKGROUND}; font-family: {_FONT}; }}
.gs-legend {{ background: rgba(255,255,255,.93); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.35); font-size: 12px; line-height: 18px;
  max-height: 70vh; overflow-y: auto; }}
.gs-legend h4 {{ margin: 0 0 4px; font-size: 13px; }}
.gs-legend .gs-note {{ margin-top: 6px; max-width: 230px; color: #8a3b00; font-size: 11px; }}
.gs-legend .sw {{ display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid rgba(0,0,0,.3); }}
.gs-legend svg {{ vertical-align: middle; margin-right: 6px; }}
.gs-popup th {{ text-align: left; padding-right: 8px; white-space: nowrap; color: #555; }}
.gs-label {{ font: 11px {_FONT}; color: #333; text-shadow: 0 0 3px #fff, 0 0 3px #fff;
  white-space: nowrap; text-align: center; }}
</style>"""

_TARGET_LABELS = {
    "target_length_km": ("长度", "km"),
    "target_area_m2": ("面积", "m²"),
    "target_count": ("数量", ""),
}


def esc(value) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(value))


def minutes_text(minutes) -> str:
    """``5`` for 5.0 minutes."""
    return f"{minutes:g}"


def _years_text(row: dict):
    start, end = finite_or_none(row.get("start_year")), finite_or_none(row.get("end_year"))
    if start is None and end is None:
        return None
    return f"{start:.0f}–{end:.0f}" if start is not None and end is not None else None


def project_popup(row: dict) -> str:
    """Write the Chinese popup of one project.

    Name, category, status, period, plan reference (规划依据), targets, location
    accuracy (定位精度) and source, id.
    """
    category = row.get("category")
    cat = CATEGORIES[category][0] if category in CATEGORIES else category
    if row.get("subcategory"):
        cat = f"{cat} · {row['subcategory']}"
    status = row.get("status")
    targets = []
    for field in [f for f in row if f.startswith("target_")] or list(OPTIONAL_NUMERIC):
        value = finite_or_none(row.get(field))
        if value is not None:
            label, unit = _TARGET_LABELS.get(field, (field, ""))
            targets.append(f"{label} {value:,.6g} {unit}".strip())
    accuracy = finite_or_none(row.get("location_accuracy_m"))
    lines = [
        ("类别", cat),
        ("状态", STATUSES.get(status, status)),
        ("时期", row.get("period")),
        ("计划年份", _years_text(row)),
        ("规划依据", row.get("plan_ref")),
        ("目标", "；".join(targets) if targets else None),
        ("定位精度", f"±{accuracy:,.0f} m" if accuracy is not None else None),
        ("定位来源", row.get("location_source")),
        ("编号", row.get("id")),
    ]
    table = "".join(
        f"<tr><th>{k}</th><td>{esc(v)}</td></tr>"
        for k, v in lines
        if v is not None and v == v and v != ""
    )
    english = f"<br><i>{esc(row['name_en'])}</i>" if row.get("name_en") else ""
    return (
        f'<div class="gs-popup"><b>{esc(row.get("name"))}</b>{english}<table>{table}</table></div>'
    )


def _status_sample(status: str) -> str:
    spec = STATUS_STYLE[status]
    dash = f' stroke-dasharray="{spec["dashArray"]}"' if spec["dashArray"] else ""
    return (
        f'<svg width="34" height="12"><rect x="2" y="2" width="30" height="8" fill="#555" '
        f'fill-opacity="{spec["fillOpacity"]}" stroke="#333" '
        f'stroke-width="{spec["weight"] / 1.5}"{dash}/></svg>'
    )


def overview_legend(needs_gcj02: bool) -> str:
    """Category colours, status styles and a note on the datum and accuracy."""
    rows = [
        f'<div><span class="sw" style="background:{CATEGORY_STYLE[c][0]}"></span>'
        f"{esc(category_label(c))}</div>"
        for c in CATEGORIES
    ]
    status_rows = [f"<div>{_status_sample(s)}{esc(status_label(s))}</div>" for s in STATUSES]
    datum = "GCJ-02 (已偏移 shifted for AMap)" if needs_gcj02 else "WGS 84"
    return (
        "<h4>拱墅区规划项目 Gongshu plan projects</h4>"
        + "".join(rows)
        + "<h4 style='margin-top:6px'>状态 Status</h4>"
        + "".join(status_rows)
        + f"<div style='margin-top:6px;color:#666'>坐标 datum: {datum}<br>"
        "位置为示意, 见各项定位精度<br>locations approximate, see accuracy</div>"
    )


def class_rows(bins, colours, method, *, percent) -> str:
    """Legend rows of a choropleth, with a no-data row."""
    labels = class_labels(bins, percent=percent, method=method)
    rows = [
        f'<div><span class="sw" style="background:{c}"></span>{esc(t)}</div>'
        for c, t in zip(colours, labels, strict=True)
    ]
    rows.append(f'<div><span class="sw" style="background:{NO_DATA}"></span>无数据 no data</div>')
    note = f"<div style='color:#666'>分级 classes: {esc(method)}</div>" if bins else ""
    return "".join(rows) + note


def gap_label(baseline) -> str:
    """How a gap is named: without a complete baseline it is a gap *in this dataset*."""
    if baseline == "complete":
        return "未覆盖 gaps"
    return "未覆盖（本数据集中） gaps in this dataset"


def baseline_note(baseline) -> str:
    """Return the legend's warning for a layer whose existing facilities are not all in the data."""
    if baseline == "complete":
        return ""
    state = "不完整 partial" if baseline == "partial" else "完整性未知 unknown"
    return (
        f"<div class='gs-note'>现状设施{state}: 数据中没有的现状设施未计入，"
        "未覆盖不等于实际无设施。 The existing facilities of this layer are "
        f"{'incomplete' if baseline == 'partial' else 'of unknown completeness'} in this "
        "dataset: a gap means none <i>in this dataset</i>.</div>"
    )


def coverage_legend(facility, tiers, bins, colours, method, value_column, *, baseline=None) -> str:
    """Service-area tiers, gaps and the coverage classes, and how complete the baseline is."""
    name = category_label(facility) if facility in CATEGORIES else str(facility)
    what = (
        "覆盖人口比例 population covered"
        if value_column == "covered_pop_share"
        else "覆盖面积比例 area covered"
    )
    tier_rows = [
        f'<div><span class="sw" style="background:{TIER_COLOURS[min(i, len(TIER_COLOURS) - 1)]};'
        f'opacity:.6"></span>{minutes_text(t)} 分钟 min</div>'
        for i, t in enumerate(tiers)
    ]
    return (
        f"<h4>{esc(name)} 服务覆盖 coverage</h4>"
        + "".join(tier_rows)
        + f'<div><span class="sw" style="background:{GAP_COLOUR};opacity:.3"></span>'
        f"{gap_label(baseline)}</div>"
        + f"<h4 style='margin-top:6px'>{what}</h4>"
        + class_rows(bins, colours, method, percent=True)
        + baseline_note(baseline)
    )


def surface_legend(speed_m_per_min, *, mode="distance") -> str:
    """Classes of the accessibility surface, in minutes."""
    from gongshu_geo.analysis.surfaces import MINUTE_BREAKS, MINUTE_COLOURS

    how = "步行网络 along the network" if mode == "network" else "直线 straight line"
    edges = [0, *MINUTE_BREAKS]
    rows = [
        f'<div><span class="sw" style="background:{MINUTE_COLOURS[i]};opacity:.8"></span>'
        f"{lo:g}–{hi:g} 分钟 min</div>"
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ]
    rows.append(
        f'<div><span class="sw" style="background:{MINUTE_COLOURS[-1]};opacity:.8"></span>'
        f"&gt; {MINUTE_BREAKS[-1]:g} 分钟 min</div>"
    )
    return (
        f"<h4 style='margin-top:6px'>步行时间 Walking minutes ({how}, "
        f"{speed_m_per_min:g} m/min)</h4>" + "".join(rows)
    )


def stats_legend(column, bins, colours, method) -> str:
    """Title and classes of a street-statistics choropleth."""
    return f"<h4>{esc(column)}</h4>" + class_rows(bins, colours, method, percent=False)


# ---------------------------------------------------------------- geometry and tables


def display_frame(gdf, *, gcj02: bool, what: str):
    """Simplify, shift to the basemap's datum and round, for drawing only."""
    if gdf.attrs.get("datum") == _crs.GCJ02:
        raise CRSError(
            _(
                "{what}: the frame is already in GCJ-02; pass WGS 84 data "
                "(gongshu_geo.from_gcj02) and let the basemap decide"
            ).format(what=_(what))
        )
    out = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty].to_crs(_crs.WGS84)
    out = out.set_geometry(out.geometry.make_valid())
    points = out.geom_type.isin(["Point", "MultiPoint"])
    if (~points).any():
        metric = out.loc[~points].geometry.to_crs(_crs.METRIC)
        simple = metric.simplify(DISPLAY_SIMPLIFY_M, preserve_topology=True).to_crs(_crs.WGS84)
        geoms = out.geometry.copy()
        geoms.loc[~points] = simple
        out = out.set_geometry(geoms)
    if gcj02:
        out = _crs.to_gcj02(out)
    rounded = shapely.transform(out.geometry.values, lambda c: np.round(c, DISPLAY_DECIMALS))
    return out.set_geometry(rounded)


def share_lookup(tier, value_column) -> dict:
    """Map street code to the tier's share column, as numbers."""
    values = pd.to_numeric(tier[value_column], errors="coerce")
    return dict(zip(tier["street_code"].astype(str), values, strict=True))


def split_by_kind(gdf):
    """Split a layer into its polygons, lines and points (kinds present only)."""
    kinds = geometry_kind(gdf)
    return {k: gdf[kinds == k] for k in ("polygon", "line", "point") if (kinds == k).any()}


def feature_collection(gdf, props: list[dict]):
    """Make a GeoJSON FeatureCollection of the geometries with their properties."""
    features = []
    for i, (geom, p) in enumerate(zip(gdf.geometry, props, strict=True)):
        fid = str(p.pop("_id", i))
        features.append(
            {
                "type": "Feature",
                "id": fid,
                "properties": p,
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def street_properties(streets) -> list[dict]:
    """Tooltip fields of each street: name, code, population, area."""
    props = []
    for row in streets.itertuples(index=False):
        pop = finite_or_none(getattr(row, "population", None))
        area = finite_or_none(getattr(row, "area_km2", None))
        props.append(
            {
                "name": esc(row.name),
                "street_code": esc(row.street_code),
                "population": f"{pop:,.0f}" if pop is not None else "无数据 n/a",
                "area_km2": f"{area:.2f}" if area is not None else "无数据 n/a",
                "_id": f"S-{row.street_code}",
            }
        )
    return props


def project_properties(rows) -> list[dict]:
    """Id, escaped name, status (for styling), schedule (for the slider) and popup."""
    from gongshu_geo.analysis.timeline import schedule_properties

    return [
        {
            "_id": r.id,
            "name": esc(r.name),
            "status": r.status,
            **schedule_properties(r),
            "popup": project_popup(r._asdict()),
        }
        for r in rows.itertuples(index=False)
    ]


def choropleth_properties(streets, lookup, bins, colours, *, percent) -> list[dict]:
    """Name, shown value and fill colour of each street from ``lookup[street_code]``."""
    props = []
    for row in streets.itertuples(index=False):
        value = finite_or_none(lookup.get(str(row.street_code)))
        index = class_index(value, bins) if value is not None else None
        shown = "无数据 n/a" if value is None else (f"{value:.0%}" if percent else f"{value:,.4g}")
        props.append(
            {
                "name": esc(row.name),
                "value": shown,
                "fill": NO_DATA if index is None else colours[index],
            }
        )
    return props
