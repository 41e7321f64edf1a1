"""Accessibility surfaces in their three forms: GeoTIFF, web image, H3 hexagons.

One facility in the middle of a 1 x 1 km street (and a second street beside it),
so every expected value is a distance worked out by hand.
"""

import io
import json
import os
import subprocess

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from _system import require_program, skip_or_fail
from PIL import Image
from pyproj import Transformer

from gongshu_geo.analysis.access import compute_distance_surface
from gongshu_geo.analysis.grid import make_study_area
from gongshu_geo.analysis.surfaces import (
    MINUTE_COLOURS,
    aggregate_to_h3,
    compute_minutes,
    make_surface_image,
    write_surface_geotiff,
)
from gongshu_geo.core import crs
from gongshu_geo.maps import web as maps

X0, Y0 = 505_000.0, 3_355_000.0
METRIC = "EPSG:4549"
QGIS_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def streets():
    return gpd.GeoDataFrame(
        {"street_code": ["330105001", "330105002"], "name": ["A", "B"], "population": [1000, 500]},
        geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                  shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
        crs=METRIC,
    )  # fmt: skip


@pytest.fixture(scope="module")
def surface(streets):
    area = make_study_area(streets)
    fac = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 500, Y0 + 500)], crs=METRIC)
    return compute_distance_surface(area, fac, exact_at=[300.0, 600.0])


def test_minutes_are_metres_at_the_walking_speed(surface):
    minutes = compute_minutes(surface, speed_m_per_min=60)
    grid = surface.grid
    row, col = np.divmod(grid.cell_of([[X0 + 905, Y0 + 505]])[0], grid.n_cols)
    # 405 m from the facility; between the tiers a cell is within half a cell diagonal
    h = 10 * np.sqrt(0.5)
    assert abs(minutes[row, col] - 405 / 60) <= h / 60 + 1e-6
    at80 = compute_minutes(surface, speed_m_per_min=80)[row, col]
    assert at80 == pytest.approx(minutes[row, col] * 60 / 80, rel=1e-6)
    # a cell at a tier's distance is exact: (805, 505) is 305 m away, (205, 505) 295 m
    for x, metres in ((X0 + 805, 305.0), (X0 + 205, 295.0)):
        r, c = np.divmod(grid.cell_of([[x, Y0 + 505]])[0], grid.n_cols)
        assert (minutes[r, c] * 60 <= 300) == (metres <= 300)


def test_geotiff_is_cloud_optimised_with_overviews(surface, tmp_path):
    path = write_surface_geotiff(surface, tmp_path / "park.tif", speed_m_per_min=60)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 4549
        assert src.transform == surface.grid.transform
        assert src.overviews(1), "no overviews"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.tags()["units"] == "minutes"
        band = src.read(1)
    # street B's far corner cell is hypot(1495, 495) m away, the nearest cell 7.07 m;
    # between tiers a cell is within half a cell diagonal
    h = 10 * np.sqrt(0.5) / 60
    assert abs(np.nanmax(band) - np.hypot(1495, 495) / 60) <= h
    assert abs(np.nanmin(band) - np.hypot(5, 5) / 60) <= h
    assert np.isnan(band).sum() == 0  # the grid is exactly the two streets


def test_gdal_reads_the_geotiff(surface, tmp_path):
    gdalinfo = require_program("gdalinfo", "GDAL reads the surface back")
    path = write_surface_geotiff(surface, tmp_path / "park.tif")
    out = subprocess.run([gdalinfo, "-json", str(path)], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"
    assert info["bands"][0]["overviews"], "gdalinfo sees no overviews"
    assert "4549" in info["coordinateSystem"]["wkt"]


QGIS_SCRIPT = """
import json, os, sys
from qgis.core import QgsApplication, QgsRasterLayer, QgsRasterBandStats
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
layer = QgsRasterLayer(sys.argv[1], "surface")
stats = layer.dataProvider().bandStatistics(1, QgsRasterBandStats.All)
result = {"valid": layer.isValid(), "crs": layer.crs().authid(), "max": stats.maximumValue,
          "min": stats.minimumValue, "overviews": layer.dataProvider().hasPyramids()}
with open(sys.argv[2], "w") as fh:
    json.dump(result, fh)
del layer
app.exitQgis()
"""


def test_qgis_opens_the_geotiff(surface, tmp_path):
    python = require_program(QGIS_PYTHON, "QGIS's Python (Debian python3-qgis) opens the surface")
    path = write_surface_geotiff(surface, tmp_path / "park.tif")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME",
                                                            "VIRTUAL_ENV")}  # fmt: skip
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime), HOME=str(tmp_path))
    result = tmp_path / "qgis.json"
    run = subprocess.run(
        [python, "-c", QGIS_SCRIPT, str(path), str(result)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    if "No module named 'qgis'" in run.stderr:
        skip_or_fail("python3-qgis is not installed: QGIS opens the surface")
    assert result.exists(), run.stderr[-2000:]
    got = json.loads(result.read_text())
    assert got["valid"] and got["crs"] == "EPSG:4549" and got["overviews"]
    with rasterio.open(path) as src:
        assert got["max"] == pytest.approx(float(np.nanmax(src.read(1))), abs=1e-4)


def test_web_image_sits_where_the_cells_are(surface, streets):
    png, bounds = make_surface_image(surface, speed_m_per_min=60)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    (south, west), (north, east) = bounds
    lon, lat = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True).transform(
        X0 + 500, Y0 + 500
    )
    assert west < lon < east and south < lat < north
    # the pixel at the facility is in the first class (under 5 minutes)
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (mx0, my0), (mx1, my1) = (to_merc.transform(west, south), to_merc.transform(east, north))
    fx, fy = to_merc.transform(lon, lat)
    px = int((fx - mx0) / (mx1 - mx0) * image.shape[1])
    py = int((my1 - fy) / (my1 - my0) * image.shape[0])
    first = tuple(int(c) for c in Image.new("RGB", (1, 1), MINUTE_COLOURS[0]).getpixel((0, 0)))
    assert tuple(image[py, px, :3]) == first
    # on a GCJ-02 basemap the corners move by the datum shift at the centre
    _, shifted = make_surface_image(surface, gcj02=True)
    gx, gy = crs.wgs84_to_gcj02(np.array([(west + east) / 2]), np.array([(south + north) / 2]))
    assert shifted[0][1] - west == pytest.approx(gx[0] - (west + east) / 2, abs=1e-9)
    assert shifted[0][0] - south == pytest.approx(gy[0] - (south + north) / 2, abs=1e-9)


def test_coverage_map_carries_the_surface_and_its_legend(surface, streets):
    from gongshu_geo.analysis.coverage import compute_surface_coverage, vectorize_surface

    areas = vectorize_surface(surface, [300.0, 600.0]).to_crs("EPSG:4326")
    cov = compute_surface_coverage(surface, [300.0, 600.0], facility="park")
    from gongshu_geo.analysis.coverage import compute_gaps

    gaps = compute_gaps(streets, areas)
    m = maps.make_coverage_map(streets, areas, gaps, cov, facility="park", surface=surface)
    html = maps.render_map(m)
    overlay = html[html.index("L.imageOverlay(") + len("L.imageOverlay(") :]
    assert overlay.lstrip().startswith('"data:image/png;base64,')
    assert "步行时间 Walking minutes" in html


def test_hexagons_add_up_to_the_streets(surface):
    hexes = aggregate_to_h3(surface, resolution=8, tiers=[300.0, 600.0])
    assert hexes.crs == "EPSG:4326"
    assert hexes["cells"].sum() == len(surface.area.inside)
    assert hexes["population"].sum() == pytest.approx(1500)
    assert (hexes["pop_share_300m"] <= hexes["pop_share_600m"] + 1e-12).all()
    # the hexagon holding the facility has the smallest mean walk
    lon, lat = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True).transform(
        X0 + 500, Y0 + 500
    )
    holder = hexes[hexes.contains(shapely.Point(lon, lat))]
    assert holder["minutes_mean"].iloc[0] == hexes["minutes_mean"].min()
    # a hexagon's worst walk is at most the street's farthest cell
    assert hexes["minutes_max"].max() <= np.hypot(1495, 495) / 60 + 1e-9
