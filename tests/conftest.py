"""Shared tiny fixtures: a valid project feature and a file writer.

Hypothesis draws the same examples on every run (``derandomize``), so that the
suite a newcomer or CI runs passes or fails for the code, not for the luck of
the draw. ``GONGSHU_GEO_HYPOTHESIS_RANDOM=1`` draws new ones, to look for bugs.

The tests read the messages in English whatever the machine's ``LANG``: a Chinese
locale is overridden for this process and the commands it runs, and every test
starts with the language chosen by the environment (tests/test_i18n.py asks for
Chinese itself).
"""

import json
import os

import pytest
from hypothesis import settings

from gongshu_geo.core import i18n as _i18n

settings.register_profile(
    "gongshu-geo", derandomize=os.environ.get("GONGSHU_GEO_HYPOTHESIS_RANDOM") != "1"
)
settings.load_profile("gongshu-geo")

if _i18n.resolve_language() != "en":
    os.environ["LC_ALL"] = "C.UTF-8"


@pytest.fixture(autouse=True)
def _messages_follow_the_environment():
    """Undo a test's ``set_language`` (or ``--lang`` given to ``cli.main``)."""
    _i18n.set_language(None)
    yield
    _i18n.set_language(None)


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
