"""Fuzzing the street readers (GeoJSON, GeoPackage, Shapefile): only our own errors escape."""

import json

from hypothesis import given
from hypothesis import strategies as st

from gongshu_geo import read_streets
from tests._fuzz import FUZZ, frame_from, geometries, only_own_errors, values, write_or_none

STREET_COLUMNS = ["name", "street_code", "population"]


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["s.geojson", "s.gpkg", "s.shp"]))
def test_random_bytes(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    only_own_errors(read_streets, path)


@FUZZ
@given(st.data())
def test_random_geojson_feature_collections(tmp_path, data):
    n = data.draw(st.integers(0, 4))
    features = []
    for _ in range(n):
        geom = data.draw(geometries())
        props = {c: data.draw(values) for c in STREET_COLUMNS if data.draw(st.booleans())}
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": None if geom is None else shapely_mapping(geom),
            }
        )
    path = tmp_path / "s.geojson"
    text = json.dumps({"type": "FeatureCollection", "features": features}, allow_nan=True)
    path.write_text(text, encoding="utf-8")
    only_own_errors(read_streets, path)


def shapely_mapping(geom):
    import shapely.geometry

    return shapely.geometry.mapping(geom)


@FUZZ
@given(st.data(), st.sampled_from(["s.gpkg", "s.shp"]))
def test_random_layers(tmp_path, data, name):
    frame = frame_from(data.draw, STREET_COLUMNS, ("Polygon", "MultiPolygon", "Point", "empty"))
    path = write_or_none(frame, tmp_path / name)
    if path is None:
        return
    crs = data.draw(st.sampled_from([None, "EPSG:4549", "GCJ-02", "nonsense"]))
    check = data.draw(st.booleans())
    only_own_errors(read_streets, path, crs=crs, check_tiling=check)


@FUZZ
@given(st.binary(max_size=60), st.sampled_from([".cpg", ".prj", ".dbf", ".shx"]))
def test_shapefile_with_a_broken_sidecar(tmp_path, junk, sidecar):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {"name": ["湖墅街道"], "street_code": ["330105001"]},
        geometry=[shapely.box(120.1, 30.3, 120.12, 30.32)],
        crs=4326,
    )
    path = write_or_none(frame, tmp_path / "s.shp", encoding="UTF-8")
    (tmp_path / f"s{sidecar}").write_bytes(junk)
    only_own_errors(read_streets, path)


@FUZZ
@given(
    st.lists(
        st.lists(
            st.one_of(st.text(max_size=6), st.sampled_from(["330105001", "1e9", ""])),
            min_size=2,
            max_size=2,
        ),
        max_size=5,
    )
)
def test_random_population_tables(tmp_path, rows):
    path = tmp_path / "pop.csv"
    lines = ["street_code,population"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines), encoding="utf-8")
    only_own_errors(lambda p: read_streets(population_table=p, check_tiling=False), path)
