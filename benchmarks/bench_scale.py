"""Point coverage at city scale: the local engine, the Dask engine and a geopandas baseline.

Run from the repository root (a script, not a test; about 3 minutes on 2 cores,
plus about 5 with --big):

    python benchmarks/bench_scale.py [--points 1000000] [--facilities 100000] [--big]

All inputs come from gongshu_geo.synth (190 streets around Hangzhou, clustered
people, facilities following them), so anyone can rerun it. Measured side by
side in one run:

(a) compute_point_coverage, engine="local", against engine="dask" on a local
    cluster of 1 and of 2 single-threaded worker processes (cluster start-up is
    timed apart: it is paid once per session, not per analysis);
(b) the local engine against the plain geopandas recipe: sjoin_nearest of every
    point to the facilities (max_distance = the widest tier), sjoin "within" the
    streets, then a groupby per tier;
(c) the local engine's time against the number of points (1/8, 1/4, 1/2, 1).
(d) --big: ten million points written as GeoParquet in 1M-point files, then
    the local engine and the 2-worker Dask engine read them, each in a fresh
    process whose peak resident memory (VmHWM) is reported; for Dask, the
    largest worker's and the client's.

Times are the best of ``--repeat`` runs where cheap (the baseline runs once).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from _timing import timed  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from gongshu_geo import synth
from gongshu_geo.points import compute_point_coverage

TIERS_M = (300.0, 500.0, 1000.0)


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux VmHWM), MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def baseline(points, facilities, streets):
    """The usual geopandas recipe for the same table."""
    near = gpd.sjoin_nearest(
        points, facilities[["geometry"]], how="left", max_distance=max(TIERS_M), distance_col="d"
    )
    near = near[~near.index.duplicated()]
    inside = gpd.sjoin(
        near.drop(columns="index_right"), streets[["street_code", "geometry"]], predicate="within"
    )
    rows = []
    for d in TIERS_M:
        covered = inside["population"].where(inside["d"] <= d, 0.0)
        agg = inside.assign(covered_pop=covered).groupby("street_code")
        rows.append(
            agg.agg(covered_pop=("covered_pop", "sum"), population=("population", "sum"))
            .assign(distance_m=d)
            .reset_index()
        )
    return pd.concat(rows, ignore_index=True)


def same(a, b) -> bool:
    keys = ["distance_m", "street_code"]
    a = a.sort_values(keys, ignore_index=True)
    b = b.sort_values(keys, ignore_index=True)
    b = b[b["street_code"].isin(a["street_code"])].reset_index(drop=True)
    a = a[a["street_code"].isin(b["street_code"])].reset_index(drop=True)
    return bool(np.allclose(a["covered_pop"], b["covered_pop"]))


def row(table, what, seconds, ref=None, note=""):
    ratio = f"{seconds / ref:6.2f}x" if ref else "      "
    table.append(f"  {what:<52} {seconds:8.2f} s  {ratio}  {note}")


def run_dask(points, facilities, streets, n_workers, repeat):
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        startup = time.perf_counter() - start
        seconds, result = timed(
            lambda: compute_point_coverage(
                points, facilities, streets, engine="dask", scheduler=client
            ),
            repeat,
        )
    return startup, seconds, result


def child(args):
    """--big, in a fresh process: one engine over the Parquet folder; print JSON."""
    streets = synth.make_synthetic_region(190, seed=args.seed)
    facilities = synth.make_facilities(streets, args.facilities, seed=args.seed)
    out = {}
    if args.child == "local":
        out["seconds"], result = timed(
            lambda: compute_point_coverage(Path(args.dir), facilities, streets)
        )
    else:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            out["seconds"], result = timed(
                lambda: compute_point_coverage(
                    Path(args.dir), facilities, streets, engine="dask", scheduler=client
                )
            )
            out["worker_peak_mb"] = max(client.run(peak_rss_mb).values())
    out["peak_mb"] = peak_rss_mb()
    out["points"] = int(result.loc[result["distance_m"] == 300.0, "n_points"].sum())
    out["covered_15min"] = float(result.loc[result["distance_m"] == 1000.0, "covered_pop"].sum())
    print(json.dumps(out))


def big(args, table):
    with tempfile.TemporaryDirectory(prefix="gongshu-bench-") as tmp:
        folder = Path(tmp) / "pop10m"
        seconds, _ = timed(
            lambda: synth.write_population_parquet(folder, 10_000_000, seed=args.seed)
        )
        size_mb = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        row(table, "write 10M points to GeoParquet (10 files)", seconds,
            note=f"{size_mb:.0f} MB on disk")  # fmt: skip
        runs = {}
        for engine in ("local", "dask"):
            cmd = [sys.executable, __file__, "--child", engine, "--dir", str(folder),
                   "--facilities", str(args.facilities), "--seed", str(args.seed)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs[engine] = json.loads(done.stdout.strip().splitlines()[-1])
        ref = runs["local"]["seconds"]
        row(table, "10M points from Parquet, local engine", ref, ref,
            f"peak RSS {runs['local']['peak_mb']:.0f} MB")  # fmt: skip
        row(table, "10M points from Parquet, dask, 2 workers", runs["dask"]["seconds"], ref,
            f"peak RSS: largest worker {runs['dask']['worker_peak_mb']:.0f} MB, "
            f"client {runs['dask']['peak_mb']:.0f} MB")  # fmt: skip
        agree = np.isclose(runs["local"]["covered_15min"], runs["dask"]["covered_15min"])
        table.append(f"  (both read {runs['local']['points']:,} points; same totals: {agree})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--streets", type=int, default=190)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--big", action="store_true", help="also 10M points from Parquet")
    parser.add_argument("--child", choices=["local", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores")
    start = time.perf_counter()
    streets = synth.make_synthetic_region(args.streets, seed=args.seed)
    points = synth.make_population_points(streets, args.points, seed=args.seed)
    facilities = synth.make_facilities(streets, args.facilities, seed=args.seed)
    print(f"# inputs: {len(streets)} streets, {len(points):,} points "
          f"({points['population'].sum():,.0f} people), {len(facilities):,} facilities; "
          f"generated in {time.perf_counter() - start:.1f} s")  # fmt: skip
    table = []

    table.append(f"(a) local vs dask, {len(points):,} points x {len(facilities):,} facilities")
    t_local, local = timed(lambda: compute_point_coverage(points, facilities, streets), args.repeat)
    row(table, "local engine", t_local, t_local)
    for n in (1, 2):
        startup, seconds, result = run_dask(points, facilities, streets, n, args.repeat)
        row(table, f"dask engine, LocalCluster {n} worker(s)", seconds, t_local,
            f"+ {startup:.1f} s cluster start; equal: {same(local, result)}")  # fmt: skip

    table.append("(b) local engine vs geopandas sjoin_nearest + sjoin + groupby")
    t_base, base = timed(lambda: baseline(points, facilities, streets))
    row(table, "local engine", t_local, t_local)
    row(table, "geopandas baseline (1 run)", t_base, t_local, f"equal: {same(local, base)}")

    table.append("(c) local engine, time vs number of points")
    ref = None
    for share in (8, 4, 2, 1):
        n = len(points) // share
        sub = points.iloc[:n]
        seconds, _ = timed(
            lambda sub=sub: compute_point_coverage(sub, facilities, streets), args.repeat
        )
        ref = ref or seconds
        row(table, f"{n:>10,} points", seconds, ref, f"{seconds / n * 1e6:.2f} us/point")

    if args.big:
        table.append("(d) 10M points read from a GeoParquet folder, each engine in a fresh process")
        big(args, table)
    print("\n".join(table))


if __name__ == "__main__":
    main()
