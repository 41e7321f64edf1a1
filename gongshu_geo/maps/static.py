"""Static PNG maps with matplotlib (Agg): the overview and a coverage map.

Chinese labels need a CJK font. One is looked for deliberately (Debian's
``fonts-noto-cjk`` first, then any CJK family matplotlib knows); without one a
warning is logged and every label is written in pinyin/English, so that
matplotlib never has to draw a glyph it lacks. Drawing happens in the metric
CRS (EPSG:4549), so shapes are true. The PNGs carry no software/version
metadata and are written atomically: the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import patheffects

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.atomic import write_bytes_atomic
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.schema import CATEGORIES, STATUSES
from gongshu_geo.maps.style import (
    CATEGORY_STYLE,
    GAP_COLOUR,
    NO_DATA,
    STATUS_STYLE,
    TIER_COLOURS,
    class_colours,
    class_index,
    class_labels,
    classify,
    coverage_value_column,
    finite_or_none,
    geometry_kind,
)

logger = logging.getLogger(__name__)

#: Fonts tried first, in order (Debian/Ubuntu, Fedora, macOS, Windows).
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
_CJK_FAMILY_HINTS = ("CJK", "WenQuanYi", "Source Han", "SimHei", "YaHei", "PingFang", "Heiti")
_DPI = 150
_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]
_DASHES = {"planned": (0, (1.5, 2.0)), "under_construction": (0, (5.0, 2.5))}


def find_cjk_font() -> Path | None:
    """Find a font file that can draw Chinese; ``None`` when there is none."""
    for candidate in CJK_FONT_FILES:
        if Path(candidate).is_file():
            return Path(candidate)
    from matplotlib import font_manager

    for entry in sorted(font_manager.fontManager.ttflist, key=lambda e: e.fname):
        if any(hint.lower() in entry.name.lower() for hint in _CJK_FAMILY_HINTS):
            return Path(entry.fname)
    return None


def _font_setup():
    """Return the figure's rcParams and whether Chinese can be drawn."""
    from matplotlib import font_manager

    path = find_cjk_font()
    if path is None:
        logger.warning(
            _("no CJK font found (install fonts-noto-cjk); PNG labels are in pinyin/English")
        )
        return {"font.family": ["DejaVu Sans"], "axes.unicode_minus": False}, False
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    logger.debug("PNG labels in %s (%s)", family, path)
    return {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}, True


class _Text:
    """Chooses Chinese + English or English-only labels."""

    def __init__(self, cjk: bool):
        self.cjk = cjk

    def __call__(self, zh: str, en: str) -> str:
        return f"{zh} {en}" if self.cjk else en

    def category(self, category: str) -> str:
        en = CATEGORY_STYLE.get(category, ("", str(category)))[1]
        return self(CATEGORIES[category][0], en) if category in CATEGORIES else en

    def status(self, status: str) -> str:
        en = STATUS_STYLE[status]["en"]
        return self(STATUSES[status], en)

    def street(self, row) -> str:
        if self.cjk:
            return str(row["name"])
        return str(row.get("name_en") or row["street_code"])


def plot_overview_png(projects, streets, district, path, *, dpi: int = _DPI) -> Path:
    """Draw all projects over the streets and the district outline as a PNG.

    Parameters
    ----------
    projects, streets, district : geopandas.GeoDataFrame
        As for :func:`gongshu_geo.maps.web.make_overview_map`.
    path : str or Path
        Target ``.png`` (its folder is created).
    dpi : int
        Resolution.

    Returns
    -------
    Path
    """
    import matplotlib

    rc, cjk = _font_setup()
    text = _Text(cjk)
    with matplotlib.rc_context(rc):
        fig, ax = _figure()
        d = _crs.to_metric(district)
        s = _crs.to_metric(streets)
        p = _crs.to_metric(projects)
        s.plot(ax=ax, facecolor="#f6f6f1", edgecolor="#9a9a9a", linewidth=0.6)
        d.boundary.plot(ax=ax, color="#222222", linewidth=1.6)
        for _, row in s.iterrows():
            pt = row.geometry.representative_point()
            ax.annotate(
                text.street(row),
                (pt.x, pt.y),
                ha="center",
                va="center",
                fontsize=6.5,
                color="#555555",
                path_effects=_HALO,
            )
        for kind in ("polygon", "line", "point"):
            for category in CATEGORIES:
                for status in STATUSES:
                    rows = p[(p["category"] == category) & (p["status"] == status)]
                    rows = rows[geometry_kind(rows) == kind]
                    if len(rows):
                        _draw_projects(ax, rows, category, status, kind)
        _scale_bar(ax)
        _overview_legends(ax, text)
        ax.set_title(text("拱墅区“十四五”规划项目", "Gongshu District plan projects"), fontsize=13)
        fig.text(
            0.01,
            0.01,
            text("位置为示意；街道边界：zjProvince (2020) 拟合至区界，约 ±100 m。", "")
            + "Locations approximate; streets: zjProvince (2020) fitted to the outline, ~±100 m. "
            "CGCS2000 / GK CM 120E (EPSG:4549)",
            fontsize=6.5,
            color="#666666",
        )
        return _save(fig, path, dpi)


def plot_coverage_png(
    streets,
    service_areas,
    gaps,
    coverage,
    path,
    *,
    facility: str,
    baseline: str | None = None,
    dpi: int = _DPI,
) -> Path:
    """Coverage of the largest tier by street, with service areas and gaps, as a PNG.

    Parameters
    ----------
    streets, service_areas, gaps, coverage
        As for :func:`gongshu_geo.maps.web.make_coverage_map`.
    path : str or Path
        Target ``.png``.
    facility : str
        The facility category, e.g. ``"park"``.
    baseline : {"complete", "partial", "unknown"}, optional
        How complete the layer's existing facilities are; unless ``"complete"``
        the gaps are labelled as gaps in this dataset.
    dpi : int
        Resolution.

    Returns
    -------
    Path
    """
    import matplotlib
    from matplotlib.patches import Patch

    value_column = coverage_value_column(coverage)
    rc, cjk = _font_setup()
    text = _Text(cjk)
    tiers = sorted(
        {float(t) for t in service_areas["minutes"]} | {float(t) for t in coverage["minutes"]}
    )
    top = tiers[-1] if tiers else None
    values = pd.to_numeric(coverage.get(value_column, pd.Series(dtype=float)), errors="coerce")
    bins, method = classify(values.to_numpy())
    colours = class_colours(len(bins))
    tier = coverage[coverage["minutes"].astype(float) == top] if top is not None else coverage
    shares = pd.to_numeric(tier[value_column], errors="coerce")
    lookup = dict(zip(tier["street_code"].astype(str), shares, strict=True))
    with matplotlib.rc_context(rc):
        fig, ax = _figure()
        s = _crs.to_metric(streets)
        fills = []
        for code in s["street_code"].astype(str):
            index = class_index(finite_or_none(lookup.get(code)), bins)
            fills.append(NO_DATA if index is None else colours[index])
        s.plot(ax=ax, color=fills, edgecolor="#666666", linewidth=0.6)
        for _, row in s.iterrows():
            pt = row.geometry.representative_point()
            share = finite_or_none(lookup.get(str(row["street_code"])))
            label = text.street(row) + ("" if share is None else f"\n{share:.0%}")
            ax.annotate(
                label,
                (pt.x, pt.y),
                ha="center",
                va="center",
                fontsize=6.5,
                color="#222222",
                path_effects=_HALO,
            )
        areas = _crs.to_metric(service_areas)
        handles = []
        for i, minutes in enumerate(tiers):
            colour = TIER_COLOURS[min(i, len(TIER_COLOURS) - 1)]
            rows = areas[areas["minutes"].astype(float) == minutes]
            if len(rows):
                rows.boundary.plot(ax=ax, color=colour, linewidth=1.3)
            handles.append(
                Patch(
                    facecolor="none",
                    edgecolor=colour,
                    label=text(f"{minutes:g} 分钟服务范围", f"{minutes:g}-min service area"),
                )
            )
        g = _crs.to_metric(gaps)
        g = g[g["minutes"].astype(float) == top] if top is not None else g
        g = g[~g.geometry.is_empty]
        if len(g):
            g.plot(
                ax=ax, facecolor="none", edgecolor=GAP_COLOUR, hatch="//", linewidth=0, alpha=0.8
            )
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=GAP_COLOUR,
                hatch="//",
                label=text(f"{top:g} 分钟未覆盖", f"not covered in {top:g} min")
                + ("" if baseline == "complete" else text("（本数据集中）", " (in this dataset)"))
                if top is not None
                else "gap",
            )
        )
        labels = class_labels(bins, percent=True, method=method)
        for colour, label in zip(colours, labels, strict=True):
            handles.append(Patch(facecolor=colour, edgecolor="#666666", label=label))
        handles.append(
            Patch(facecolor=NO_DATA, edgecolor="#666666", label=text("无数据", "no data"))
        )
        what = (
            text("人口覆盖率", "population covered")
            if value_column == "covered_pop_share"
            else text("面积覆盖率", "area covered")
        )
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
            title=what,
        )
        _scale_bar(ax)
        name = _Text(cjk).category(facility) if facility in CATEGORIES else str(facility)
        ax.set_title(
            f"{name}: " + text(f"{top:g} 分钟覆盖", f"{top:g}-minute coverage")
            if top is not None
            else name,
            fontsize=13,
        )
        return _save(fig, path, dpi)


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 8.5))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.04, 0.66, 0.9))
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _draw_projects(ax, rows, category, status, kind):
    colour = CATEGORY_STYLE[category][0] if category in CATEGORY_STYLE else "#333333"
    spec = STATUS_STYLE.get(status, STATUS_STYLE["existing"])
    dashes = _DASHES.get(status, "solid")
    width = spec["weight"] * 0.55
    if kind == "polygon":
        rows.plot(
            ax=ax,
            facecolor=_rgba(colour, spec["fillOpacity"]),
            edgecolor=colour,
            linewidth=width,
            linestyle=dashes,
            zorder=3,
        )
    elif kind == "line":
        rows.plot(ax=ax, color=colour, linewidth=width + 0.4, linestyle=dashes, zorder=4)
    else:
        coords = np.array([(pt.x, pt.y) for g in rows.geometry for pt in getattr(g, "geoms", [g])])
        face = "#ffffff" if status == "planned" else _rgba(colour, max(spec["fillOpacity"], 0.45))
        ax.scatter(
            coords[:, 0],
            coords[:, 1],
            s=28,
            facecolors=face,
            edgecolors=colour,
            linewidths=1.2,
            linestyle=dashes,
            zorder=5,
        )


def _rgba(colour, alpha):
    from matplotlib.colors import to_rgba

    return to_rgba(colour, alpha)


def _overview_legends(ax, text):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cats = [
        Patch(
            facecolor=CATEGORY_STYLE[c][0], edgecolor=CATEGORY_STYLE[c][0], label=text.category(c)
        )
        for c in CATEGORIES
    ]
    # figure legends, not axes legends, so that the tight bounding box keeps both
    fig = ax.figure
    fig.legend(
        handles=cats,
        loc="upper left",
        bbox_to_anchor=(0.70, 0.94),
        fontsize=8,
        frameon=False,
        title=text("类别", "Category"),
    )
    statuses = [
        Line2D(
            [0],
            [0],
            color="#444444",
            linewidth=STATUS_STYLE[s]["weight"] * 0.7,
            linestyle=_DASHES.get(s, "solid"),
            label=text.status(s),
        )
        for s in STATUSES
    ]
    fig.legend(
        handles=statuses,
        loc="upper left",
        bbox_to_anchor=(0.70, 0.42),
        fontsize=8,
        frameon=False,
        title=text("状态", "Status"),
        handlelength=3,
    )


def _scale_bar(ax):
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = 1000.0 if (x1 - x0) > 4000 else 500.0
    x, y = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length], [y, y], color="#222222", linewidth=2.5, solid_capstyle="butt")
    ax.annotate(
        f"{length / 1000:g} km",
        (x + length / 2, y),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        fontsize=7,
    )


def _save(fig, path, dpi) -> Path:
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=dpi,
        metadata={"Software": None},
        bbox_inches="tight",
        pad_inches=0.15,
    )
    data = buffer.getvalue()
    out = write_bytes_atomic(path, data)
    logger.info(_("wrote %s (%.0f kB)"), out, len(data) / 1024)
    return Path(out)
