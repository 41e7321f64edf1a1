"""Fuzzing the loaders: whatever the bytes, only the project's own errors escape.

The suite runs a bounded number of cases; for a release, run longer with
``GONGSHU_GEO_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py``.
"""

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongshu_geo import GongshuGeoError, read_points_csv, read_projects
from tests.conftest import make_feature

EXAMPLES = int(os.environ.get("GONGSHU_GEO_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _load(path):
    try:
        read_projects(path)
    except GongshuGeoError:
        pass


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(tmp_path, data):
    path = tmp_path / "f.geojson"
    path.write_bytes(data)
    _load(path)


@FUZZ
@given(json_values)
def test_random_json(tmp_path, value):
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(value), encoding="utf-8")
    _load(path)


@FUZZ
@given(
    st.sampled_from(["geometry", "properties", "type", "coordinates"]),
    json_values,
    st.sampled_from(
        ["Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString", "MultiPoint"]
    ),
)
def test_mutated_features(tmp_path, key, value, gtype):
    feature = make_feature()
    feature["geometry"]["type"] = gtype
    if key == "coordinates":
        feature["geometry"]["coordinates"] = value
    else:
        feature[key] = value
    path = tmp_path / "f.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    _load(path)


@FUZZ
@given(st.lists(st.lists(st.text(max_size=6), min_size=3, max_size=3), max_size=5))
def test_random_csv(tmp_path, rows):
    path = tmp_path / "f.csv"
    lines = ["name,lon,lat"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        read_points_csv(path)
    except GongshuGeoError:
        pass
