"""Checks that a street layer tiles its district: no overlaps, no gaps."""

from __future__ import annotations

import logging

import shapely

from gongshu_geo.core import crs as _crs
from gongshu_geo.core.errors import ValidationError
from gongshu_geo.core.i18n import gettext as _

logger = logging.getLogger(__name__)

#: Overlaps or gaps smaller than this share of the total area are rounding noise.
DEFAULT_TOLERANCE_SHARE = 1e-4


def find_overlaps(streets, *, tolerance_share: float = DEFAULT_TOLERANCE_SHARE):
    """Pairs of streets whose polygons overlap by more than the tolerance.

    Parameters
    ----------
    streets : geopandas.GeoDataFrame
        With ``name`` and ``street_code`` columns and a CRS.
    tolerance_share : float
        Share of the layer's total area below which an overlap is ignored.

    Returns
    -------
    list of tuple
        ``(index_a, index_b, overlap_m2)`` for each offending pair.
    """
    metric = _crs.to_metric(streets)
    geoms = metric.geometry.values
    total = float(shapely.area(geoms).sum())
    left, right = metric.sindex.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    limit = tolerance_share * total
    return [
        (int(a), int(b), float(x)) for a, b, x in zip(left, right, areas, strict=True) if x > limit
    ]


def find_gaps(streets, *, tolerance_share: float = DEFAULT_TOLERANCE_SHARE):
    """Holes inside the union of the streets larger than the tolerance.

    Returns
    -------
    list of shapely.Polygon
        The gaps, in the metric CRS (EPSG:4549).
    """
    metric = _crs.to_metric(streets)
    union = shapely.union_all(metric.geometry.values)
    total = union.area
    parts = getattr(union, "geoms", [union])
    gaps = []
    for part in parts:
        for ring in part.interiors:
            hole = shapely.Polygon(ring)
            if hole.area > tolerance_share * total:
                gaps.append(hole)
    return gaps


def check_street_tiling(
    streets, *, source: str = "streets", tolerance_share=DEFAULT_TOLERANCE_SHARE
):
    """Raise :class:`ValidationError` naming every overlap and gap."""
    problems = []
    names = streets["name"].tolist() if "name" in streets else list(map(str, streets.index))
    for a, b, area in find_overlaps(streets, tolerance_share=tolerance_share):
        problems.append(
            _(
                'streets "{names}" (#{a}) and "{names2}" (#{b}) overlap by {area:,.0f} '
                "m²; street polygons must not overlap"
            ).format(names=names[a], a=a, names2=names[b], b=b, area=area)
        )
    for gap in find_gaps(streets, tolerance_share=tolerance_share):
        c = _crs_point_wgs84(gap.representative_point())
        problems.append(
            _(
                "a gap of {area:,.0f} m² near lon {c:.5f}, lat {c2:.5f} belongs to no "
                "street; street polygons must cover the district without gaps"
            ).format(area=gap.area, c=c[0], c2=c[1])
        )
    if problems:
        raise ValidationError(problems, source=source)


def _crs_point_wgs84(point):
    from pyproj import Transformer

    t = Transformer.from_crs(_crs.METRIC, _crs.WGS84, always_xy=True)
    return t.transform(point.x, point.y)
