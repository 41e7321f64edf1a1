"""What the reader fuzzers share: the bound on examples, strategies, and the one assertion.

Every fuzzer states the same property: whatever the input, a reader returns a
result or raises one of the package's own errors (:class:`GongshuGeoError`)
naming the file; anything else (a traceback from shapely, pandas, pyogrio,
numpy, a LookupError, an UnboundLocalError, ...) fails the test.

The suite runs :data:`EXAMPLES` cases per fuzzer (small, for CI). For a release,
run longer: ``GONGSHU_GEO_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz_*.py``.
"""

from __future__ import annotations

import math
import os
import warnings

import geopandas as gpd
import shapely
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from gongshu_geo import GongshuGeoError

EXAMPLES = int(os.environ.get("GONGSHU_GEO_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Around the district, at its edges, and far off: swapped, metres, beyond ±90/±180.
_NEAR = st.tuples(st.floats(120.05, 120.30), st.floats(30.20, 30.45))
_ODD = st.sampled_from(
    [
        (30.3, 120.15),  # swapped
        (514_000.0, 3_353_000.0),  # EPSG:4549 metres
        (13_375_000.0, 3_542_000.0),  # Web Mercator metres
        (120.15, 137.0),  # latitude 137 (GEOS once crashed on such a polygon)
        (181.0, 30.3),
        (-180.0, -90.0),
        (0.0, 0.0),
        (1e300, -1e300),
        (116.4, 39.9),  # Beijing
        (math.nan, 30.3),  # GEOS leaves a NaN vertex out of the bounding box
        (120.15, math.inf),
    ]
)
_ANY = st.tuples(
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
coords = st.one_of(_NEAR, _NEAR, _ODD, _ANY)


@st.composite
def geometries(draw, kinds=("Point", "LineString", "Polygon", "MultiPolygon", "empty")):
    """Shapely geometries, valid or not, near the district or anywhere."""
    with warnings.catch_warnings():  # shapely warns of NaN coordinates: they are on purpose
        warnings.simplefilter("ignore")
        return _geometry(draw, draw(st.sampled_from(kinds)))


def _geometry(draw, kind):
    if kind == "empty":
        return draw(st.sampled_from([None, shapely.Point(), shapely.Polygon()]))
    if kind == "Point":
        return shapely.Point(draw(coords))
    if kind == "LineString":
        pts = draw(st.lists(coords, min_size=2, max_size=5))
        return shapely.LineString(pts)
    ring = draw(st.lists(coords, min_size=3, max_size=6))
    try:
        polygon = shapely.Polygon(ring + ring[:1])  # may self-intersect: invalid on purpose
    except shapely.errors.GEOSException:  # a NaN first vertex: the ring cannot be closed
        return shapely.LineString(ring)
    if kind == "Polygon":
        return polygon
    return shapely.MultiPolygon([polygon, shapely.box(120.1, 30.3, 120.11, 30.31)])


#: Attribute values as a user's file may hold them.
values = st.one_of(
    st.none(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, width=32),
    st.text(max_size=8),
    st.sampled_from(["", " ", "330105001", "湖墅街道", "1e3", "nan", "P-PARK-001"]),
)

#: CRSs a file may carry (None: no .prj / no CRS).
crss = st.sampled_from([None, "EPSG:4326", "EPSG:4549", "EPSG:3857", "EPSG:4490"])


def frame_from(draw, columns, geometry_kinds=("Point", "LineString", "Polygon", "empty")):
    """A GeoDataFrame of 1-5 rows with the given columns of random values."""
    n = draw(st.integers(1, 5))
    data = {c: [draw(values) for _ in range(n)] for c in columns}
    geoms = [draw(geometries(geometry_kinds)) for _ in range(n)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=draw(crss))


def write_or_none(frame, path, **kwargs):
    """Write a frame with pyogrio; None when GDAL itself refuses (not what is under test)."""
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame.to_file(path, engine="pyogrio", **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, TypeError):
        return None
    except OSError:
        return None
    return path


def only_own_errors(read, path, *args, **kwargs):
    """Call ``read(path, ...)``: it returns, or raises GongshuGeoError naming the file.

    Warnings are allowed (they are not tracebacks); any other exception fails.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return read(path, *args, **kwargs)
        except GongshuGeoError as exc:
            message = str(exc)
            # the file, or one of its sidecars (s.cpg of s.shp)
            names = {str(path), os.path.basename(str(path)), os.path.splitext(str(path))[0]}
            assert any(name in message for name in names), f"the file is not named: {message}"
            assert "Traceback" not in message
            return None


def finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
