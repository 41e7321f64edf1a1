"""A user's layer far from the streets is refused, saying what was found and why."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gongshu_geo import InputError, pipeline, read_streets
from gongshu_geo.data.extent import check_coordinate_range, check_layer_extent

# two clinics in Gongshu (lon, lat), checked on the packaged street map
CLINICS = [(120.155, 30.29), (120.14, 30.33)]


@pytest.fixture(scope="module")
def streets():
    return read_streets()


def _points(xy, crs=4326):
    return gpd.GeoDataFrame(
        {"name": list("ABCD"[: len(xy)])}, geometry=[shapely.Point(p) for p in xy], crs=crs
    )


def _build(tmp_path, facilities, **kw):
    return pipeline.build(
        out=tmp_path / "out", png=False, gpkg=False, facility_layers=(), facilities=facilities, **kw
    )


def test_clinics_inside_pass(streets):
    assert check_layer_extent(_points(CLINICS), streets, source="c.gpkg") is None


def test_swapped_lon_lat_csv_is_an_error_naming_file_and_box(tmp_path):
    csv = tmp_path / "clinics.csv"
    csv.write_text("name,lon,lat\nA,30.30,120.15\nB,30.31,120.16\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        _build(tmp_path, {"clinics": csv})
    msg = str(info.value)
    assert msg.startswith(f"{csv}: 2 of the 2 features of the facility layer 'clinics'")
    assert "bounding box x 30.3..30.31, y 120.15..120.16" in msg
    assert "longitude and latitude look swapped" in msg
    assert not (tmp_path / "out" / "stats").exists()


def test_swapped_projected_coordinates_are_named_as_swapped(streets):
    metric = _points(CLINICS).to_crs(4549)
    swapped = metric.set_geometry(
        shapely.transform(metric.geometry.values, lambda c: c[:, ::-1]), crs=4549
    )
    with pytest.raises(InputError, match="X and y look swapped: exchanged, the features fall"):
        check_layer_extent(swapped, streets, source="s.gpkg")


@pytest.mark.parametrize(
    ("layer", "hint"),
    [
        (
            _points(CLINICS).set_crs(4549, allow_override=True),
            "fit EPSG:4326 .*not the layer's EPSG:4549",
        ),
        (
            _points(CLINICS).to_crs(3857).set_crs(4549, allow_override=True),
            r"fit EPSG:3857 \(Web Mercator",
        ),
        (_points([(116.40, 39.90), (116.41, 39.91)]), "Check the layer's CRS"),
    ],
)
def test_wrong_crs_is_an_error_with_a_hint(streets, layer, hint):
    with pytest.raises(InputError, match=hint) as info:
        check_layer_extent(layer, streets, source="f.gpkg")
    assert str(info.value).startswith("f.gpkg: 2 of the 2 features")
    assert "where the streets span longitude 120.0" in str(info.value)


def test_mostly_outside_is_an_error_a_few_outside_is_not(streets):
    far = [(116.40, 39.90), (116.41, 39.91), (116.42, 39.92)]
    with pytest.raises(InputError, match="3 of the 4 features"):
        check_layer_extent(_points(far + CLINICS[:1]), streets, source="f.gpkg")
    # one of four outside (a facility just beyond the boundary serves the streets too)
    assert check_layer_extent(_points(far[:1] + CLINICS + CLINICS[:1]), streets, source="f") is None


def test_skip_invalid_measures_it_with_a_loud_warning_in_the_tables(tmp_path, caplog):
    far = tmp_path / "far.csv"
    far.write_text("name,lon,lat\nA,116.40,39.90\nB,116.41,39.91\n", encoding="utf-8")
    result = _build(tmp_path, {"far": far}, skip_invalid=True)
    assert "lie outside the study area" in caplog.text
    assert any("far.csv: 2 of the 2 features" in w for w in result.warnings)
    stats = tmp_path / "out" / "stats"
    warnings = pd.read_csv(stats / "warnings.csv", encoding="utf-8-sig")
    assert list(warnings[["input", "layer"]].itertuples(index=False, name=None)) == [
        ("facility layer", "far")
    ]
    assert warnings["warning"].iloc[0].startswith(f"{far}: 2 of the 2 features")
    cov = pd.read_csv(stats / "coverage.csv", encoding="utf-8-sig")
    assert (cov["facility"] == "far").all()
    assert cov["warning"].str.contains("lie outside the study area").all()
    assert (cov["covered_pop_share"] == 0).all()


def test_skip_invalid_leaves_out_a_layer_that_cannot_be_measured(tmp_path):
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("name,lon,lat\nA,30.30,120.15\n", encoding="utf-8")
    ok = tmp_path / "ok.csv"
    ok.write_text("name,lon,lat\nA,120.155,30.29\n", encoding="utf-8")
    result = _build(tmp_path, {"swapped": swapped, "ok": ok}, skip_invalid=True)
    stats = tmp_path / "out" / "stats"
    cov = pd.read_csv(stats / "coverage.csv", encoding="utf-8-sig")
    assert set(cov["facility"]) == {"ok"} and cov["warning"].isna().all()
    warnings = pd.read_csv(stats / "warnings.csv", encoding="utf-8-sig")
    assert warnings["layer"].tolist() == ["swapped"]
    assert "not measured (--skip-invalid)" in warnings["warning"].iloc[0]
    assert any("look swapped" in w for w in result.warnings)


def test_a_clean_build_writes_an_empty_warnings_table(tmp_path):
    ok = tmp_path / "ok.csv"
    ok.write_text("name,lon,lat\nA,120.155,30.29\n", encoding="utf-8")
    _build(tmp_path, {"ok": ok})
    warnings = pd.read_csv(tmp_path / "out/stats/warnings.csv", encoding="utf-8-sig")
    assert list(warnings.columns) == ["input", "layer", "warning"] and warnings.empty


def test_population_layer_outside_is_an_error(tmp_path):
    people = _points([(116.40, 39.90), (116.41, 39.91)]).assign(population=[10, 20])
    people.to_file(tmp_path / "people.gpkg")
    with pytest.raises(InputError, match=r"people\.gpkg: 2 of the 2 features of the population"):
        _build(tmp_path, None, population_layer=tmp_path / "people.gpkg")


def test_latitude_137_polygon_is_refused_before_any_geometry_operation(tmp_path):
    """Fuzzing found GEOS crashing on a buffer of such a polygon once reprojected."""
    ring = [(120.1, 30.3), (120.2, 30.3), (120.2, 137.0), (120.1, 30.3)]
    layer = gpd.GeoDataFrame(geometry=[shapely.Polygon(ring)], crs=4326)
    layer.to_file(tmp_path / "bad.gpkg")
    with pytest.raises(InputError, match=r"bad\.gpkg: 1 of the 1 features .* latitude -90\.\.90"):
        _build(tmp_path, {"bad": tmp_path / "bad.gpkg"})
    with pytest.raises(InputError, match="latitude -90..90"):
        read_streets(tmp_path / "bad.gpkg", name_field="fid", code_field="fid")


@pytest.mark.parametrize(
    ("geometry", "match"),
    [
        (None, "feature #1 of the layer has no geometry"),
        (shapely.Point(float("nan"), 30.0), "feature #1 .* not finite numbers"),
        (shapely.Point(float("inf"), 30.0), "feature #1 .* not finite numbers"),
        (shapely.Point(120.1, -91.0), r"1 of the 2 .*#1\) .* latitude -90\.\.90.*fix or drop"),
    ],
)
def test_impossible_coordinates(geometry, match):
    layer = gpd.GeoDataFrame(geometry=[shapely.Point(120.1, 30.3), geometry], crs=4326)
    with pytest.raises(InputError, match=match):
        check_coordinate_range(layer, source="x")


def test_a_nan_vertex_inside_a_finite_box_is_found():
    """GEOS leaves a NaN vertex out of the bounding box; the check must still name the feature."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        line = shapely.LineString([(120.1, 30.3), (float("nan"), 30.2), (120.2, 30.3)])
    layer = gpd.GeoDataFrame(geometry=[shapely.Point(120.1, 30.3), line], crs=4326)
    assert np.isfinite(shapely.bounds(line)).all()
    with pytest.raises(InputError, match="x: feature #1 of the layer has coordinates that are not"):
        check_coordinate_range(layer, source="x")
