"""Big inputs: how long they take, how much memory they need, and the refusal of huge ones.

Run from the repository root (a script, not a test):

    python benchmarks/bench_big_inputs.py            # the sizes of issue 16 (several minutes)
    python benchmarks/bench_big_inputs.py --quick    # small sizes, a smoke run

Each case runs in a fresh Python process, so that its peak resident memory
(``ru_maxrss`` of ``resource.getrusage``) is its own; an "import only" process
gives the floor every case starts from. Cases, each beside a baseline measured
in the same run:

(a) a project file of N features (100,000) validated with ``read_projects`` (every
    feature checked, every problem gathered), against reading the same file with
    ``geopandas.read_file`` (pyogrio, no checks) and against ``json.load`` alone;
(b) a facility CSV of M points (1,000,000) built through coverage
    (``build(facilities=..., facility_layers=())``: reading, the study-area check,
    5/10/15-minute service areas, coverage per street, the HTML maps; no PNGs or GeoPackage),
    against reading the CSV with ``read_points_csv`` alone;
(c) a 2 GB file (sparse, made with ``truncate``: it takes no disk space) given to
    ``read_projects``, as a facility CSV to ``build``, and as a GraphML graph:
    refused before it is read. Its peak memory is compared with the import-only floor.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

_RUN = textwrap.dedent(
    """
    import json, resource, sys, time
    start = time.perf_counter()
    error = None
    try:
        exec(sys.argv[1])
    except Exception as exc:  # the refusal cases end in the package's own error
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "error": error}))
    """
)


def run_case(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return its time, peak memory and error."""
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_projects(path: Path, n: int) -> None:
    """N valid project features (points and small squares) inside Gongshu, as GeoJSON."""
    rng = np.random.default_rng(16)
    lon = rng.uniform(120.10, 120.20, n)
    lat = rng.uniform(30.28, 30.38, n)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"type": "FeatureCollection", "features": [\n')
        for i in range(n):
            if i % 2:
                x, y, d = lon[i], lat[i], 0.0005
                ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
                geom = {"type": "Polygon", "coordinates": [ring]}
            else:
                geom = {"type": "Point", "coordinates": [lon[i], lat[i]]}
            props = {
                "id": f"2023-GS-{i:06d}",
                "name": f"项目{i}",
                "name_en": f"Project {i}",
                "category": "park",
                "subcategory": "pocket_park",
                "status": "planned",
                "period": "2021-2025",
                "plan_ref": "第三章",
                "location_source": "benchmark",
                "location_accuracy_m": 100,
            }
            sep = ",\n" if i < n - 1 else "\n"
            feature = {"type": "Feature", "properties": props, "geometry": geom}
            fh.write(json.dumps(feature, ensure_ascii=False) + sep)
        fh.write("]}\n")


def write_points_csv(path: Path, n: int) -> None:
    """M facility points inside Gongshu as a CSV with lon/lat."""
    rng = np.random.default_rng(61)
    lon = rng.uniform(120.10, 120.20, n)
    lat = rng.uniform(30.28, 30.38, n)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("name,lon,lat\n")
        for i in range(n):
            fh.write(f"p{i},{lon[i]:.6f},{lat[i]:.6f}\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    n_features = 2_000 if args.quick else args.features
    n_points = 20_000 if args.quick else args.points
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-big-") as tmp:
        tmp = Path(tmp)
        projects = tmp / "projects.geojson"
        write_projects(projects, n_features)
        points = tmp / "pois.csv"
        write_points_csv(points, n_points)
        huge = {}
        for name in ("huge.geojson", "huge.csv", "huge.graphml"):
            with open(tmp / name, "wb") as fh:
                fh.truncate(2 * 10**9)
            huge[name] = tmp / name
        size = {p: p.stat().st_size / 1e6 for p in (projects, points)}
        cases = [
            ("import only (the floor)", "", "import gongshu_geo.pipeline, gongshu_geo.cli"),
            (
                f"(a) validate {n_features:,} project features",
                f"{size[projects]:.0f} MB GeoJSON",
                f"""
                from gongshu_geo import read_projects
                gdf = read_projects({str(projects)!r})
                assert len(gdf) == {n_features}
                """,
            ),
            (
                "    baseline: geopandas.read_file",
                "same file, no checks",
                f"""
                import geopandas as gpd
                assert len(gpd.read_file({str(projects)!r}, engine="pyogrio")) == {n_features}
                """,
            ),
            (
                "    baseline: json.load",
                "same file, parse only",
                f"""
                import json
                with open({str(projects)!r}, encoding="utf-8") as fh:
                    assert len(json.load(fh)["features"]) == {n_features}
                """,
            ),
            (
                f"(b) build coverage of {n_points:,} facility points",
                f"{size[points]:.0f} MB CSV",
                f"""
                from gongshu_geo import pipeline
                r = pipeline.build(out={str(tmp / "out")!r}, facilities={{"pois": {str(points)!r}}},
                                   facility_layers=(), png=False, gpkg=False)
                assert not r.warnings, r.warnings
                """,
            ),
            (
                "    baseline: read_points_csv only",
                "same file",
                f"""
                from gongshu_geo import read_points_csv
                assert len(read_points_csv({str(points)!r})) == {n_points}
                """,
            ),
            (
                "(c) validate a 2 GB projects file",
                "sparse, refused",
                f"""
                from gongshu_geo import read_projects
                read_projects({str(huge["huge.geojson"])!r})
                """,
            ),
            (
                "(c) build with a 2 GB facility CSV",
                "sparse, refused",
                f"""
                from gongshu_geo import pipeline
                big = {{"x": {str(huge["huge.csv"])!r}}}
                pipeline.build(out={str(tmp / "out2")!r}, facilities=big,
                               facility_layers=(), png=False, gpkg=False)
                """,
            ),
            (
                "(c) read a 2 GB GraphML graph",
                "sparse, refused",
                f"""
                from gongshu_geo.data.graphs import read_graph
                read_graph({str(huge["huge.graphml"])!r})
                """,
            ),
        ]
        for label, what, code in cases:
            result = run_case(code)
            rows.append((label, what, result))
            print(_row(label, what, result), flush=True)
    print(
        f"\nPython {platform.python_version()}, {platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores"
    )


def _row(label, what, result) -> str:
    note = (result["error"] or "")[:90]
    return (
        f"{label:<46} {what:<24} {result['seconds']:>8.2f} s {result['peak_mb']:>8.0f} MB  {note}"
    )


if __name__ == "__main__":
    main()
