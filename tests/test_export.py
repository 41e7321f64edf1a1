"""Export: every format and CRS written, read back with pyogrio and Debian's ogrinfo, compared."""

import csv
import re
import sqlite3
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS
from shapely import LineString, Point, box

from gongshu_geo.core import crs as gcrs
from gongshu_geo.core.errors import CRSError, InputError
from gongshu_geo.exchange import export
from gongshu_geo.exchange.export import collect_layers, export_layers
from gongshu_geo.exchange.shapefile import cut_to_bytes, short_field_names

CRS_ALL = ["EPSG:4326", "EPSG:4490", "EPSG:4549", "GCJ-02"]
TAGS = {"EPSG:4326": "", "EPSG:4490": "_epsg4490", "EPSG:4549": "_epsg4549", "GCJ-02": "_gcj02"}
CASES = [(f, c) for f in ("gpkg", "shp", "kml", "geojson", "csv") for c in CRS_ALL]
CASES = [(f, c) for f, c in CASES if f != "kml" or c == "EPSG:4326"]
# What each file's CRS must be: GCJ-02 is written as (labelled) WGS 84.
FILE_EPSG = {"EPSG:4326": 4326, "EPSG:4490": 4490, "EPSG:4549": 4549, "GCJ-02": 4326}


def build_inputs():
    """Three 1 km-ish square streets side by side; five projects, two of them in the middle."""
    streets = gpd.GeoDataFrame(
        {
            "street_code": ["330105001", "330105002", "330105003"],
            "name": ["米市巷街道", "湖墅街道", "小河街道"],
            "name_en": ["Mishixiang", "Hushu", "Xiaohe"],
            "area_km2": [1.07, 1.07, 1.07],
            "population": [100, 200, 300],
        },
        geometry=[box(120.14 + 0.01 * i, 30.30, 120.15 + 0.01 * i, 30.31) for i in range(3)],
        crs="EPSG:4326",
    )
    district = gpd.GeoDataFrame(
        {"name": ["拱墅区"]}, geometry=[box(120.14, 30.30, 120.17, 30.31)], crs="EPSG:4326"
    )
    base = {
        "name_en": "test",
        "subcategory": "city_park",
        "period": "2021-2025",
        "plan_ref": "《拱墅区国民经济和社会发展第十四个五年规划》第三章",
        "location_source": "fixture",
        "location_accuracy_m": 50.0,
    }
    rows = [
        ("P-PARK-001", "运河公园", "park", "planned", Point(120.145, 30.305)),
        ("P-PARK-002", "小河公园", "park", "completed", box(120.161, 30.301, 120.163, 30.303)),
        ("P-PARK-003", "湖墅绿地", "park", "under_construction", Point(120.155, 30.305)),
        (
            "P-GWAY-001",
            "运河绿道",
            "greenway",
            "planned",
            LineString([(120.141, 30.305), (120.169, 30.306)]),
        ),
        ("P-MSTN-001", "拱宸桥东站", "metro_station", "under_construction", Point(120.156, 30.308)),
    ]
    projects = gpd.GeoDataFrame(
        [{"id": i, "name": n, "category": c, "status": s, **base} for i, n, c, s, _ in rows],
        geometry=[g for *_, g in rows],
        crs="EPSG:4326",
    )
    projects["target_area_m2"] = [np.nan, 40000.0, np.nan, np.nan, np.nan]
    return projects, streets, district


def build_layers(*, with_coverage=False):
    projects, streets, district = build_inputs()
    table = pd.DataFrame(
        {
            "project_id": ["P-PARK-001", "P-PARK-003"],
            "street_code": ["330105001", "330105002"],
            "street_name": ["米市巷街道", "湖墅街道"],
            "area_share": [1.0, 1.0],
        }
    )
    coverage = {}
    if with_coverage:
        centre = gpd.GeoSeries([Point(120.145, 30.305)], crs="EPSG:4326").to_crs(gcrs.METRIC)
        rings = [centre.buffer(r).to_crs("EPSG:4326").iloc[0] for r in (400.0, 800.0)]
        coverage["service_areas"] = gpd.GeoDataFrame(
            {"facility": ["park", "park"], "minutes": [5, 10], "distance_m": [400.0, 800.0]},
            geometry=rings,
            crs="EPSG:4326",
        )
        coverage["gaps"] = gpd.GeoDataFrame(
            {"facility": ["park"]}, geometry=[box(120.165, 30.301, 120.169, 30.309)], crs=4326
        )
    return collect_layers(
        streets, projects, district, tables={"project_streets": table}, **coverage
    )


# Written layer name -> the source rows it holds (mixed layers are split by geometry type).
def expected_parts(layers, fmt):
    parts = {}
    for name, frame in layers.items():
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        family = frame.geom_type.str.replace("Multi", "").map(
            {"Point": "point", "LineString": "line", "Polygon": "polygon"}
        )
        if fmt in ("gpkg", "shp") and family.nunique() > 1:
            for fam in family.unique():
                parts[f"{name}_{fam}"] = frame[family == fam]
        else:
            parts[name] = frame
    return parts


def expected_geometry(frame, crs):
    """The source geometries as the file should hold them, shifted independently for GCJ-02."""
    if crs == "GCJ-02":

        def shift(coords):
            lon, lat = gcrs.wgs84_to_gcj02(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return gpd.GeoSeries(shapely.transform(frame.geometry.values, shift), crs="EPSG:4326")
    return frame.geometry.to_crs(crs)


def file_for(out, fmt, crs, part):
    tag = TAGS[crs]
    return {
        "gpkg": out / f"gongshu_geo{tag}.gpkg",
        "shp": out / f"{part}{tag}.shp",
        "kml": out / f"{part}.kml",
        "geojson": out / f"{part}{tag}.geojson",
        "csv": out / f"{part}{tag}.csv",
    }[fmt]


def csv_open_options(path):
    header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    if "WKT" in header:
        return {}
    x, y = ("lon", "lat") if "lon" in header else ("x", "y")
    return {"X_POSSIBLE_NAMES": x, "Y_POSSIBLE_NAMES": y}


def read_back(path, fmt, part):
    kwargs = {"layer": part} if fmt == "gpkg" else {}
    if fmt == "csv":
        kwargs.update(csv_open_options(path))
    gdf = pyogrio.read_dataframe(path, **kwargs)
    if fmt == "kml":
        gdf = gdf.rename(columns={"Name": "name"})
    return gdf


def run_ogrinfo(*args):
    from _system import require_program

    ogrinfo = require_program("ogrinfo", "Debian gdal-bin's ogrinfo reads the exports back")
    result = subprocess.run([ogrinfo, *map(str, args)], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return result.stdout.decode("utf-8"), result.stderr.decode("utf-8", "replace")


def ogrinfo_summary(path, layer=None, open_options=None):
    """Layer name -> (feature count, EPSG code or None) from `ogrinfo -so -al`."""
    args = ["-so", "-al"]
    for key, value in (open_options or {}).items():
        args += ["-oo", f"{key}={value}"]
    stdout, stderr = run_ogrinfo(*args, path, *([layer] if layer else []))
    assert "partially supported" not in stderr, stderr
    summary = {}
    for block in stdout.split("\nLayer name: ")[1:]:
        name = block.splitlines()[0].strip()
        count = int(re.search(r"Feature Count: (\d+)", block).group(1))
        wkt = re.search(
            r"Layer SRS WKT:\n(.*?)\n(?:Data axis|FID Column|Geometry Column|\w+: )", block, re.S
        ).group(1)
        epsg = None if wkt.strip() == "(unknown)" else CRS.from_wkt(wkt).to_epsg(min_confidence=90)
        summary[name] = (count, epsg)
    return summary


def metric_hausdorff(read, expected, file_epsg):
    a = gpd.GeoSeries(read.geometry.values, crs=f"EPSG:{file_epsg}").to_crs(gcrs.METRIC)
    b = gpd.GeoSeries(expected.values, crs=f"EPSG:{file_epsg}").to_crs(gcrs.METRIC)
    return max(x.hausdorff_distance(y) for x, y in zip(a, b, strict=True))


def test_collect_layers_one_per_theme():
    layers = build_layers()
    assert list(layers) == [
        "district",
        "streets",
        "projects_park",
        "projects_greenway",
        "projects_metro_station",
        "project_streets",
    ]
    park = layers["projects_park"]
    assert list(park.columns[:7]) == [
        "id",
        "name",
        "name_en",
        "category",
        "category_zh",
        "subcategory",
        "status",
    ]
    assert set(park["category_zh"]) == {"公园绿地"}
    assert park.set_index("id").loc["P-PARK-002", "status_zh"] == "建成(十四五期间)"
    assert not isinstance(layers["project_streets"], gpd.GeoDataFrame)


def test_collect_layers_rejects_unknown_category():
    projects, streets, district = build_inputs()
    projects.loc[0, "category"] = "zoo"
    with pytest.raises(InputError, match=r'"category" must be one of park.*found \'zoo\''):
        collect_layers(streets, projects, district)


@pytest.mark.system
@pytest.mark.parametrize(("fmt", "crs"), CASES)
def test_round_trip(tmp_path, fmt, crs):
    layers = build_layers()
    written = export_layers(layers, tmp_path, fmt=fmt, crs=crs)
    assert all(p.exists() for p in written)
    parts = expected_parts(layers, fmt)
    file_epsg = FILE_EPSG[crs]
    tolerance_m = 0.01
    for part, source in parts.items():
        path = file_for(tmp_path, fmt, crs, part)
        assert path in written or fmt == "gpkg", f"{path.name} not among {written}"
        read = read_back(path, fmt, part)
        assert len(read) == len(source), part
        assert list(read["name"]) == list(source["name"]), part
        if fmt != "csv":
            assert read.crs.to_epsg() == file_epsg, part
        expected = expected_geometry(source, crs)
        assert metric_hausdorff(read, expected, file_epsg) < tolerance_m, part
        if crs == "GCJ-02":  # the shift really was applied: hundreds of metres here
            plain = source.geometry.to_crs(gcrs.METRIC)
            moved = gpd.GeoSeries(read.geometry.values, crs="EPSG:4326").to_crs(gcrs.METRIC)
            shifts = [a.hausdorff_distance(b) for a, b in zip(moved, plain, strict=True)]
            assert 300 < min(shifts) and max(shifts) < 800
        # Debian's ogrinfo (GDAL 3.6) sees the same counts, CRS and Chinese names.
        options = csv_open_options(path) if fmt == "csv" else None
        summary = ogrinfo_summary(path, part if fmt == "gpkg" else None, options)
        ((count, epsg),) = [summary[part]] if fmt == "gpkg" else summary.values()
        assert count == len(source)
        assert epsg == (None if fmt == "csv" else file_epsg)
        args = ["-al", "-geom=NO"] + sum(
            (["-oo", f"{k}={v}"] for k, v in (options or {}).items()), []
        )
        stdout, _ = run_ogrinfo(*args, path, *([part] if fmt == "gpkg" else []))
        for name in source["name"]:
            assert name in stdout, (part, name)


def test_projected_csv_points_use_x_y(tmp_path):
    export_layers(build_layers(), tmp_path, fmt="csv", crs="EPSG:4549")
    header = (
        (tmp_path / "projects_metro_station_epsg4549.csv").read_text("utf-8-sig").splitlines()[0]
    )
    assert header.endswith(",x,y")
    header = (tmp_path / "projects_park_epsg4549.csv").read_text("utf-8-sig").splitlines()[0]
    assert header.endswith(",WKT")  # points and a polygon: WKT


def test_csv_gbk(tmp_path):
    layers = build_layers()
    layers["streets"].loc[0, "name_en"] = "1.07 km²"
    export_layers(layers, tmp_path, fmt="csv", encoding="GBK")
    table = pd.read_csv(tmp_path / "streets.csv", encoding="gbk")
    assert list(table["name"]) == ["米市巷街道", "湖墅街道", "小河街道"]
    assert table.loc[0, "name_en"] == "1.07 km2"
    layers["streets"].loc[0, "name"] = "🌳"
    with pytest.raises(InputError, match=r"streets.csv: row #0: \"name\" value '🌳' cannot be"):
        export_layers(layers, tmp_path, fmt="csv", encoding="GBK")


def test_csv_is_utf8_with_bom_for_excel(tmp_path):
    export_layers(build_layers(), tmp_path, fmt="csv")
    raw = (tmp_path / "projects_metro_station.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["name"] == "拱宸桥东站"
    assert (float(rows[0]["lon"]), float(rows[0]["lat"])) == (120.156, 30.308)


# --- GeoPackage -----------------------------------------------------------------------------


@pytest.mark.system
def test_geopackage_version_opens_cleanly_in_debian_gdal(tmp_path):
    (path,) = export_layers(build_layers(), tmp_path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
    _, stderr = run_ogrinfo("-so", path)
    assert "partially supported" not in stderr
    assert stderr.strip() == ""


def test_geopackage_layers_tables_and_styles(tmp_path):
    (path,) = export_layers(build_layers(), tmp_path)
    listed = dict(pyogrio.list_layers(path))
    assert listed["projects_park_point"] == "Point"
    assert listed["projects_park_polygon"] == "Polygon"
    assert listed["projects_greenway"] == "LineString"
    assert listed["project_streets"] is None
    table = pyogrio.read_dataframe(path, layer="project_streets", read_geometry=False)
    assert list(table["street_name"]) == ["米市巷街道", "湖墅街道"]
    with sqlite3.connect(path) as con:
        styles = con.execute(
            "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
            "styleName, useAsDefault, styleQML FROM layer_styles ORDER BY id"
        ).fetchall()
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    spatial = [n for n, t in listed.items() if t is not None]
    assert [row[2] for row in styles] == spatial  # one row per styled layer
    assert all(row[:2] == ("", "") and row[3] == "geom" and row[5] == 1 for row in styles)
    assert kinds["layer_styles"] == "attributes"
    qml = dict((row[2], row[6]) for row in styles)
    assert 'type="categorizedSymbol" attr="status"' in qml["projects_park_point"]
    assert 'value="completed"' in qml["projects_park_polygon"]
    assert 'label="建成(十四五期间) completed"' in qml["projects_park_polygon"]
    assert 'type="singleSymbol"' in qml["streets"]


def test_geopackage_service_areas_and_gaps(tmp_path):
    layers = build_layers(with_coverage=True)
    assert list(layers)[-3:] == ["service_areas", "gaps", "project_streets"]
    (path,) = export_layers(layers, tmp_path)
    with sqlite3.connect(path) as con:
        qml = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall())
    assert 'type="categorizedSymbol" attr="minutes"' in qml["service_areas"]
    assert 'label="10 分钟 min"' in qml["service_areas"]
    assert 'type="singleSymbol"' in qml["gaps"]
    read = pyogrio.read_dataframe(path, layer="service_areas")
    assert list(read["minutes"]) == [5, 10]


def test_geopackage_gcj02_says_so(tmp_path):
    (path,) = export_layers(build_layers(), tmp_path, crs="GCJ-02")
    assert path.name == "gongshu_geo_gcj02.gpkg"
    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT table_name, description, srs_id FROM gpkg_contents WHERE data_type='features'"
        ).fetchall()
    assert rows and all("GCJ-02" in d and srs == 4326 for _, d, srs in rows)


def test_geopackage_to_named_file(tmp_path):
    target = tmp_path / "sub" / "规划项目.gpkg"
    assert export_layers(build_layers(), target) == [target]
    assert "projects_park_point" in dict(pyogrio.list_layers(target))


# --- Shapefile ------------------------------------------------------------------------------


def dbf_field_names(path, encoding):
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little")
    names = []
    for offset in range(32, header_len - 1, 32):
        names.append(raw[offset : offset + 11].split(b"\x00")[0])
    return [n.decode(encoding) for n in names]


def test_field_names_fit_without_cutting_characters():
    assert cut_to_bytes("街道名称代码", 10, "utf-8") == "街道名"
    assert cut_to_bytes("街道名称代码", 10, "gbk") == "街道名称代"
    names = short_field_names(
        ["location_accuracy_m", "区域名称abcdef", "区域名称abcdeg", "Name", "name"],
        encoding="utf-8",
    )
    assert names["location_accuracy_m"] == "loc_acc_m"
    assert all(len(v.encode("utf-8")) <= 10 for v in names.values())
    assert len({v.lower() for v in names.values()}) == 5
    assert names["区域名称abcdef"] == "区域名"  # 9 bytes; 称 would make 12
    assert names["区域名称abcdeg"] == "区域_2"  # clash: shortened further for the suffix
    assert names["name"] == "name_2"


def test_shapefile_sidecars_fields_and_aliases(tmp_path):
    layers = build_layers()
    export_layers(layers, tmp_path, fmt="shp", crs="EPSG:4549")
    for part in expected_parts(layers, "shp"):
        shp = tmp_path / f"{part}_epsg4549.shp"
        assert (tmp_path / f"{part}_epsg4549.cpg").read_text() == "UTF-8"
        assert CRS.from_wkt(shp.with_suffix(".prj").read_text()).to_epsg() == 4549
        names = dbf_field_names(shp.with_suffix(".dbf"), "utf-8")
        assert all(len(n.encode("utf-8")) <= 10 for n in names)
    raw = (tmp_path / "field_aliases_epsg4549.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    aliases = pd.read_csv(tmp_path / "field_aliases_epsg4549.csv", encoding="utf-8-sig")
    park = aliases[aliases["layer"] == "projects_park_polygon_epsg4549.shp"]
    source_columns = [c for c in layers["projects_park"].columns if c != "geometry"]
    assert list(park["full_name"]) == source_columns
    row = park.set_index("full_name").loc["location_accuracy_m"]
    assert (row["short_name"], row["label_zh"]) == ("loc_acc_m", "位置精度(米)")
    names = dbf_field_names(tmp_path / "projects_park_polygon_epsg4549.dbf", "utf-8")
    assert names == list(park["short_name"])
    assert "project_streets.csv" in {p.name for p in tmp_path.iterdir()}


def test_shapefile_gcj02_readme_and_aliases(tmp_path):
    export_layers(build_layers(), tmp_path, fmt="shp", crs="GCJ-02")
    readme = (tmp_path / "README_gcj02.txt").read_text("utf-8")
    assert "GCJ-02" in readme and "EPSG:4326" in readme
    aliases = pd.read_csv(tmp_path / "field_aliases_gcj02.csv", encoding="utf-8-sig")
    assert aliases["coordinates"].str.contains("GCJ-02").all()
    assert CRS.from_wkt((tmp_path / "streets_gcj02.prj").read_text()).to_epsg() == 4326


def test_shapefile_gbk(tmp_path):
    layers = build_layers()
    layers["streets"] = layers["streets"].rename(columns={"name_en": "街道英文名称"})
    export_layers(layers, tmp_path, fmt="shp", encoding="GBK")
    assert (tmp_path / "streets.cpg").read_text() == "GBK"
    raw = (tmp_path / "streets.dbf").read_bytes()
    assert "米市巷街道".encode("gbk") in raw
    assert "米市巷街道".encode() not in raw
    names = dbf_field_names(tmp_path / "streets.dbf", "gbk")
    assert "街道英文名" in names  # 10 GBK bytes, cut at a character boundary
    read = pyogrio.read_dataframe(tmp_path / "streets.shp", encoding="GBK")
    assert list(read["name"]) == ["米市巷街道", "湖墅街道", "小河街道"]
    read = pyogrio.read_dataframe(tmp_path / "streets.shp")  # GDAL follows the .cpg
    assert list(read["name"]) == ["米市巷街道", "湖墅街道", "小河街道"]
    table = (tmp_path / "project_streets.csv").read_bytes()
    assert "米市巷街道".encode("gbk") in table


def test_shapefile_gbk_refuses_characters_it_cannot_hold(tmp_path):
    layers = build_layers()
    layers["streets"].loc[0, "name"] = "米市巷街道🌳"
    with pytest.raises(
        InputError,
        match=r'streets: row #0: "name" value .* cannot be written in GBK; '
        r"export with --encoding UTF-8",
    ):
        export_layers(layers, tmp_path, fmt="shp", encoding="GBK")
    assert not list(tmp_path.glob("streets.*"))


def test_shapefile_gbk_substitutes_plain_forms(tmp_path, caplog):
    layers = build_layers()
    layers["streets"].loc[0, "name_en"] = "1.07 km²"  # GBK has no superscript two
    with caplog.at_level("WARNING", logger="gongshu_geo.exchange.shapefile"):
        export_layers(layers, tmp_path, fmt="shp", encoding="GBK")
    assert "1 text values had characters GBK lacks" in caplog.text
    read = pyogrio.read_dataframe(tmp_path / "streets.shp")
    assert read.loc[0, "name_en"] == "1.07 km2"
    assert layers["streets"].loc[0, "name_en"] == "1.07 km²"  # the caller's frame is untouched


def test_shapefile_long_text_cut_at_character(tmp_path):
    layers = build_layers()
    layers["district"].loc[0, "name"] = "拱" * 100  # 300 UTF-8 bytes > 254
    export_layers(layers, tmp_path, fmt="shp")
    read = pyogrio.read_dataframe(tmp_path / "district.shp")
    assert read.loc[0, "name"] == "拱" * 84  # 252 bytes: the 85th character would not fit


# --- KML and GeoJSON -----------------------------------------------------------------------


@pytest.mark.parametrize("crs", ["EPSG:4549", "EPSG:4490", "GCJ-02"])
def test_kml_refuses_other_crs(tmp_path, crs):
    with pytest.raises(
        CRSError, match=rf"KML is always WGS 84.*cannot hold {crs}.*--crs EPSG:4326"
    ):
        export_layers(build_layers(), tmp_path, fmt="kml", crs=crs)
    assert list(tmp_path.iterdir()) == []


def test_geojson_labels(tmp_path):
    export_layers(build_layers(), tmp_path, fmt="geojson")
    export_layers(build_layers(), tmp_path, fmt="geojson", crs="EPSG:4549")
    export_layers(build_layers(), tmp_path, fmt="geojson", crs="GCJ-02")
    import json

    plain = json.loads((tmp_path / "streets.geojson").read_text("utf-8"))
    assert "crs" not in plain  # RFC 7946: WGS 84 is implied
    metric = json.loads((tmp_path / "streets_epsg4549.geojson").read_text("utf-8"))
    assert metric["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4549"
    shifted = json.loads((tmp_path / "streets_gcj02.geojson").read_text("utf-8"))
    assert shifted["datum"] == "GCJ-02" and "crs" not in shifted
    assert shifted["features"][0]["properties"]["name"] == "米市巷街道"


# --- Arguments ------------------------------------------------------------------------------


def test_argument_errors(tmp_path):
    layers = build_layers()
    with pytest.raises(InputError, match=r'unknown export format "dxf"; expected one of gpkg'):
        export_layers(layers, tmp_path, fmt="dxf")
    with pytest.raises(CRSError, match=r'cannot export in CRS "EPSG:3857"; expected one of'):
        export_layers(layers, tmp_path, crs="EPSG:3857")
    with pytest.raises(InputError, match=r"gpkg files are always UTF-8; --encoding GBK"):
        export_layers(layers, tmp_path, encoding="GBK")
    with pytest.raises(InputError, match=r'unknown encoding "latin-9x"'):
        export_layers(layers, tmp_path, fmt="shp", encoding="latin-9x")
    with pytest.raises(InputError, match=r'two layers would be written as "streets"'):
        export_layers(layers, tmp_path, layer_names={"district": "streets"})
    with pytest.raises(InputError, match=r"cannot be a file name"):
        export_layers(layers, tmp_path, fmt="shp", layer_names={"district": "a/b"})
    layers["gaps"] = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)])
    with pytest.raises(CRSError, match=r'layer "gaps" has no CRS'):
        export_layers(layers, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_layer_names(tmp_path):
    (path,) = export_layers(build_layers(), tmp_path, layer_names={"streets": "街道"})
    assert "街道" in dict(pyogrio.list_layers(path))


# --- Atomic writes --------------------------------------------------------------------------


def _fail_on_call(monkeypatch, n):
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        real(*args, **kwargs)  # the part is really written ...
        if calls["n"] >= n:
            raise RuntimeError("simulated crash mid-export")  # ... then the run dies

    monkeypatch.setattr(pyogrio, "write_dataframe", flaky)


def test_failed_geopackage_export_keeps_previous_file(tmp_path, monkeypatch):
    (path,) = export_layers(build_layers(), tmp_path)
    before = path.read_bytes()
    _fail_on_call(monkeypatch, 3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        export_layers(build_layers(), tmp_path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_failed_shapefile_export_keeps_previous_set(tmp_path, monkeypatch):
    export_layers(build_layers(), tmp_path, fmt="shp")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    _fail_on_call(monkeypatch, 2)  # district written, streets dies after writing its files
    layers = build_layers()
    layers["streets"].loc[0, "name"] = "改过的名字"
    with pytest.raises(RuntimeError, match="simulated crash"):
        export_layers(layers, tmp_path, fmt="shp")
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # district rewritten identically, streets untouched, no temp dirs
    assert list(pyogrio.read_dataframe(tmp_path / "streets.shp")["name"])[0] == "米市巷街道"


def test_module_constants():
    assert export.GPKG_VERSION == "1.2"
    assert set(export.EXPORT_CRS) == set(CRS_ALL)
