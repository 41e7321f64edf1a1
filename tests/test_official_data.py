"""A planner's own delivery, a GBK Shapefile in CGCS2000 Gauss-Kruger, runs through build."""

import pandas as pd
import pyogrio
import pytest

from gongshu_geo import read_streets
from gongshu_geo.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture
def official(tmp_path):
    """The packaged streets, delivered as a bureau would: GBK DBF, EPSG:4549, Chinese fields."""
    streets = read_streets().to_crs("EPSG:4549")
    delivery = streets[["street_code", "name", "geometry"]].rename(
        columns={"street_code": "街道代码", "name": "街道名称"}  # 8 bytes each in GBK
    )
    shp = tmp_path / "official" / "街道.shp"
    shp.parent.mkdir()
    pyogrio.write_dataframe(delivery, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()  # older deliveries often come without one
    pop = tmp_path / "人口.csv"
    pd.DataFrame(
        {"街道代码": streets["street_code"], "常住人口": range(10_000, 10_000 + 18_000, 1_000)}
    ).to_csv(pop, index=False, encoding="gbk")
    return shp, pop, streets


def test_build_runs_end_to_end_on_the_delivery(official, tmp_path, capsys):
    shp, pop, packaged = official
    out = tmp_path / "out"
    code = main(
        [
            "-q",
            "build",
            "--streets",
            str(shp),
            "--name-field",
            "街道名称",
            "--code-field",
            "街道代码",
            "--encoding",
            "GBK",
            "--population",
            str(pop),
            "--population-field",
            "常住人口",
            "--population-code-field",
            "街道代码",
            "--out",
            str(out),
            "--no-png",
        ]
    )
    assert code == 0, capsys.readouterr().err
    streets = pd.read_csv(
        out / "stats/streets.csv", encoding="utf-8-sig", dtype={"street_code": str}
    )
    assert sorted(streets["name"]) == sorted(packaged["name"])
    assert streets["population"].sum() == sum(range(10_000, 28_000, 1_000))
    cov = pd.read_csv(out / "stats/coverage.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert set(cov["street_code"]) == set(packaged["street_code"])
    layer = pyogrio.read_dataframe(out / "layers/gongshu_geo.gpkg", layer="streets")
    assert set(layer["name"]) == set(packaged["name"])


def test_population_column_names_must_match(official, tmp_path, capsys):
    shp, pop, _ = official
    code = main(
        [
            "validate",
            "--streets",
            str(shp),
            "--name-field",
            "街道名称",
            "--code-field",
            "街道代码",
            "--encoding",
            "GBK",
            "--population",
            str(pop),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and 'column "population" not found' in err


def _three_streets(tmp_path):
    """Three of the packaged streets as the user's whole study area (outline known: their union)."""
    import geopandas as gpd

    streets = read_streets().to_crs("EPSG:4549").iloc[[0, 1, 3]]
    path = tmp_path / "three.gpkg"
    gpd.GeoDataFrame(streets[["street_code", "name", "geometry"]]).to_file(path)
    return path, streets.union_all()


def test_map_and_export_draw_the_users_outline(tmp_path):
    import json
    import re

    import geopandas as gpd
    from shapely.geometry import shape

    path, union = _three_streets(tmp_path)
    out = tmp_path / "x.gpkg"
    assert (
        main(["-q", "export", "--format", "gpkg", "--streets", str(path), "--out", str(out)]) == 0
    )
    outline = pyogrio.read_dataframe(out, layer="district").to_crs("EPSG:4549").geometry.iloc[0]
    # the outline exported is the three streets' union, not the packaged 99 km² district
    assert outline.area == pytest.approx(union.area, rel=1e-3)
    assert outline.symmetric_difference(union).area < 1e-3 * union.area
    assert main(["-q", "map", "--streets", str(path), "--out", str(tmp_path / "m")]) == 0
    html = (tmp_path / "m" / "index.html").read_text(encoding="utf-8")
    # the first GeoJSON layer the page adds is the district boundary
    first = re.search(r"geo_json_\w+_add\((\{.*?\})\);\n", html, re.S)
    drawn = shape(json.loads(first.group(1))["features"][0]["geometry"])
    expected = gpd.GeoSeries([union], crs="EPSG:4549").to_crs("EPSG:4326").total_bounds
    assert drawn.bounds == pytest.approx(tuple(expected), abs=2e-4)
