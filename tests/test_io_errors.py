"""Every bad input gets a message naming file, feature, field, expected and found."""

import json

import pytest

from gongshu_geo import InputError, ValidationError, read_projects
from tests.conftest import make_feature

BOWTIE = [[120.15, 30.32], [120.151, 30.321], [120.151, 30.32], [120.15, 30.321], [120.15, 30.32]]
SQUARE = [[120.15, 30.32], [120.151, 30.32], [120.151, 30.321], [120.15, 30.321], [120.15, 30.32]]


def _read(write_geojson, content, **kw):
    path = write_geojson(content)
    return path, read_projects(path, **kw)


def test_valid_file_reads(write_geojson):
    _, gdf = _read(write_geojson, [make_feature(), make_feature("P-PARK-002")])
    assert list(gdf["id"]) == ["P-PARK-001", "P-PARK-002"]
    assert gdf.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("", r"projects\.geojson: the file is empty"),
        ("   \n", "the file is empty"),
        ("{not json", r"is not JSON \(line 1, column 2"),
        ("[1, 2]", "JSON but not GeoJSON.*found list"),
        ('{"type": "Point", "coordinates": [1, 2]}', "not a GeoJSON FeatureCollection.*'Point'"),
        ('{"type": "FeatureCollection", "features": []}', "has no features"),
    ],
)
def test_file_level_errors(write_geojson, content, pattern):
    with pytest.raises(InputError, match=pattern):
        _read(write_geojson, content)


@pytest.mark.parametrize(
    ("geometry", "pattern"),
    [
        (None, r'feature "P-PARK-001" \(#0\): geometry is null'),
        ({"type": "Circle", "coordinates": [1, 2]}, "unknown geometry type 'Circle'"),
        (
            {"type": "Point", "coordinates": ["120.15", "30.32"]},
            "coordinates must be numbers; found text",
        ),
        (
            {"type": "Point", "coordinates": [30.32, 120.15]},
            "latitude and longitude appear swapped",
        ),
        (
            {"type": "Point", "coordinates": [514426.3, 3355360.1]},
            "look like metres in a projected CRS",
        ),
        ({"type": "Point", "coordinates": [116.40, 39.90]}, "far outside Gongshu District"),
    ],
)
def test_geometry_errors(write_geojson, geometry, pattern):
    f = make_feature()
    f["geometry"] = geometry
    with pytest.raises(ValidationError, match=pattern):
        _read(write_geojson, [f])


def test_missing_geometry_member(write_geojson):
    f = make_feature()
    del f["geometry"]
    with pytest.raises(ValidationError, match='has no "geometry" member'):
        _read(write_geojson, [f])


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_coordinates(write_geojson, bad):
    text = json.dumps({"type": "FeatureCollection", "features": [make_feature()]})
    text = text.replace("120.15", bad)
    with pytest.raises(ValidationError, match="finite numbers.*NaN or Infinity"):
        _read(write_geojson, text)


def test_self_intersecting_polygon_reported_and_fixed(write_geojson):
    bowtie = BOWTIE
    f = make_feature(geometry={"type": "Polygon", "coordinates": [bowtie]})
    with pytest.raises(
        ValidationError, match=r"invalid Polygon \(Self-intersection.*--fix-geometry"
    ):
        _read(write_geojson, [f])
    _, gdf = _read(write_geojson, [f], fix_geometry=True)
    assert gdf.geometry.iloc[0].is_valid
    assert "repaired invalid Polygon" in gdf.attrs["fixed"][0]


def test_unclosed_ring_reported_and_fixed(write_geojson):
    f = make_feature(geometry={"type": "Polygon", "coordinates": [SQUARE[:-1]]})
    with pytest.raises(ValidationError, match="ring is not closed"):
        _read(write_geojson, [f])
    _, gdf = _read(write_geojson, [f], fix_geometry=True)
    assert gdf.geometry.iloc[0].area > 0
    assert "closed an unclosed polygon ring" in gdf.attrs["fixed"][0]


def test_every_problem_is_listed_at_once(write_geojson):
    features = [
        make_feature("P-PARK-001"),
        make_feature("P-PARK-001"),  # duplicate
        make_feature("P-PARK-003", category="lake"),
        make_feature("P-PARK-004", status="done"),
        make_feature("P-PARK-005", name=None),
        make_feature("", location_accuracy_m="about 100"),
    ]
    with pytest.raises(ValidationError) as info:
        _read(write_geojson, features)
    msg = str(info.value)
    assert msg.startswith("6 problems in ")
    assert (
        'feature "P-PARK-001" (#1): duplicate "id" \'P-PARK-001\', first used by feature #0' in msg
    )
    assert '"category" must be one of park, greenway' in msg and "found 'lake'" in msg
    assert (
        "\"status\" must be one of planned, under_construction, completed, existing; found 'done'"
        in msg
    )
    assert 'feature "P-PARK-005" (#4): required property "name" is missing' in msg
    assert 'feature #5: required property "id" is missing' in msg
    assert "\"location_accuracy_m\" must be a number; found 'about 100' (str)" in msg


def test_wrong_geometry_type_for_category(write_geojson):
    f = make_feature(
        "P-MSTN-001",
        category="metro_station",
        geometry={"type": "Polygon", "coordinates": [SQUARE]},
    )
    with pytest.raises(
        ValidationError, match="a metro_station must be a Point geometry; found Polygon"
    ):
        _read(write_geojson, [f])


def test_id_prefix_must_match_category_in_the_packaged_convention():
    from gongshu_geo.data.schema import check_properties

    props = make_feature("P-ROAD-001", category="park")["properties"]
    problems = check_properties(props, 0, id_convention=True)
    assert problems == [
        'feature "P-ROAD-001" (#0): "id" of a park must start with P-PARK-; found \'P-ROAD-001\''
    ]
    assert check_properties(props, 0, id_convention=False) == []
    # more than 999 parks: four digits follow the convention too
    park = make_feature("P-PARK-1000")["properties"]
    assert check_properties(park, 0, id_convention=True) == []


@pytest.mark.parametrize("fid", ["2023-GS-015", "P-ROAD-001", "P-PARK-1000", "park one", "0015"])
def test_users_own_ids_are_accepted(write_geojson, fid):
    _, gdf = _read(write_geojson, [make_feature(fid), make_feature("other")])
    assert list(gdf["id"]) == [fid, "other"]
    assert gdf.attrs["warnings"] == []


def test_integer_ids_become_text(write_geojson):
    feats = [make_feature(15), make_feature(16)]
    feats[1]["properties"].pop("id")
    feats[1]["id"] = 16  # RFC 7946 feature id, a number
    _, gdf = _read(write_geojson, feats)
    assert list(gdf["id"]) == ["15", "16"]


def test_users_ids_must_be_unique_non_empty_and_text_or_whole(write_geojson):
    feats = [make_feature(7), make_feature("7"), make_feature("  "), make_feature(1.5)]
    with pytest.raises(ValidationError) as info:
        _read(write_geojson, feats)
    assert info.value.problems == [
        'feature "7" (#1): duplicate "id" \'7\', first used by feature #0; every id must be unique',
        'feature #2: required property "id" is missing',
        'feature "1.5" (#3): "id" must be text or a whole number; found 1.5 (float)',
    ]


def test_strict_warns_about_the_convention_but_accepts(write_geojson, caplog):
    feats = [make_feature("2023-GS-015"), make_feature("P-ROAD-002"), make_feature("P-PARK-003")]
    _, gdf = _read(write_geojson, feats, strict=True)
    assert len(gdf) == 3
    assert [w.split(":")[0] for w in gdf.attrs["warnings"]] == [
        'feature "2023-GS-015" (#0)',
        'feature "P-ROAD-002" (#1)',
    ]
    assert "P-<CATEGORY>-NNN convention" not in gdf.attrs["warnings"][0]  # the text says how
    assert "look like P-PARK-001" in gdf.attrs["warnings"][0]
    assert "must start with P-PARK-" in gdf.attrs["warnings"][1]
    assert "not required" in caplog.text


def test_packaged_data_follows_the_id_convention():
    # the packaged file is read with the convention required; it passes
    gdf = read_projects()
    assert gdf["id"].str.fullmatch(r"P-[A-Z]+-\d{3,}").all()


def test_json_nested_100000_deep_is_refused_by_name(write_geojson):
    path = write_geojson("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match=r"projects\.geojson: is JSON nested too deeply"):
        read_projects(path)
    deep = '{"type": "FeatureCollection", "features": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    path = write_geojson(deep, name="deep2.geojson")
    with pytest.raises(InputError, match=r"deep2\.geojson: is JSON nested too deeply"):
        read_projects(path)


def test_gbk_file_read_as_utf8(write_geojson):
    text = json.dumps(
        {"type": "FeatureCollection", "features": [make_feature()]}, ensure_ascii=False
    )
    path = write_geojson(text.encode("gbk"))
    with pytest.raises(InputError, match="not valid UTF-8.*looks GBK.*--encoding gbk"):
        read_projects(path)
    assert read_projects(path, encoding="gbk")["name"].iloc[0] == "测试公园"


def test_skip_invalid_keeps_the_rest(write_geojson):
    bad = make_feature("P-PARK-002", status="done")
    _, gdf = _read(
        write_geojson, [make_feature(), bad, make_feature("P-PARK-003")], skip_invalid=True
    )
    assert list(gdf["id"]) == ["P-PARK-001", "P-PARK-003"]
    assert len(gdf.attrs["skipped"]) == 1 and "P-PARK-002" in gdf.attrs["skipped"][0]


def test_skip_invalid_with_nothing_left(write_geojson):
    with pytest.raises(ValidationError, match="no valid feature is left"):
        _read(write_geojson, [make_feature(status="done")], skip_invalid=True)


def test_missing_file():
    with pytest.raises(InputError, match="nope.geojson: no such file"):
        read_projects("nope.geojson")


def test_input_file_is_never_modified(write_geojson):
    bowtie = BOWTIE
    path = write_geojson([make_feature(geometry={"type": "Polygon", "coordinates": [bowtie]})])
    before = path.read_bytes()
    read_projects(path, fix_geometry=True)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("xy", "expected"),
    [
        ((30.32, 120.15), "latitude and longitude appear swapped"),
        ((120.15, 137.0), "appear swapped|not longitude/latitude degrees"),
        ((116.40, 39.90), "far outside Gongshu District"),
    ],
)
def test_geopackage_projects_get_the_geojson_coordinate_checks(tmp_path, xy, expected):
    """Coordinates in a GeoPackage were not checked at all; latitude 137 could reach GEOS."""
    import geopandas as gpd
    import shapely

    props = [make_feature("A")["properties"], make_feature("B")["properties"]]
    geoms = [shapely.Point(120.15, 30.32), shapely.Point(*xy)]
    gpd.GeoDataFrame(props, geometry=geoms, crs=4326).to_file(tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match=f'p.gpkg: feature "B" \\(#1\\): .*({expected})'):
        read_projects(tmp_path / "p.gpkg")
    kept = read_projects(tmp_path / "p.gpkg", skip_invalid=True)
    assert list(kept["id"]) == ["A"]
