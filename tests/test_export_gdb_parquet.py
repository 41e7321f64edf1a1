"""File Geodatabase and GeoParquet exports, read back with pyogrio, Debian's ogrinfo and pyarrow."""

import json
import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from pyproj import CRS
from test_export import (
    _fail_on_call,
    build_layers,
    expected_geometry,
    expected_parts,
    metric_hausdorff,
    ogrinfo_summary,
    run_ogrinfo,
)

from gongshu_geo.data.schema import CATEGORIES, STATUSES
from gongshu_geo.exchange import gdb
from gongshu_geo.exchange.export import FIELD_LABELS, export_layers

GDB_CASES = ["EPSG:4549", "EPSG:4490", "EPSG:4326"]
TAG = {"EPSG:4549": "_epsg4549", "EPSG:4490": "_epsg4490", "EPSG:4326": ""}


def ogr_fields(path, layer):
    """Field name -> its `ogrinfo -so` line (type, alternative name, domain)."""
    stdout, _ = run_ogrinfo("-so", path, layer)
    fields = {}
    for line in stdout.splitlines():
        m = re.match(r"^(\S+): (\w+) \(\d+\.\d+\)(.*)$", line)
        if m:
            fields[m.group(1)] = (m.group(2), m.group(3))
    return fields


# --- File Geodatabase -----------------------------------------------------------------------


@pytest.mark.system
@pytest.mark.parametrize("crs", GDB_CASES)
def test_gdb_round_trip(tmp_path, crs):
    layers = build_layers(with_coverage=True)
    (path,) = export_layers(layers, tmp_path, fmt="gdb", crs=crs)
    assert path == tmp_path / f"gongshu_geo{TAG[crs]}.gdb" and path.is_dir()
    parts = expected_parts(layers, "gpkg")  # one geometry type per feature class, as in gpkg
    listed = dict(pyogrio.list_layers(path))
    assert set(listed) == set(parts) | {"project_streets"}
    assert listed["project_streets"] is None
    epsg = int(crs.split(":")[1])
    summary = ogrinfo_summary(path)
    for part, source in parts.items():
        read = pyogrio.read_dataframe(path, layer=part)
        assert len(read) == len(source), part
        assert list(read["name"] if "name" in read else []) == list(
            source["name"] if "name" in source else []
        )
        assert read.crs.to_epsg() == epsg, part
        assert metric_hausdorff(read, expected_geometry(source, crs), epsg) < 0.01, part
        assert summary[part] == (len(source), epsg)  # Debian's GDAL 3.6 agrees
    stdout, _ = run_ogrinfo("-al", "-geom=NO", path, "streets", "project_streets")
    for name in layers["streets"]["name"]:
        assert f"name (String) = {name}" in stdout
    assert "street_name (String) = 湖墅街道" in stdout


@pytest.mark.system
def test_gdb_aliases_domains_and_types_in_debian_ogrinfo(tmp_path):
    layers = build_layers()
    (path,) = export_layers(layers, tmp_path, fmt="gdb", crs="EPSG:4549")
    fields = ogr_fields(path, "projects_park_polygon")
    source_columns = [c for c in layers["projects_park"].columns if c != "geometry"]
    assert list(fields) == source_columns  # full names, in order, none cut to 10 bytes
    for column in source_columns:
        assert f'alternative name="{FIELD_LABELS[column]}"' in fields[column][1], column
    assert "domain name=gongshu_category" in fields["category"][1]
    assert "domain name=gongshu_status" in fields["status"][1]
    assert "domain" not in fields["category_zh"][1]
    assert fields["location_accuracy_m"][0] == "Real"
    streets = ogr_fields(path, "streets")
    assert streets["population"][0] == "Integer"  # int64 stored as 32-bit, readable by GDAL 3.6
    stdout, _ = run_ogrinfo(path, "-fielddomain", "gongshu_category")
    assert "Type: coded" in stdout
    for code, (label, _, _) in CATEGORIES.items():
        assert f"    {code}: {label}\n" in stdout
    stdout, _ = run_ogrinfo(path, "-fielddomain", "gongshu_status")
    assert all(f"    {code}: {label}\n" in stdout for code, label in STATUSES.items())
    info = pyogrio.read_info(path, layer="projects_park_point")
    assert info["layer_metadata"]["ALIAS_NAME"] == "规划项目：公园绿地 Plan projects (park)"


@pytest.mark.system
def test_gdb_keeps_chinese_field_names_whole(tmp_path):
    layers = build_layers()
    long_name = "街道办事处所在地详细地址"  # 36 UTF-8 bytes, far over a DBF name
    layers["streets"] = layers["streets"].rename(columns={"name_en": long_name})
    (path,) = export_layers(layers, tmp_path / "规划.gdb", fmt="gdb")
    assert path == tmp_path / "规划.gdb"
    read = pyogrio.read_dataframe(path, layer="streets")
    assert list(read.columns[:5]) == ["street_code", "name", long_name, "area_km2", "population"]
    assert list(read[long_name]) == ["Mishixiang", "Hushu", "Xiaohe"]
    assert long_name in ogr_fields(path, "streets")


def test_gdb_without_alias_support_says_so(tmp_path, monkeypatch, caplog):
    import gongshu_geo.exchange.gdal as gdal_api

    monkeypatch.setattr(gdal_api, "gdal_schema_support", lambda: (False, "GDAL 3.6 is too old"))
    with caplog.at_level(logging.WARNING, logger="gongshu_geo.exchange.gdb"):
        (path,) = export_layers(build_layers(), tmp_path, fmt="gdb")
    assert "written without field aliases and domains: GDAL 3.6 is too old" in caplog.text
    assert len(pyogrio.read_dataframe(path, layer="streets")) == 3


def test_failed_gdb_export_keeps_previous_one(tmp_path, monkeypatch):
    (path,) = export_layers(build_layers(), tmp_path, fmt="gdb")
    before = sorted(p.name for p in path.iterdir())
    _fail_on_call(monkeypatch, 3)
    layers = build_layers()
    layers["streets"].loc[0, "name"] = "改过的名字"
    with pytest.raises(RuntimeError, match="simulated crash"):
        export_layers(layers, tmp_path, fmt="gdb")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no scratch folders
    assert sorted(p.name for p in path.iterdir()) == before
    assert pyogrio.read_dataframe(path, layer="streets")["name"][0] == "米市巷街道"
    # and a good re-run replaces it
    export_layers(layers, tmp_path, fmt="gdb")
    assert pyogrio.read_dataframe(path, layer="streets")["name"][0] == "改过的名字"


def test_gdb_int_columns():
    frame = pd.DataFrame({"a": np.array([1, 2], dtype="int64"), "b": [2**40, 1], "c": [1.5, 2]})
    out = gdb._gdb_types(frame, "t")
    assert out["a"].dtype == np.int32 and out["b"].dtype == np.float64
    assert list(out["b"]) == [2.0**40, 1.0] and out["c"].dtype == np.float64
    assert frame["a"].dtype == np.int64  # the caller's frame is untouched


# --- GeoParquet -----------------------------------------------------------------------------


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4549"])
def test_geoparquet_metadata_and_bbox_covering(tmp_path, crs):
    layers = build_layers()
    written = export_layers(layers, tmp_path, fmt="parquet", crs=crs)
    tag = TAG[crs]
    assert {p.name for p in written} == {
        *(f"{n}{tag}.parquet" for n in layers if n != "project_streets"),
        "project_streets.parquet",
    }
    epsg = int(crs.split(":")[1])
    for name, source in layers.items():
        if not isinstance(source, gpd.GeoDataFrame):
            continue
        path = tmp_path / f"{name}{tag}.parquet"
        meta = json.loads(pq.read_schema(path).metadata[b"geo"])
        assert meta["version"] == "1.1.0"
        assert meta["primary_column"] == "geometry"
        column = meta["columns"]["geometry"]
        assert column["encoding"] == "WKB"
        assert column["covering"] == {
            "bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}
        }
        assert CRS.from_json_dict(column["crs"]).to_epsg() == epsg
        expected_types = set(source.geom_type)
        assert set(column["geometry_types"]) == expected_types
        read = gpd.read_parquet(path)
        assert read.crs.to_epsg() == epsg
        assert list(read["name"]) == list(source["name"])
        expected = expected_geometry(source, crs)
        assert metric_hausdorff(read, expected, epsg) < 0.01
        # the bbox column holds each geometry's bounds, worked out independently by shapely
        bbox = pq.read_table(path, columns=["bbox"]).column("bbox").to_pylist()
        bounds = shapely.bounds(np.asarray(expected.values))
        got = np.array([[b["xmin"], b["ymin"], b["xmax"], b["ymax"]] for b in bbox])
        np.testing.assert_allclose(got, bounds, rtol=0, atol=1e-6 if epsg == 4549 else 1e-9)
    table = pd.read_parquet(tmp_path / "project_streets.parquet")
    assert b"geo" not in (pq.read_schema(tmp_path / "project_streets.parquet").metadata or {})
    pd.testing.assert_frame_equal(table, layers["project_streets"].reset_index(drop=True))
