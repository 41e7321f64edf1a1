"""The datum shift and named CRSs, checked against independent computations."""

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point

from gongshu_geo import CRSError
from gongshu_geo.core.crs import (
    GCJ02,
    bd09_to_gcj02,
    from_gcj02,
    gcj02_to_wgs84,
    normalize_crs_name,
    to_crs_named,
    to_gcj02,
    to_metric,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_shift_in_hangzhou_is_several_hundred_metres_east_and_south():
    # AMap's offset in Hangzhou is well known: ~450 m east and ~250 m south of WGS 84.
    lon, lat = wgs84_to_gcj02(120.15, 30.32)
    d = _metres(120.15, 30.32, float(lon), float(lat))
    assert 400 < d < 700
    assert lon > 120.15 and lat < 30.32


def test_published_reference_vector():
    # the widely published check value of the GCJ-02 forward transform (Beijing, 天安门)
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.4102445, abs=1e-7)
    assert float(lat) == pytest.approx(39.9164043, abs=1e-7)


def test_bd09_published_reference_pair():
    # wandergis/coordtransform test/app.js prints bd09togcj02(116.404, 39.915) as
    # [116.39762729119315, 39.90865673957631]
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.39762729119315, abs=1e-9)
    assert float(lat) == pytest.approx(39.90865673957631, abs=1e-9)


def test_bd09_offset_in_hangzhou_is_about_a_kilometre_north_east_of_gcj02():
    # Baidu positions lie ~0.0065 deg east and ~0.006 deg north of AMap's: ~0.9 km
    lon, lat = bd09_to_gcj02([120.17, 120.20], [30.30, 30.33])
    d = [
        _metres(b, c, float(x), float(y))
        for b, c, x, y in zip([120.17, 120.20], [30.30, 30.33], lon, lat, strict=True)
    ]
    assert all(800 < m < 1000 for m in d)
    assert (lon < [120.17, 120.20]).all() and (lat < [30.30, 30.33]).all()


def test_outside_china_is_unchanged():
    lon, lat = wgs84_to_gcj02([2.35, -74.0], [48.85, 40.7])
    assert np.allclose(lon, [2.35, -74.0]) and np.allclose(lat, [48.85, 40.7])


def test_round_trip_under_half_a_metre_over_a_grid_covering_hangzhou():
    # Hangzhou municipality spans roughly 118.3-120.75 E, 29.2-30.6 N.
    lon, lat = np.meshgrid(np.linspace(118.3, 120.75, 60), np.linspace(29.2, 30.6, 60))
    glon, glat = wgs84_to_gcj02(lon.ravel(), lat.ravel())
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    err = _metres(lon.ravel(), lat.ravel(), wlon, wlat)
    assert np.max(err) < 0.5
    # and the shift itself was not zero, so the test could fail
    assert np.min(_metres(lon.ravel(), lat.ravel(), glon, glat)) > 100


@settings(max_examples=200, deadline=None)
@given(st.floats(73.7, 134.8), st.floats(18.2, 53.4))
def test_round_trip_property_anywhere_in_china(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, float(wlon), float(wlat)) < 0.5


def test_gdf_helpers_shift_and_restore():
    gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(120.15, 30.32)], crs="EPSG:4326")
    g = to_gcj02(gdf)
    assert g.attrs["datum"] == GCJ02
    exp = wgs84_to_gcj02(120.15, 30.32)
    assert g.geometry.iloc[0].x == pytest.approx(float(exp[0]))
    assert gdf.geometry.iloc[0].x == 120.15  # input untouched
    back = from_gcj02(g)
    assert _metres(120.15, 30.32, back.geometry.iloc[0].x, back.geometry.iloc[0].y) < 0.01
    with pytest.raises(CRSError, match="already in GCJ-02"):
        to_gcj02(g)
    with pytest.raises(CRSError, match="cannot be measured"):
        to_metric(g)


def test_named_crs():
    assert normalize_crs_name("gcj02") == GCJ02
    assert normalize_crs_name("epsg:4549") == "EPSG:4549"
    with pytest.raises(CRSError, match="unknown CRS 'EPSG:999999'"):
        normalize_crs_name("EPSG:999999")
    gdf = gpd.GeoDataFrame(geometry=[Point(120.15, 30.32)], crs="EPSG:4326")
    metric = to_crs_named(gdf, "EPSG:4549")
    # CM 120E, false easting 500 km: 0.15 degrees east at 30.32 N is ~14.4 km
    assert metric.geometry.iloc[0].x == pytest.approx(500_000 + 14_430, abs=50)


def test_frame_without_crs_is_refused():
    gdf = gpd.GeoDataFrame(geometry=[Point(1, 1)])
    with pytest.raises(CRSError, match="no CRS.*--crs"):
        to_metric(gdf)
