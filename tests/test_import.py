"""Importing official street boundaries: a GBK Shapefile in CGCS2000 Gauss-Kruger, GCJ-02 input."""

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import box

from gongshu_geo import read_streets
from gongshu_geo.core import crs as gcrs
from gongshu_geo.core.errors import CRSError, InputError
from gongshu_geo.data.encoding import read_cpg, shapefile_encoding

X0, Y0 = 500_000, 3_350_000  # EPSG:4549 metres, near Gongshu
SQUARES = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]
NAMES = ["米市巷街道", "湖墅街道", "小河街道"]
CODES = ["330105001", "330105002", "330105003"]


@pytest.fixture
def official(tmp_path):
    """Stand-in for an official delivery: GBK attributes, EPSG:4549, fields 街道名称/街道代码."""
    gdf = gpd.GeoDataFrame(
        {"街道名称": NAMES, "街道代码": CODES, "面积": [1.0, 1.0, 1.0]},
        geometry=SQUARES,
        crs="EPSG:4549",
    )
    path = tmp_path / "街道边界.shp"
    pyogrio.write_dataframe(gdf, path, encoding="GBK")  # an independent writer, not ours
    raw = path.with_suffix(".dbf").read_bytes()
    assert "街道名称".encode("gbk") in raw and "米市巷街道".encode("gbk") in raw
    assert "米市巷街道".encode() not in raw
    return path


def _check_streets(streets):
    assert streets["name"].tolist() == NAMES
    assert streets["street_code"].tolist() == CODES
    assert streets.crs.to_epsg() == 4326
    areas = streets.to_crs(gcrs.METRIC).area.to_numpy()
    assert np.abs(areas - 1e6).max() < 0.01  # m², after 4549 -> 4326 -> 4549
    back = streets.to_crs(gcrs.METRIC).geometry
    assert max(a.hausdorff_distance(b) for a, b in zip(back, SQUARES, strict=True)) < 1e-6


def test_gbk_shapefile_with_cpg(official):
    assert read_cpg(official) == "GBK"
    streets = read_streets(official, name_field="街道名称", code_field="街道代码")
    _check_streets(streets)


def test_gbk_shapefile_without_cpg_needs_encoding(official):
    official.with_suffix(".cpg").unlink()
    streets = read_streets(official, name_field="街道名称", code_field="街道代码", encoding="GBK")
    _check_streets(streets)


def test_encoding_detection_from_cpg_and_header(official):
    assert shapefile_encoding(official) == "gbk"  # from the .cpg
    assert shapefile_encoding(official, "UTF-8") == "utf-8"  # the caller wins
    official.with_suffix(".cpg").unlink()
    with pytest.raises(InputError, match=r"not UTF-8 and there is no 街道边界.cpg.*--encoding GBK"):
        shapefile_encoding(official)
    dbf = official.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0x4D  # language driver id 77: code page 936 (GBK), as ArcGIS writes it
    dbf.write_bytes(bytes(raw))
    assert shapefile_encoding(official) == "gbk"


def test_utf8_shapefile_without_cpg_needs_nothing(tmp_path):
    gdf = gpd.GeoDataFrame({"名称": NAMES}, geometry=SQUARES, crs="EPSG:4549")
    path = tmp_path / "u.shp"
    pyogrio.write_dataframe(gdf, path, encoding="UTF-8")
    path.with_suffix(".cpg").unlink()
    assert shapefile_encoding(path) is None


def test_missing_prj_asks_for_crs(official):
    official.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"no CRS \(a Shapefile without .prj\?\).*--crs EPSG:4549"):
        read_streets(official, name_field="街道名称", code_field="街道代码")
    streets = read_streets(official, name_field="街道名称", code_field="街道代码", crs="EPSG:4549")
    _check_streets(streets)


def test_gcj02_input_is_shifted_back(tmp_path):
    wgs = gpd.GeoSeries(SQUARES, crs=gcrs.METRIC).to_crs(gcrs.WGS84)

    def to_gcj(coords):
        return np.column_stack(gcrs.wgs84_to_gcj02(coords[:, 0], coords[:, 1]))

    gcj = shapely.transform(wgs.values, to_gcj)  # what AMap would show
    gdf = gpd.GeoDataFrame({"街道名称": NAMES, "街道代码": CODES}, geometry=gcj, crs="EPSG:4326")
    path = tmp_path / "amap.geojson"  # AMap-derived data usually arrives as GeoJSON
    pyogrio.write_dataframe(gdf, path)
    streets = read_streets(path, name_field="街道名称", code_field="街道代码", crs="GCJ-02")

    def from_gcj(coords):
        return np.column_stack(gcrs.gcj02_to_wgs84(coords[:, 0], coords[:, 1]))

    expected = shapely.transform(gcj, from_gcj)  # the inverse, applied here independently
    for got, want, original in zip(streets.geometry, expected, wgs, strict=True):
        assert np.abs(shapely.get_coordinates(got) - shapely.get_coordinates(want)).max() < 1e-12
        assert np.abs(shapely.get_coordinates(got) - shapely.get_coordinates(original)).max() < 1e-8
    assert streets["name"].tolist() == NAMES


def test_gcj02_refuses_projected_input(official):
    with pytest.raises(CRSError, match=r"--crs GCJ-02 needs longitude/latitude.*EPSG:4549"):
        read_streets(official, name_field="街道名称", code_field="街道代码", crs="GCJ-02")
