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
