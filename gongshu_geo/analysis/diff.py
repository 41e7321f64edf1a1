"""Two versions of a project list compared, feature by feature and on the ground.

Projects are matched by ``id``. A change is one of

``added`` / ``removed``
    the id is only in the new / the old file;
``moved``
    the centroid shifted by at least :data:`MOVE_TOLERANCE_M` (``moved_m``, EPSG:4549);
``reshaped``
    a line or polygon changed shape beyond its move: the old geometry, shifted by
    the centroid move, is still at least :data:`MOVE_TOLERANCE_M` from the new one
    (Hausdorff distance, in ``moved_m``); polygons also give their ``iou``;
``changed``
    an attribute (``field``, ``old``, ``new``).

A project whose geometry and attributes both changed has a row for each. Shifts
under a metre are not changes, so a round trip through another format or CRS
does not look like one.

The command ``gongshu-geo diff`` writes the comparison through
:func:`gongshu_geo.pipeline.compare_versions`.
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.data.io import read_layer

logger = logging.getLogger(__name__)

#: Geometry shifts below this many metres count as no change.
MOVE_TOLERANCE_M = 1.0
#: The columns of a diff table.
DIFF_COLUMNS = ["id", "name", "change", "field", "old", "new", "moved_m", "iou"]
CHANGES = ("added", "removed", "moved", "reshaped", "changed")


def read_version(path) -> gpd.GeoDataFrame:
    """Read one version of a project file for comparison, ids as text.

    Raises
    ------
    InputError
        When the file has no ``id`` field, an empty id, or an id used twice.
    """
    frame = read_layer(path, what=N_("project file"))
    if "id" not in frame.columns:
        raise InputError(
            _('{path}: no "id" field; versions are matched by id, found fields {columns}').format(
                path=path, columns=", ".join(c for c in frame.columns if c != "geometry")
            )
        )
    ids = frame["id"].map(lambda v: None if v is None or v != v else str(v).strip())
    empty = np.flatnonzero(ids.isna() | (ids == "")).tolist()
    if empty:
        raise InputError(
            _('{path}: feature #{empty} has no "id"; every feature needs one').format(
                path=path, empty=empty[0]
            )
        )
    dup = ids[ids.duplicated()]
    if len(dup):
        first = int(np.flatnonzero(ids == dup.iloc[0])[0])
        raise InputError(
            _(
                '{path}: duplicate "id" {found!r} (features #{first} and #{index}); '
                "versions can only be compared when ids are unique"
            ).format(path=path, found=dup.iloc[0], first=first, index=dup.index[0])
        )
    return frame.assign(id=ids).to_crs(_crs.WGS84)


def _same(a, b) -> bool:
    if _missing(a) and _missing(b):
        return True
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return str(a) == str(b)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _text(value):
    return None if _missing(value) else str(value)


def _geometry_rows(fid, name, old_geom, new_geom) -> list[dict]:
    rows = []
    shift = shapely.distance(old_geom.centroid, new_geom.centroid)
    if shift >= MOVE_TOLERANCE_M:
        rows.append({"id": fid, "name": name, "change": "moved", "moved_m": round(shift, 2)})
    if old_geom.geom_type.endswith("Point") and new_geom.geom_type.endswith("Point"):
        return rows
    dx = new_geom.centroid.x - old_geom.centroid.x
    dy = new_geom.centroid.y - old_geom.centroid.y
    residual = shapely.hausdorff_distance(shapely.affinity.translate(old_geom, dx, dy), new_geom)
    if residual >= MOVE_TOLERANCE_M or old_geom.geom_type != new_geom.geom_type:
        row = {"id": fid, "name": name, "change": "reshaped", "moved_m": round(residual, 2)}
        if old_geom.area > 0 and new_geom.area > 0:
            union = shapely.union(old_geom, new_geom).area
            row["iou"] = round(shapely.intersection(old_geom, new_geom).area / union, 4)
        rows.append(row)
    return rows


def diff_projects(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Compare two versions of a project list, matched by ``id``.

    Parameters
    ----------
    old, new : geopandas.GeoDataFrame
        The two versions, each with unique text ids (see :func:`read_version`).

    Returns
    -------
    pandas.DataFrame
        One row per change with :data:`DIFF_COLUMNS`, sorted by id and change.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> a = gpd.GeoDataFrame({"id": ["1", "2"], "name": ["甲", "乙"], "status": ["planned"] * 2},
    ...                      geometry=[Point(120.15, 30.3)] * 2, crs="EPSG:4326")
    >>> b = a.assign(status=["planned", "completed"]).drop(index=0)
    >>> diff_projects(a, b)[["id", "change", "field", "old", "new"]].values.tolist()
    [['1', 'removed', None, None, None], ['2', 'changed', 'status', 'planned', 'completed']]
    """
    old_i, new_i = old.set_index("id"), new.set_index("id")
    old_m = _crs.to_metric(old).geometry.set_axis(old["id"])
    new_m = _crs.to_metric(new).geometry.set_axis(new["id"])
    rows = []
    for fid in old_i.index.difference(new_i.index):
        rows.append({"id": fid, "name": _text(old_i.at[fid, "name"]) if "name" in old_i else None,
                     "change": "removed"})  # fmt: skip
    for fid in new_i.index.difference(old_i.index):
        rows.append({"id": fid, "name": _text(new_i.at[fid, "name"]) if "name" in new_i else None,
                     "change": "added"})  # fmt: skip
    fields = [c for c in dict.fromkeys([*old_i.columns, *new_i.columns]) if c != "geometry"]
    for fid in old_i.index.intersection(new_i.index):
        name = _text(new_i.at[fid, "name"]) if "name" in new_i else None
        rows += _geometry_rows(fid, name, old_m[fid], new_m[fid])
        for field in fields:
            a = old_i.at[fid, field] if field in old_i else None
            b = new_i.at[fid, field] if field in new_i else None
            if not _same(a, b):
                rows.append({"id": fid, "name": name, "change": "changed", "field": field,
                             "old": _text(a), "new": _text(b)})  # fmt: skip
    table = pd.DataFrame(rows, columns=DIFF_COLUMNS)
    table["change"] = pd.Categorical(table["change"], categories=CHANGES, ordered=True)
    table = table.sort_values(["id", "change", "field"], na_position="first", kind="stable")
    table["change"] = table["change"].astype(str)
    table = table.astype(object).where(table.notna(), None).reset_index(drop=True)
    logger.info("diff: %s", table["change"].value_counts().to_dict())
    return table


def summarize_diff(diff: pd.DataFrame, *, street_of: dict | None = None, top: int = 5) -> str:
    """Write a short Markdown summary of a diff for a planning memo.

    Parameters
    ----------
    diff : pandas.DataFrame
        From :func:`diff_projects`.
    street_of : dict, optional
        id -> street name, to count changes by street.
    top : int
        How many of the largest moves to list.
    """
    lines = ["# 项目清单版本比较 Project list: what changed", ""]
    counts = diff.groupby("change")["id"].nunique().reindex(CHANGES, fill_value=0)
    lines += ["| 变化 change | 项目数 projects |", "|---|---|"]
    lines += [f"| {c} | {int(n)} |" for c, n in counts.items()]
    if street_of:
        by_street = diff.assign(street=diff["id"].map(street_of).fillna("（区外 outside）"))
        per = by_street.groupby("street")["id"].nunique().sort_values(ascending=False)
        lines += ["", "| 街道 street | 有变化的项目 projects changed |", "|---|---|"]
        lines += [f"| {s} | {int(n)} |" for s, n in per.items()]
    moves = diff[diff["change"] == "moved"].sort_values("moved_m", ascending=False).head(top)
    if len(moves):
        lines += ["", "最大位移 Largest moves:", ""]
        lines += [f"- {r.id} {r.name or ''}: {r.moved_m:,.0f} m" for r in moves.itertuples()]
    return "\n".join(lines) + "\n"


def street_of_projects(projects, streets) -> dict:
    """Id -> name of the street holding each project's representative point."""
    pts = _crs.to_metric(projects[["id", "geometry"]])
    pts = pts.set_geometry(pts.geometry.representative_point())
    hit = gpd.sjoin(pts, _crs.to_metric(streets[["name", "geometry"]]), predicate="within")
    return hit.drop_duplicates("id").set_index("id")["name"].to_dict()
