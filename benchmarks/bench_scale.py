"""Point coverage of Hangzhou's real streets: local and Dask, straight line and network.

Run from the repository root (a script, not a test; about 5 minutes on 2 cores):

    python benchmarks/bench_scale.py [--points 1000000] [--nodes 1000000] [--cell-m 25]
    python benchmarks/bench_scale.py --quick     # 100,000 points and nodes: a smoke run

Inputs, rebuilt from a seed so anyone can rerun it:

- streets: Hangzhou's 201 real street and town polygons, every district at street level
  (2020 division), from LonelyFarer/zjProvince (``gongshu_geo.data.synth.read_hangzhou_streets``,
  files in ``data/sources/zjprovince/``), repaired with ``shapely.make_valid``;
- the urban part: the 92 of them named 街道 (sub-districts), 3,347 km², as against 104 towns
  (镇, 乡) with 13,406 km² and 5 special zones (开发区, 围垦区, 农场...) with 279 km²;
- population points: 90 % clustered over the urban part, 10 % clustered over all streets
  (``synth.make_population_points``); facilities follow the same clusters
  (``synth.make_facilities``);
- the walking network: synthetic (``synth.make_walking_lattice``), a lattice over the urban
  part with its spacing chosen to give ``--nodes`` nodes (55 m at a million), nodes jittered
  by up to 20 % of the spacing, 10 % of the edges dropped at random, each edge as long as
  its straight segment. No public
  street-network file of Hangzhou is on this machine (OSMnx needs the internet), so the
  network is not the real one; the streets are.

Measured, every case in a fresh process whose peak resident memory (VmHWM) is read, for
Dask the client's and the largest worker's (cluster start-up timed apart: paid once per
session, not per analysis):

(a) the whole city: local engine vs Dask on a LocalCluster of 1 and 2 single-threaded
    workers, straight line and network (``cell_m`` of the walk's grid: 25 m, see below);
(b) network mode, the walk's grid alone (``access.network_metres``) in tiles of 2000 and
    1000 cells and in one tile: time, peak memory and whether the results are identical;
(c) the growth as the work doubles: nested urban areas nearest the city centre (Wulin
    Square) holding 1/8, 1/4, 1/2 and all of the urban streets' area, with that share of the
    points, of the facilities and of the lattice's nodes, both engines, both modes.

Why 25 m cells: the walk's grid covers the streets' bounding box, 230 x 152 km for all of
Hangzhou; at the default 10 m that is 350 million cells, beyond ``grid.MAX_CELLS``; 25 m
gives 56 million (half a cell diagonal: 17.7 m, a third of the 50 m band).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gongshu_geo.analysis.network import WalkGraph
from gongshu_geo.data import synth

TIERS_M = (300.0, 500.0, 1000.0)
BAND_M = 50.0
SHARES = (8, 4, 2, 1)
URBAN_SHARE = 0.9  # of the people and facilities, clustered over the urban streets


# --- inputs ----------------------------------------------------------------------------


def real_streets():
    """All of Hangzhou's streets in EPSG:4549, and which of them are urban (街道)."""
    streets = synth.read_hangzhou_streets().to_crs("EPSG:4549")
    urban = streets["name"].str.endswith("街道").to_numpy()
    return streets, urban


def nested_urban(streets, urban, share: int):
    """Urban streets nearest Wulin Square holding 1/``share`` of the urban area."""
    from pyproj import Transformer

    centre = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True).transform(
        *synth.CENTRE_LON_LAT
    )
    town = streets[urban]
    near = town.geometry.centroid.distance(shapely.Point(centre)).to_numpy()
    order = np.argsort(near, kind="stable")
    area = town.area.to_numpy()[order]
    n = int(np.searchsorted(np.cumsum(area), area.sum() / share - 1e-6) + 1)
    return town.iloc[np.sort(order[:n])]


def write_case(folder: Path, streets, urban_streets, n_points, n_facilities, n_nodes, seed):
    """Draw one case's inputs and write them for the child processes."""
    folder.mkdir(parents=True)
    n_urban = int(round(n_points * URBAN_SHARE)) if len(urban_streets) < len(streets) else n_points
    parts = [synth.make_population_points(urban_streets, n_urban, seed=seed)]
    f_urban = int(round(n_facilities * URBAN_SHARE)) if n_urban < n_points else n_facilities
    facs = [synth.make_facilities(urban_streets, f_urban, seed=seed)]
    if n_urban < n_points:
        parts.append(synth.make_population_points(streets, n_points - n_urban, seed=seed + 1))
        facs.append(synth.make_facilities(streets, n_facilities - f_urban, seed=seed + 1))
    points = pd.concat(parts, ignore_index=True)
    facilities = pd.concat(facs, ignore_index=True)
    graph = synth.make_walking_lattice(urban_streets, n_nodes, seed=seed)
    streets[["street_code", "name", "geometry"]].to_parquet(folder / "streets.parquet")
    points.to_parquet(folder / "points.parquet")
    facilities[["facility_id", "geometry"]].to_parquet(folder / "facilities.parquet")
    np.savez(folder / "graph.npz", xy=graph.node_xy, u=graph.u, v=graph.v, length=graph.length_m)
    return {"streets": len(streets), "km2": float(streets.area.sum() / 1e6),
            "points": len(points), "people": float(points["population"].sum()),
            "facilities": len(facilities), "nodes": graph.n_nodes,
            "edges": graph.n_edges}  # fmt: skip


# --- one measurement, in a fresh process ------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux VmHWM), MB."""
    return _status_mb("VmHWM:")


def _status_mb(key) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def read_case(folder: Path):
    z = np.load(folder / "graph.npz")
    graph = WalkGraph(z["xy"], z["u"], z["v"], z["length"])
    frames = [gpd.read_parquet(folder / f"{name}.parquet")
              for name in ("streets", "points", "facilities")]  # fmt: skip
    return (*frames, graph)


def child(args):
    """Run one engine in one mode on one case; print JSON."""
    from gongshu_geo.analysis.points import compute_point_coverage

    streets, points, facilities, graph = read_case(Path(args.case))
    out = {"inputs_mb": _status_mb("VmRSS:")}
    kwargs = {"cell_m": args.cell_m}
    if args.mode == "network":
        kwargs["graph"] = graph
    del graph
    if args.engine == "local":
        start = time.perf_counter()
        result = compute_point_coverage(streets, points, facilities, **kwargs)
        out["seconds"] = time.perf_counter() - start
    else:
        from distributed import Client, LocalCluster

        start = time.perf_counter()
        with (
            LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                         dashboard_address=":0") as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            out["startup"] = time.perf_counter() - start
            start = time.perf_counter()
            result = compute_point_coverage(
                streets, points, facilities, engine="dask", scheduler=client, **kwargs
            )
            out["seconds"] = time.perf_counter() - start
            out["worker_peak_mb"] = max(client.run(peak_rss_mb).values())
    out["peak_mb"] = peak_rss_mb()
    result = result.sort_values(["distance_m", "street_code"])
    out["covered"] = result["covered_pop"].tolist()
    out["covered_by_tier"] = result.groupby("distance_m")["covered_pop"].sum().tolist()
    out["population"] = float(result.loc[result["distance_m"] == TIERS_M[0], "population"].sum())
    print(json.dumps(out))


def child_tiles(args):
    """The walk's grid alone, in tiles of ``--tile-cells``; print JSON with a digest."""
    import hashlib

    from gongshu_geo.analysis.access import network_metres
    from gongshu_geo.analysis.grid import make_grid

    streets, _, facilities, graph = read_case(Path(args.case))
    grid = make_grid(shapely.total_bounds(streets.geometry.values), cell_m=args.cell_m)
    tile = args.tile_cells or max(grid.shape)
    base = _status_mb("VmRSS:")
    start = time.perf_counter()
    metres = network_metres(grid, graph, facilities.geometry.values, band_m=BAND_M,
                            max_m=TIERS_M[-1], tile_cells=tile, exact_at=TIERS_M)  # fmt: skip
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb(), "inputs_mb": base,
                      "cells": grid.size, "shape": list(grid.shape),
                      "reached": float(np.isfinite(metres).mean()),
                      "digest": hashlib.sha1(metres.tobytes()).hexdigest()}))  # fmt: skip


def run_child(*extra):
    cmd = [sys.executable, __file__, *map(str, extra)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"child {extra} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the report ---------------------------------------------------------------------------


def say(line: str) -> None:
    print(line, flush=True)  # as it comes: a run cut short keeps what it measured


def fmt_run(what, run, ref=None, equal=None):
    ratio = f"{run['seconds'] / ref:5.2f}x" if ref else "     "
    mem = f"peak {run['peak_mb']:5.0f} MB (inputs {run['inputs_mb']:.0f})"
    if "worker_peak_mb" in run:
        mem = (f"client {run['peak_mb']:5.0f} MB (inputs {run['inputs_mb']:.0f}), "
               f"largest worker {run['worker_peak_mb']:4.0f} MB; "
               f"+ {run['startup']:.1f} s cluster start")  # fmt: skip
    same = "" if equal is None else f"; equal to local: {equal}"
    return f"  {what:<26} {run['seconds']:6.2f} s {ratio}  {mem}{same}"


def equal(a, b) -> bool:
    return bool(np.allclose(a["covered"], b["covered"], rtol=1e-9, atol=1e-6))


def engines(case, cell_m, *, worker_counts=(1, 2), report=True):
    """Local, then Dask on each number of workers, in each mode."""
    runs = {}
    for mode in ("distance", "network"):
        local = run_child("--child", case, "--engine", "local", "--mode", mode, "--cell-m", cell_m)
        runs[mode, "local"] = local
        if report:
            say(fmt_run(f"{mode}, local", local, local["seconds"]))
        for n in worker_counts:
            run = run_child("--child", case, "--engine", "dask", "--workers", n, "--mode", mode,
                            "--cell-m", cell_m)  # fmt: skip
            runs[mode, f"dask {n}"] = run
            if report:
                same = equal(local, run)
                say(fmt_run(f"{mode}, dask {n} worker(s)", run, local["seconds"], same))
    return runs


def whole_city(folder, args, city, n_urban):
    say(f"# whole city: {city['streets']} real streets ({city['km2']:,.0f} km²), "
        f"{city['points']:,} points ({city['people']:,.0f} people), "
        f"{city['facilities']:,} facilities; lattice of {city['nodes']:,} nodes and "
        f"{city['edges']:,} edges over the {n_urban} urban streets; cell_m {args.cell_m:g}, "
        f"band {BAND_M:g} m, tiers {', '.join(f'{t:g}' for t in TIERS_M)} m")  # fmt: skip
    say(f"(a) whole city, {city['points']:,} points, {city['nodes']:,} nodes: "
        "time, ratio to local, peak memory (VmHWM)")  # fmt: skip
    runs = engines(folder, args.cell_m)
    pop = runs["distance", "local"]["population"]
    pairs = zip(TIERS_M, runs["distance", "local"]["covered_by_tier"],
                runs["network", "local"]["covered_by_tier"], strict=True)  # fmt: skip
    shares = "; ".join(f"{t:g} m {a / pop:.1%} / {b / pop:.1%}" for t, a, b in pairs)
    say(f"  people covered, straight line / network, of {pop:,.0f}: {shares}")


def tile_sizes(folder, args):
    say("(b) network mode, the walk's grid alone (network_metres), by tile size")
    ref = None
    for tile in (2000, 1000, 0):
        run = run_child("--tiles-child", folder, "--tile-cells", tile, "--cell-m", args.cell_m)
        ref = ref or run
        name = f"tiles of {tile} cells" if tile else "one tile (untiled)"
        say(f"  {name:<26} {run['seconds']:6.2f} s {run['seconds'] / ref['seconds']:5.2f}x  "
            f"peak {run['peak_mb']:6.0f} MB (inputs {run['inputs_mb']:.0f} MB); "
            f"identical: {run['digest'] == ref['digest']}")  # fmt: skip
    say(f"  grid {ref['shape'][0]:,} x {ref['shape'][1]:,} = {ref['cells']:,} cells of "
        f"{args.cell_m:g} m ({ref['cells'] * 8 / 1e6:,.0f} MB as float64), "
        f"{ref['reached']:.1%} of them reached")  # fmt: skip


def growth(tmp, args, streets, urban):
    say("(c) growth as the work doubles: nested urban areas around Wulin Square; "
        "time, ratio to the step before (2.00 = linear), peak memory")  # fmt: skip
    before = {}
    for share in SHARES:
        sub = nested_urban(streets, urban, share)
        case = tmp / f"share{share}"
        info = write_case(case, sub, sub, args.points // share, args.facilities // share,
                          args.nodes // share, args.seed)  # fmt: skip
        say(f"  1/{share}: {info['streets']} streets, {info['km2']:,.0f} km², "
            f"{info['points']:,} points, {info['facilities']:,} facilities, "
            f"{info['nodes']:,} nodes")  # fmt: skip
        for key, run in engines(case, args.cell_m, worker_counts=(2,), report=False).items():
            ratio = f"{run['seconds'] / before[key]:5.2f}x" if key in before else "     "
            before[key] = run["seconds"]
            mem = f"peak {run['peak_mb']:5.0f} MB (inputs {run['inputs_mb']:.0f})"
            if "worker_peak_mb" in run:
                mem = (f"client {run['peak_mb']:5.0f} MB (inputs {run['inputs_mb']:.0f}), "
                       f"largest worker {run['worker_peak_mb']:4.0f} MB")  # fmt: skip
            say(f"    {key[0]:<8} {key[1]:<7} {run['seconds']:7.2f} s {ratio}  {mem}")
        shutil.rmtree(case)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--cell-m", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="100,000 points and nodes")
    parser.add_argument("--no-growth", action="store_true", help="skip (c)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tiles-child", help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="local", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="distance", help=argparse.SUPPRESS)
    parser.add_argument("--tile-cells", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.case = args.child
        return child(args)
    if args.tiles_child:
        args.case = args.tiles_child
        return child_tiles(args)
    if args.quick:
        args.points, args.nodes, args.facilities = 100_000, 100_000, 10_000

    say(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores")
    wall = time.perf_counter()
    streets, urban = real_streets()
    with tempfile.TemporaryDirectory(prefix="gongshu-bench-scale-") as tmp:
        tmp = Path(tmp)
        city = write_case(tmp / "city", streets, streets[urban], args.points, args.facilities,
                          args.nodes, args.seed)  # fmt: skip
        whole_city(tmp / "city", args, city, int(urban.sum()))
        tile_sizes(tmp / "city", args)
        shutil.rmtree(tmp / "city")
        if not args.no_growth:
            growth(tmp, args, streets, urban)
    say(f"total wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
