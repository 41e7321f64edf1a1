"""An exported GeoPackage opened in QGIS 3 (Debian's python3-qgis): styled layers, same counts."""

import json
import os
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _system import REQUIRE_ENV, require_program, system_required
from test_export import build_inputs, build_layers

from gongshu_geo.exchange.export import export_layers

QGIS_PYTHON = "/usr/bin/python3"
CHECK = Path(__file__).with_name("qgis_check.py")

pytestmark = [pytest.mark.system, pytest.mark.slow]


def _qgis_env(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime), HOME=str(tmp_path))
    return env


@pytest.fixture
def qgis_python(tmp_path):
    python = require_program(QGIS_PYTHON, "QGIS's Python (Debian python3-qgis) opens the export")
    probe = subprocess.run(
        [python, "-c", "import qgis.core"],
        capture_output=True,
        text=True,
        env=_qgis_env(tmp_path),
        timeout=120,
    )
    if probe.returncode != 0:
        message = (
            f"{python} cannot import qgis.core (apt-get install python3-qgis): "
            f"{probe.stderr.strip()[-200:]}"
        )
        if system_required():
            pytest.fail(f"{message}; {REQUIRE_ENV}=1 makes this a failure", pytrace=False)
        pytest.skip(message)
    return python


def test_qgis_opens_styled_layers_and_counts_agree(tmp_path, qgis_python):
    layers = build_layers(with_coverage=True)
    (gpkg,) = export_layers(layers, tmp_path / "out")
    point_layers = ["projects_park_point", "projects_metro_station"]
    result_path = tmp_path / "qgis.json"
    run = subprocess.run(
        [
            qgis_python,
            str(CHECK),
            str(gpkg),
            str(result_path),
            "--polygons",
            "streets",
            "--points",
            *point_layers,
        ],
        capture_output=True,
        text=True,
        env=_qgis_env(tmp_path),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(result_path.read_text("utf-8"))
    seen = result["layers"]

    assert set(seen) >= {
        "district",
        "streets",
        "projects_park_point",
        "projects_park_polygon",
        "projects_greenway",
        "projects_metro_station",
        "project_streets",
    }
    for name, info in seen.items():
        assert info["valid"], name
    # the default style stored in layer_styles was applied on load
    park = seen["projects_park_polygon"]
    assert park["geometry"] in ("Polygon", "MultiPolygon")
    assert park["renderer"] == "categorizedSymbol" and park["attr"] == "status"
    assert park["categories"] == [["completed", "建成(十四五期间) completed"]]
    points = seen["projects_park_point"]
    assert [c[0] for c in points["categories"]] == ["planned", "under_construction"]
    assert seen["projects_greenway"]["renderer"] == "categorizedSymbol"
    assert seen["streets"]["renderer"] == "singleSymbol"
    assert seen["service_areas"]["attr"] == "minutes"
    assert seen["service_areas"]["categories"] == [["5", "5 分钟 min"], ["10", "10 分钟 min"]]
    assert park["aliases"]["name"] == "名称"
    assert park["aliases"]["location_accuracy_m"] == "位置精度(米)"
    assert not [m for m in result["messages"] if "partially supported" in m]
    assert "partially supported" not in run.stderr  # GDAL 3.6 knows GeoPackage 1.2

    # QGIS's count of project points per street equals ours (geopandas) and the known answer
    projects, streets, _ = build_inputs()
    pts = projects[projects.geom_type == "Point"]
    joined = gpd.sjoin(pts, streets, predicate="within")
    ours = joined.groupby("street_code").size().reindex(streets["street_code"], fill_value=0)
    assert ours.to_dict() == {"330105001": 1, "330105002": 2, "330105003": 0}
    assert pd.Series(result["counts"]).sort_index().to_dict() == ours.to_dict()
