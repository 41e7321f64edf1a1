"""Fuzzing the facility and population readers, with the study-area check they get in build."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongshu_geo import pipeline, read_streets
from gongshu_geo.pipeline.inputs import read_user_facilities
from tests._fuzz import FUZZ, frame_from, only_own_errors, write_or_none

_cells = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["120.15", "30.3", "30.30", "120.155", "nan", "inf", "-1e308", "1e400", ""]),
    st.floats(allow_nan=True).map(repr),
)


@pytest.fixture(scope="module")
def streets():
    return read_streets()


def _facilities(path, streets, skip):
    warnings = {}
    return read_user_facilities({"f": path}, streets=streets, skip_invalid=skip, warnings=warnings)


def _population(path, streets, skip):
    return pipeline.read_population_layer(path, streets=streets, skip_invalid=skip, warnings={})


@FUZZ
@given(
    st.lists(st.lists(_cells, min_size=3, max_size=3), max_size=6),
    st.sampled_from(["name,lon,lat", "lon,lat,x", "name,lat,lon", "name,x,y", ""]),
    st.booleans(),
)
def test_random_facility_csv(tmp_path, streets, rows, header, skip):
    path = tmp_path / "clinics.csv"
    path.write_text("\n".join([header] + [",".join(r) for r in rows]), encoding="utf-8")
    only_own_errors(_facilities, path, streets, skip)


@FUZZ
@given(st.data(), st.sampled_from(["f.gpkg", "f.shp", "f.geojson"]), st.booleans())
def test_random_facility_layers(tmp_path, streets, data, name, skip):
    frame = frame_from(data.draw, ["name"], ("Point", "Polygon", "LineString", "empty"))
    path = write_or_none(frame, tmp_path / name)
    if path is None:
        return
    only_own_errors(_facilities, path, streets, skip)


@FUZZ
@given(st.data(), st.sampled_from(["p.gpkg", "p.shp"]), st.booleans())
def test_random_population_layers(tmp_path, streets, data, name, skip):
    frame = frame_from(data.draw, ["population"], ("Point", "Polygon", "empty"))
    path = write_or_none(frame, tmp_path / name)
    if path is None:
        return
    only_own_errors(_population, path, streets, skip)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["f.csv", "f.gpkg", "f.xlsx", "f.geojson"]))
def test_random_bytes(tmp_path, streets, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    only_own_errors(_facilities, path, streets, False)
    only_own_errors(_population, path, streets, False)
