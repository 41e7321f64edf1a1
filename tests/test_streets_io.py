"""Reading street layers: field mapping, CRS, population, tiling errors."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gongshu_geo import CRSError, InputError, ValidationError, read_points_csv, read_streets

X0, Y0 = 500_000, 3_350_000


def _streets(tmp_path, geoms, *, crs="EPSG:4549", name="s.gpkg", **cols):
    data = {
        "街道名称": [f"街道{i}" for i in range(len(geoms))],
        "街道代码": [f"33010500{i}" for i in range(len(geoms))],
    }
    data.update(cols)
    gdf = gpd.GeoDataFrame(data, geometry=geoms, crs=crs)
    path = tmp_path / name
    gdf.to_file(path)
    return path


SQUARES = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]


def test_field_mapping_and_reprojection(tmp_path):
    path = _streets(tmp_path, SQUARES)
    s = read_streets(path, name_field="街道名称", code_field="街道代码")
    assert s["name"].tolist() == ["街道0", "街道1", "街道2"]
    assert s["street_code"].tolist() == ["330105000", "330105001", "330105002"]
    assert s.crs.to_epsg() == 4326
    assert s.to_crs(4549).area.to_numpy() == pytest.approx([1e6] * 3, rel=1e-6)


def test_missing_field_names_the_fields_there_are(tmp_path):
    path = _streets(tmp_path, SQUARES)
    with pytest.raises(
        InputError,
        match='field "name" not found; the layer has fields 街道名称, 街道代码.*--name-field',
    ):
        read_streets(path)


def test_overlap_and_gap_are_reported(tmp_path):
    overlapping = [SQUARES[0], box(X0 + 900, Y0, X0 + 2000, Y0 + 1000)]
    path = _streets(tmp_path, overlapping, name="o.gpkg")
    with pytest.raises(
        ValidationError, match=r'"街道0" \(#0\) and "街道1" \(#1\) overlap by 100,000 m²'
    ):
        read_streets(path, name_field="街道名称", code_field="街道代码")
    ring = box(X0, Y0, X0 + 3000, Y0 + 3000).difference(
        box(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 2000)
    )
    path = _streets(tmp_path, [ring], name="g.gpkg")
    with pytest.raises(
        ValidationError, match="a gap of 1,000,000 m² near lon .* belongs to no street"
    ):
        read_streets(path, name_field="街道名称", code_field="街道代码")


def test_shapefile_without_prj_asks_for_crs(tmp_path):
    # DBF field names hold 10 bytes: 名称/代码 (6 bytes in UTF-8) fit
    gdf = gpd.GeoDataFrame(
        {"名称": ["甲", "乙", "丙"], "代码": ["1", "2", "3"]}, geometry=SQUARES, crs="EPSG:4549"
    )
    path = tmp_path / "s.shp"
    gdf.to_file(path, encoding="UTF-8")
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"no CRS \(a Shapefile without .prj\?\).*--crs"):
        read_streets(path, name_field="名称", code_field="代码")
    s = read_streets(path, name_field="名称", code_field="代码", crs="EPSG:4549")
    assert s.to_crs(4549).area.sum() == pytest.approx(3e6, rel=1e-6)
    assert s["name"].tolist() == ["甲", "乙", "丙"]


def test_population_table_joined_by_code(tmp_path):
    path = _streets(tmp_path, SQUARES)
    table = tmp_path / "pop.csv"
    pd.DataFrame(
        {"code": ["330105000", "330105001", "330105002"], "pop": ["10", "20", "30"]}
    ).to_csv(table, index=False)
    s = read_streets(
        path,
        name_field="街道名称",
        code_field="街道代码",
        population_table=table,
        population_field="pop",
        population_code_field="code",
    )
    assert s["population"].tolist() == [10, 20, 30]
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"code": ["330105000"], "pop": ["many"]}).to_csv(bad, index=False)
    with pytest.raises(
        InputError, match='"pop" must be a number; found non-numeric values for codes'
    ):
        read_streets(
            path,
            name_field="街道名称",
            code_field="街道代码",
            population_table=bad,
            population_field="pop",
            population_code_field="code",
        )


def test_csv_points_errors(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("name,lon,lat\na,120.15,30.32\nb,,30.3\nc,east,30.3\n", encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"row 3: lon/lat must be numbers; found nan/'30.3'|row 3: lon/lat must be numbers",
    ):
        read_points_csv(path)
    path.write_text("name,x,y\na,120.15,30.32\n", encoding="utf-8")
    with pytest.raises(InputError, match='column "lon" not found; it has name, x, y'):
        read_points_csv(path)
    gdf = read_points_csv(path, lon_field="x", lat_field="y")
    assert gdf.geometry.iloc[0].x == 120.15


def test_csv_points_gbk_and_gcj02(tmp_path):
    from gongshu_geo.core.crs import gcj02_to_wgs84

    path = tmp_path / "f.csv"
    path.write_bytes("名称,lon,lat\n公园,120.15,30.32\n".encode("gbk"))
    gdf = read_points_csv(path, crs="GCJ-02")
    exp = gcj02_to_wgs84(120.15, 30.32)
    assert gdf.geometry.iloc[0].x == pytest.approx(float(exp[0]))
    assert gdf["名称"].iloc[0] == "公园"


def test_read_layer_requires_a_crs(tmp_path):
    from gongshu_geo import read_layer

    gdf = gpd.GeoDataFrame({"n": [1, 2, 3]}, geometry=SQUARES, crs="EPSG:4549")
    path = tmp_path / "f.shp"
    gdf.to_file(path)
    assert read_layer(path).crs.to_epsg() == 4549
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"f.shp: the facility layer has no CRS \(.prj missing\?\)"):
        read_layer(path, what="facility layer")
    with pytest.raises(InputError, match="nope.gpkg: no such file"):
        read_layer(tmp_path / "nope.gpkg")


def test_gcj02_streets_with_infinite_coordinates_are_refused_by_name(tmp_path):
    # found by tests/test_fuzz_streets.py: the datum shift ran before the range check
    # and GEOS raised on the ring it could no longer close
    import geopandas as gpd
    import pytest
    import shapely

    from gongshu_geo import InputError, read_streets

    ring = [(120.15, float("inf")), (120.25, 30.25), (120.25, 30.26), (120.15, float("inf"))]
    path = tmp_path / "inf.gpkg"
    gpd.GeoDataFrame(
        {"name": ["a"], "street_code": ["1"]}, geometry=[shapely.Polygon(ring)], crs="EPSG:4326"
    ).to_file(path)
    with pytest.raises(InputError, match=r"inf.gpkg: feature #0 .* not finite"):
        read_streets(path, crs="GCJ-02")
