"""One progress page per street (街道) office, and an index linking them.

Each page is one self-contained HTML file, Chinese first, that prints on A4 from
the browser: the street's projects by category and status, its schedule by year,
its 5/10/15-minute coverage with what the plan adds, and a small map drawn as
inline SVG (no script, no tiles, so it prints and works offline).
"""

from __future__ import annotations

import html
import logging

import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import CATEGORIES, STATUSES
from gongshu_geo.maps.style import CATEGORY_STYLE, category_label, status_label

logger = logging.getLogger(__name__)

_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 16px auto; max-width: 900px; color: #222; font-size: 13px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 14px 0 4px;
     border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 4px 0; } td, th { border: 1px solid #ddd;
     padding: 2px 6px; text-align: right; } th { background: #f3f3f3; }
td.l, th.l { text-align: left; } .note { color: #666; font-size: 11px; }
.grid { display: flex; gap: 16px; align-items: flex-start; }
@page { size: A4; margin: 12mm; }
@media print { body { margin: 0; max-width: none; } h2, table, svg { break-inside: avoid; }
               a { color: inherit; text-decoration: none; } }
"""


def _e(value) -> str:
    return html.escape("" if value is None or value != value else str(value))


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _table(header: list[str], rows: list[list], *, left: int = 1) -> str:
    head = "".join(
        f'<th class="{"l" if i < left else ""}">{_e(h)}</th>' for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"l" if i < left else ""}">{_e(v)}</td>' for i, v in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _svg_map(street_m, others_m, projects_m, *, width: int = 420, height: int = 320) -> str:
    """Draw the street, its neighbours and its projects as inline SVG, north up."""
    minx, miny, maxx, maxy = street_m.buffer(150).bounds
    scale = min(width / (maxx - minx), height / (maxy - miny))

    def path(geom) -> str:
        parts = []
        for poly in getattr(geom, "geoms", [geom]):
            rings = [poly.exterior, *poly.interiors] if poly.geom_type == "Polygon" else [poly]
            for ring in rings:
                xy = np.asarray(ring.coords)
                pts = " ".join(
                    f"{(x - minx) * scale:.1f},{(maxy - y) * scale:.1f}" for x, y in xy[:, :2]
                )
                parts.append(f"M{pts}" + ("Z" if poly.geom_type == "Polygon" else ""))
        return " ".join(parts)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="border:1px solid #ccc;background:#fafafa">'
    ]
    view = shapely.box(minx, miny, maxx, maxy)
    for geom in others_m:
        if geom.intersects(view):
            clipped = geom.intersection(view)
            if not clipped.is_empty and clipped.geom_type in ("Polygon", "MultiPolygon"):
                out.append(f'<path d="{path(clipped)}" fill="#eeeeee" stroke="#bbbbbb"/>')
    out.append(f'<path d="{path(street_m)}" fill="#fff8e1" stroke="#e65100" stroke-width="2"/>')
    for category, geom in projects_m:
        colour = CATEGORY_STYLE.get(category, ("#000000",))[0]
        geom = geom.intersection(view)
        if geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "Point":
                x, y = (part.x - minx) * scale, (maxy - part.y) * scale
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}" stroke="#fff"/>'
                )
            elif part.geom_type == "LineString":
                out.append(
                    f'<path d="{path(part)}" fill="none" stroke="{colour}" stroke-width="2"/>'
                )
            elif part.geom_type == "Polygon":
                fill = f'fill="{colour}" fill-opacity="0.35" stroke="{colour}"'
                out.append(f'<path d="{path(part)}" {fill}/>')
    bar = 500 * scale
    out.append(
        f'<line x1="10" y1="{height - 12}" x2="{10 + bar:.1f}" y2="{height - 12}" '
        'stroke="#333" stroke-width="3"/>'
        f'<text x="10" y="{height - 16}" font-size="10">500 m</text>'
        f'<text x="{width - 18}" y="16" font-size="12">N↑</text></svg>'
    )
    return "".join(out)


def render_street_page(street, *, streets, projects, joined, schedule, coverage, gains) -> str:
    """Write the HTML progress page of one street.

    Parameters
    ----------
    street : pandas.Series
        One row of the streets frame (``street_code``, ``name``, ``population``, ...).
    streets, projects : geopandas.GeoDataFrame
        All streets (for the neighbours on the map) and all projects.
    joined : pandas.DataFrame
        :func:`gongshu_geo.join_projects_to_streets`.
    schedule : pandas.DataFrame
        :func:`gongshu_geo.analysis.schedule.summarize_schedule`.
    coverage, gains : pandas.DataFrame
        The coverage table (``scenario`` existing/plan) and the plan gain table.
    """
    code = str(street["street_code"])
    here = joined[(joined["street_code"].astype(str) == code) & ~joined["outside"].astype(bool)]
    ids = here.drop_duplicates("project_id").set_index("project_id")["share"]
    mine = projects[projects["id"].isin(ids.index)].copy()
    mine["share"] = mine["id"].map(ids)
    parts = [f"<h1>{_e(street['name'])} 规划项目进度</h1>"]
    pop = street.get("population")
    pop_text = f"{pop:,.0f}" if pd.notna(pop) else "无数据 n/a"
    parts.append(
        f"<div class='note'>{_e(street.get('name_en'))} · 街道代码 {_e(code)} · "
        f"常住人口 population {_e(pop_text)} ({_e(street.get('population_year'))}) · "
        f"面积 area {_e(street.get('geometry_area_km2'))} km² (图形 polygon)</div>"
    )
    # projects by category and status
    counts = pd.crosstab(mine["category"], mine["status"]) if len(mine) else pd.DataFrame()
    rows = []
    for category in CATEGORIES:
        if category in counts.index:
            row = counts.loc[category]
            rows.append(
                [category_label(category)]
                + [int(row.get(s, 0)) for s in STATUSES]
                + [int(row.sum())]
            )
    if rows:
        rows.append(
            ["合计 total"]
            + [int(counts.get(s, pd.Series(dtype=int)).sum()) for s in STATUSES]
            + [len(mine)]
        )
    projects_table = _table(
        ["类别 category", *[status_label(s) for s in STATUSES], "合计 total"], rows
    )
    metric = _crs.to_metric(streets)
    geom = metric.loc[metric["street_code"].astype(str) == code].geometry.iloc[0]
    others = metric.loc[metric["street_code"].astype(str) != code].geometry
    pm = _crs.to_metric(mine) if len(mine) else mine
    svg = _svg_map(
        geom,
        list(others),
        list(zip(mine["category"], pm.geometry, strict=True)) if len(mine) else [],
    )
    parts.append("<h2>项目 Projects</h2>")
    parts.append(f"<div class='grid'><div>{projects_table}</div><div>{svg}</div></div>")
    listing = []
    for r in mine.sort_values(["category", "id"]).itertuples(index=False):
        start, end = getattr(r, "start_year", None), getattr(r, "end_year", None)
        years = f"{start:.0f}–{end:.0f}" if pd.notna(start) and pd.notna(end) else ""
        listing.append(
            [
                r.name,
                category_label(r.category),
                status_label(r.status),
                years,
                f"{r.share:.0%}",
                r.id,
            ]
        )
    parts.append(
        _table(
            ["名称 name", "类别", "状态 status", "计划年份 years", "在本街道 share", "编号 id"],
            listing,
            left=3,
        )
    )
    # schedule
    parts.append("<h2>年度进度 Schedule by year</h2>")
    sched = schedule[schedule["street_code"].astype(str) == code]
    if len(sched):
        by_year = sched.groupby("year")[
            ["n_starting", "n_under_way", "n_finishing", "n_recorded_done"]
        ].sum()
        parts.append(
            _table(
                [
                    "年份 year",
                    "开工 starting",
                    "在建 under way",
                    "计划完成 finishing",
                    "已记录完成 recorded done",
                ],
                [[int(y), *map(int, v)] for y, v in by_year.iterrows()],
            )
        )
    else:
        parts.append("<p class='note'>本街道项目无计划年份 no scheduled project</p>")
    # coverage
    parts.append("<h2>5/10/15 分钟生活圈覆盖 Coverage (人口比例 share of people)</h2>")
    cov = coverage[(coverage["street_code"].astype(str) == code) & (coverage["mode"] == "distance")]
    gain = (
        gains[(gains["street_code"].astype(str) == code) & (gains["mode"] == "distance")]
        if len(gains)
        else gains
    )
    rows = []
    for facility, part in cov.groupby("facility", sort=False):
        if not {"existing", "plan"} <= set(part["scenario"]):
            continue
        cells = [category_label(facility) if facility in CATEGORIES else facility]
        for minutes in sorted(part["minutes"].unique()):
            e = part[(part["scenario"] == "existing") & (part["minutes"] == minutes)][
                "covered_pop_share"
            ]
            p = part[(part["scenario"] == "plan") & (part["minutes"] == minutes)][
                "covered_pop_share"
            ]
            g = (
                gain[(gain["facility"] == facility) & (gain["minutes"] == minutes)][
                    "new_covered_pop"
                ]
                if len(gain)
                else []
            )
            added = f"+{float(g.iloc[0]):,.0f} 人" if len(g) else ""
            cells.append(
                f"{float(e.iloc[0]):.0%} → {float(p.iloc[0]):.0%} {added}"
                if len(e) and len(p)
                else ""
            )
        baseline = part["baseline"].iloc[0] if "baseline" in part else "unknown"
        cells.append(
            {"complete": "完整 complete", "partial": "不完整 partial"}.get(baseline, "未知 unknown")
        )
        rows.append(cells)
    parts.append(
        _table(
            ["设施 facility", "5 分钟 min", "10 分钟 min", "15 分钟 min", "现状设施 baseline"], rows
        )
        + "<p class='note'>现状 → 规划建成后 (existing → with the plan built), "
        "直线距离 straight-line; 现状设施不完整的图层，未覆盖仅指本数据集中无设施。 "
        "Where the baseline is partial, uncovered means no facility in this dataset.</p>"
    )
    parts.append(
        "<p class='note'>数据 data: gongshu-geo packaged data, positions approximate (see each "
        "project's location_accuracy_m); street boundaries LonelyFarer/zjProvince (2020) fitted "
        "to the AMap district outline. <a href='index.html'>全部街道 all streets</a></p>"
    )
    return _page(f"{street['name']} 规划项目进度", "".join(parts))


def write_street_pages(stage_path, *, streets, projects, joined, schedule, coverage, gains) -> list:
    """Write ``streets/<code>.html`` for every street and ``streets/index.html``.

    Parameters
    ----------
    stage_path : callable
        Maps a relative output path to where it is written (the build's staging).
    streets, projects, joined, schedule, coverage, gains
        As for :func:`render_street_page`.

    Returns
    -------
    list of str
        The relative paths written.
    """
    written = []
    index_rows = []
    n_by_street = (
        joined[~joined["outside"].astype(bool)]
        .groupby(joined["street_code"].astype(str))["project_id"]
        .nunique()
    )
    for _row, street in streets.sort_values("street_code").iterrows():
        code = str(street["street_code"])
        text = render_street_page(
            street, streets=streets, projects=projects, joined=joined,
            schedule=schedule, coverage=coverage, gains=gains,
        )  # fmt: skip
        rel = f"streets/{code}.html"
        stage_path(rel).write_text(text, encoding="utf-8")
        written.append(rel)
        index_rows.append(
            f"<tr><td class='l'><a href='{_e(code)}.html'>{_e(street['name'])}</a></td>"
            f"<td class='l'>{_e(street.get('name_en'))}</td><td>{_e(code)}</td>"
            f"<td>{int(n_by_street.get(code, 0))}</td></tr>"
        )
    body = (
        "<h1>拱墅区 街道规划项目进度 Street progress pages</h1>"
        "<table><tr><th class='l'>街道 street</th><th class='l'></th><th>代码 code</th>"
        f"<th>项目 projects</th></tr>{''.join(index_rows)}</table>"
    )
    stage_path("streets/index.html").write_text(_page("街道规划项目进度", body), encoding="utf-8")
    written.append("streets/index.html")
    logger.info(_("wrote %d street pages"), len(written) - 1)
    return written
