"""Site selection on the packaged district: exact (pulp + CBC) against greedy, side by side.

500 candidate points spread at random (seeded) over the 18 streets, parks at 10 minutes
(500 m) with the existing parks counted, n = 10. The coverage matrix is built once and
both methods solve the same matrix; the script prints the time of each step, the people
each method reaches and greedy's bounds.

    python benchmarks/bench_siting.py            # about a minute on 2 cores
    python benchmarks/bench_siting.py --quick    # 100 candidates, n = 5: a smoke run
"""

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import timed  # noqa: E402

import gongshu_geo as gg  # noqa: E402
from gongshu_geo.analysis import mclp as _mclp  # noqa: E402
from gongshu_geo.analysis import siting


def random_candidates(streets, count, seed=14):
    """``count`` points inside the streets, uniformly by area (rejection sampling)."""
    rng = np.random.default_rng(seed)
    metric = streets.to_crs("EPSG:4549")
    district = shapely.union_all(metric.geometry.values)
    shapely.prepare(district)
    minx, miny, maxx, maxy = district.bounds
    points = np.empty((0, 2))
    while len(points) < count:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(4 * count, 2))
        points = np.vstack([points, xy[shapely.intersects_xy(district, xy[:, 0], xy[:, 1])]])
    points = points[:count]
    return gpd.GeoDataFrame(
        {"id": [f"C{k:04d}" for k in range(count)], "name": [f"候选 {k}" for k in range(count)]},
        geometry=shapely.points(points),
        crs="EPSG:4549",
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--time-limit-s", type=float, default=600.0)
    args = parser.parse_args(argv)
    count, n = (100, 5) if args.quick else (args.candidates, args.n)
    start = time.perf_counter()
    streets, projects = gg.read_streets(), gg.read_projects()
    parks = projects[(projects["category"] == "park") & (projects["status"] == "existing")]
    candidates = random_candidates(streets, count)
    sites = np.asarray(candidates.geometry.values, dtype=object)
    have = np.asarray(parks.to_crs("EPSG:4549").geometry.values, dtype=object)

    t_cells, cells = timed(lambda: siting.population_cells(streets, cell_m=siting.DEFAULT_CELL_M))
    t_matrix, (matrix, covered) = timed(
        lambda: siting._cover_matrix(cells, sites, have, distance_m=500.0)
    )
    units = np.where(covered, 0, np.rint(cells.pop * siting.UNITS_PER_PERSON).astype(np.int64))
    t_reduce, (merged, _) = timed(lambda: _mclp.reduce_matrix(matrix, units))
    t_greedy, greedy = timed(lambda: _mclp.solve_greedy(matrix, units, n), repeat=3)
    t_exact, exact = timed(
        lambda: _mclp.solve_exact(matrix, units, n, time_limit_s=args.time_limit_s)
    )
    per = siting.UNITS_PER_PERSON
    print(f"{count} candidates, n = {n}, {len(cells.xy):,} populated cells of "
          f"{cells.cell_m:g} m, {matrix.nnz:,} (candidate, cell) pairs; merged: "
          f"{merged.shape[1]:,} cells, {merged.nnz:,} pairs")  # fmt: skip
    print(f"{'step':<34}{'seconds':>10}  note")
    print(f"{'population cells':<34}{t_cells:>10.3f}")
    print(f"{'coverage matrix':<34}{t_matrix:>10.3f}  STRtree dwithin, 500 m")
    print(f"{'merge identical cells':<34}{t_reduce:>10.3f}  (inside each solve too)")
    print(f"{'greedy (lazy), best of 3':<34}{t_greedy:>10.3f}  "
          f"{greedy.objective / per:,.0f} people")  # fmt: skip
    if exact is None:
        print(f"{'exact (pulp + CBC)':<34}{t_exact:>10.3f}  no proven optimum within "
              f"{args.time_limit_s:g} s")  # fmt: skip
    else:
        print(f"{'exact (pulp + CBC), two solves':<34}{t_exact:>10.3f}  "
              f"{exact.objective / per:,.0f} people")  # fmt: skip
        print(f"exact / greedy time: {t_exact / t_greedy:,.0f}x; greedy reaches "
              f"{greedy.objective / exact.objective:.4%} of the optimum "
              f"(guaranteed {_mclp.GREEDY_GUARANTEE:.1%}; Minoux bound "
              f"{greedy.upper_bound / per:,.0f}, {greedy.upper_bound / exact.objective:.4%} "
              f"of the optimum)")  # fmt: skip
        same = sorted(exact.chosen) == sorted(greedy.chosen)
        print(f"same sites: {same}")
    print(f"total wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
