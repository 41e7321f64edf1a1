"""Shared tiny fixtures: a valid project feature and a file writer.

Hypothesis draws the same examples on every run (``derandomize``), so that the
suite a newcomer or CI runs passes or fails for the code, not for the luck of
the draw. ``GONGSHU_GEO_HYPOTHESIS_RANDOM=1`` draws new ones, to look for bugs.
"""

import json
import os

import pytest
from hypothesis import settings

settings.register_profile(
    "gongshu-geo", derandomize=os.environ.get("GONGSHU_GEO_HYPOTHESIS_RANDOM") != "1"
)
settings.load_profile("gongshu-geo")


def make_feature(fid="P-PARK-001", *, category="park", geometry=None, **props):
    """A valid feature; override any property or the geometry."""
    base = {
        "id": fid,
        "name": "测试公园",
        "name_en": "Test Park",
        "category": category,
        "subcategory": "city_park",
        "status": "planned",
        "period": "2021-2025",
        "plan_ref": "第三章 第十五节",
        "location_source": "hand-made test fixture",
        "location_accuracy_m": 100,
    }
    base.update(props)
    if geometry is None:
        geometry = {"type": "Point", "coordinates": [120.15, 30.32]}
    return {"type": "Feature", "properties": base, "geometry": geometry}


@pytest.fixture
def write_geojson(tmp_path):
    """Write features (or raw text/bytes) to a file and return its path."""

    def write(content, name="projects.geojson"):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            fc = {"type": "FeatureCollection", "features": content}
            path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def feature():
    return make_feature
