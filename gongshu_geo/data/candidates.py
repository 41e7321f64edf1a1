"""Candidate sites for :mod:`gongshu_geo.analysis.siting`: the plan's defaults, or the user's layer.

By default the candidates are the plan's development blocks and units and the
polygon projects of the categories a user names; otherwise any point or polygon
layer (a CSV with ``lon``/``lat`` too). Each candidate needs a unique id, and
every problem of a layer is listed at once, naming the file, the feature, the
field, what was expected and what was found.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import InputError
from gongshu_geo.core.i18n import N_
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: Project categories that are candidate sites by default.
DEFAULT_CANDIDATE_CATEGORIES = ("development_block",)


def default_candidates(
    projects: gpd.GeoDataFrame, *, categories: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    """Take the plan's development blocks and the polygon projects of the categories named.

    Parameters
    ----------
    projects : geopandas.GeoDataFrame
        As read by :func:`gongshu_geo.read_projects`.
    categories : iterable of str
        Further project categories whose polygons are candidate sites (e.g. ``"park"``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name``, ``category``, ``status`` and the geometry, in EPSG:4326.
    """
    from gongshu_geo.data.schema import CATEGORIES

    categories = [categories] if isinstance(categories, str) else list(categories)
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise InputError(
            _("unknown category {unknown!r}; expected one of {categories}").format(
                unknown=unknown[0], categories=", ".join(CATEGORIES)
            )
        )
    blocks = projects["category"].isin(DEFAULT_CANDIDATE_CATEGORIES)
    polygons = projects["category"].isin(categories) & projects.geom_type.isin(
        ["Polygon", "MultiPolygon"]
    )
    keep = [c for c in ("id", "name", "category", "status") if c in projects.columns]
    out = projects.loc[blocks | polygons, [*keep, "geometry"]].to_crs(_crs.WGS84)
    logger.info(_("%d default candidate sites"), len(out))
    return out.reset_index(drop=True)


def read_candidates(
    source: str | os.PathLike, *, id_field: str = "id", name_field: str = "name"
) -> gpd.GeoDataFrame:
    """Read candidate sites: any point or polygon layer, or a CSV with ``lon``/``lat``.

    Parameters
    ----------
    source : str or Path
        GeoJSON, GeoPackage, Shapefile, ... (with a CRS), or CSV/XLSX of points.
    id_field, name_field : str
        Columns holding each candidate's id (required, unique) and name (optional).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name`` and the geometry, in EPSG:4326, checked as
        :func:`check_candidates` does.
    """
    from gongshu_geo.data.io import read_layer, read_points_csv

    if Path(source).suffix.lower() in (".csv", ".xlsx"):
        frame = read_points_csv(source)
    else:
        frame = read_layer(source, what=N_("candidate layer"))
    return check_candidates(frame, id_field=id_field, name_field=name_field, source=str(source))


def check_candidates(frame, *, id_field="id", name_field="name", source="candidates"):
    """Check candidate sites and list every problem at once.

    Each candidate needs a unique, non-empty id and a Point or Polygon geometry
    (Multi- too). The result has columns ``id``, ``name`` (the id where no name
    is given) and the geometry in EPSG:4326, in the input's order.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(
            _("{source}: expected a GeoDataFrame; found {type}").format(
                source=source, type=type(frame).__name__
            )
        )
    if frame.empty:
        raise InputError(_("{source}: the candidate layer has no features").format(source=source))
    if id_field not in frame.columns:
        raise InputError(
            _(
                '{source}: every candidate needs an id: column "{id_field}" not found; '
                "it has {columns}. Name the id column with --id-field"
            ).format(source=source, id_field=id_field, columns=", ".join(map(str, frame.columns)))
        )
    problems, seen = [], {}
    ids = frame[id_field].tolist()
    kinds = frame.geom_type.tolist()
    for k, (fid, kind, geom) in enumerate(zip(ids, kinds, frame.geometry, strict=True)):
        if _blank(fid):
            label = _("feature #{index}").format(index=k)
        else:
            label = _('feature "{id}" (#{index})').format(id=fid, index=k)
        if _blank(fid):
            found = repr(fid) if isinstance(fid, str) else "nothing"
            problems.append(
                _('{label}: "{id_field}" must be a non-empty id; found {found}').format(
                    label=label, id_field=id_field, found=found
                )
            )
        elif fid in seen:
            problems.append(
                _(
                    '{label}: duplicate "{id_field}" {fid!r}, first used by feature #{seen}; '
                    "every id must be unique"
                ).format(label=label, id_field=id_field, fid=fid, seen=seen[fid])
            )
        else:
            seen[fid] = k
        if geom is None or geom.is_empty:
            problems.append(
                _("{label}: geometry must be a Point or Polygon; found none").format(label=label)
            )
        elif kind not in ("Point", "MultiPoint", "Polygon", "MultiPolygon"):
            problems.append(
                _("{label}: geometry must be a Point or Polygon; found {kind}").format(
                    label=label, kind=kind
                )
            )
    if problems:
        raise InputError(problems, source=source)
    if frame.crs is None:
        raise InputError(
            _("{source}: the candidate layer has no CRS; give it one").format(source=source)
        )
    names = frame[name_field] if name_field in frame.columns else frame[id_field]
    names = [str(fid) if _blank(n) else str(n) for fid, n in zip(ids, names, strict=True)]
    return gpd.GeoDataFrame(
        {"id": ids, "name": names}, geometry=frame.geometry.values, crs=frame.crs
    ).to_crs(_crs.WGS84)


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value) == ""
