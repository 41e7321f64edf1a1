"""Side-by-side timings of gongshu_geo coverage against the usual recipes.

Run from the repository root (a script, not a test; about 2-3 minutes on 2 cores):

    python benchmarks/bench_coverage.py [--quick]

(a) network coverage, end to end from the graph and the facilities to the
    per-street table for 3 tiers: ours (the grid core: one multi-source Dijkstra,
    samples of the reached ways, the band as a disc filter settled exactly at the
    tiers) against the OSMnx-style recipe (one networkx single-source Dijkstra /
    ego graph per facility, its edges banded, then a union of all facilities) and
    against the polygon path of the first release (``method="polygon"``: reached
    edges cut, banded and dissolved with GEOS), on a synthetic grid of 100,489
    nodes with 500 facilities. The recipe runs on a subset of facilities and is
    extrapolated linearly; the output says so.
(b) node distances: compute_node_distances against a bare
    scipy.sparse.csgraph.dijkstra(indices=..., min_only=True) call.
(c) straight-line coverage of 18 streets by 10,000 facilities: the grid against
    the polygon path of the first release and a geopandas overlay of every
    buffer with the streets, then a dissolve.

Targets (issue #11): (a) >= 100x the recipe and >= 20x the polygon path; (b)
within 1.5x of the bare call; (c) >= 2x the polygon path. The last column says
whether each was met in this run.

Each comparison is measured in the same run, best of ``repeat`` where cheap.
"""

from __future__ import annotations

import argparse
import platform
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from _timing import timed  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
from scipy.sparse.csgraph import dijkstra

from gongshu_geo.analysis.coverage import QUAD_SEGS, compute_coverage, service_tiers
from gongshu_geo.analysis.network import BAND_QUAD_SEGS, WalkGraph, compute_node_distances

METRIC = "EPSG:4549"
X0, Y0 = 500_000.0, 3_340_000.0
BAND_M = 50.0


def grid_graph(side, step):
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([X0 + i.ravel() * step, Y0 + j.ravel() * step])
    idx = np.arange(side * side).reshape(side, side)
    u = np.r_[idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    v = np.r_[idx[1:, :].ravel(), idx[:, 1:].ravel()]
    return WalkGraph(node_xy=xy, u=u, v=v, length_m=np.full(len(u), step))


def street_grid(width, height, cols=6, rows=3):
    w, h = width / cols, height / rows
    boxes = [shapely.box(X0 + c * w, Y0 + r * h, X0 + (c + 1) * w, Y0 + (r + 1) * h)
             for r in range(rows) for c in range(cols)]  # fmt: skip
    codes = [f"S{k:02d}" for k in range(len(boxes))]
    return gpd.GeoDataFrame({"street_code": codes, "name": codes}, geometry=boxes, crs=METRIC)


def osmnx_recipe(G, graph, facility_nodes, tiers_m):
    """Per facility: networkx Dijkstra with a cutoff, its edges banded; then a union."""
    per_tier = {t: [] for t in tiers_m}
    lines = graph.lines
    edge_of = {(a, b): k for k, (a, b) in enumerate(zip(graph.u, graph.v, strict=True))}
    for node in facility_nodes:
        reach = nx.single_source_dijkstra_path_length(G, node, cutoff=max(tiers_m), weight="length")
        for t in tiers_m:
            inside = {n for n, d in reach.items() if d <= t}
            ego = G.subgraph(inside)  # nx.ego_graph(G, node, radius=t, distance="length")
            edges = [edge_of[(min(a, b), max(a, b))] for a, b in ego.edges()]
            banded = shapely.buffer(lines[edges], BAND_M, quad_segs=BAND_QUAD_SEGS)
            per_tier[t].append(shapely.union_all(banded))
    return per_tier


def bench_network(n_side, n_facilities, n_recipe, rng):
    graph = grid_graph(n_side, 50.0)
    width = (n_side - 1) * 50.0
    streets = street_grid(width, width)
    nodes = rng.choice(graph.n_nodes, n_facilities, replace=False)
    # facilities 10 m off their node, as real ones are
    facilities = gpd.GeoDataFrame(
        geometry=shapely.points(graph.node_xy[nodes] + [7.0, 7.0]), crs=METRIC
    )
    tiers = service_tiers()
    tiers_m = tiers["distance_m"].tolist()

    def fresh():  # nothing cached on the graph: the edge index is built in the timing
        return WalkGraph(node_xy=graph.node_xy, u=graph.u, v=graph.v, length_m=graph.length_m)

    t_ours, ours = timed(lambda: compute_coverage(streets, facilities, tiers=tiers, mode="network",
                                                  graph=fresh(), band_m=BAND_M), 3)  # fmt: skip
    t_poly, poly = timed(lambda: compute_coverage(streets, facilities, tiers=tiers, mode="network",
                                                  graph=fresh(), band_m=BAND_M,
                                                  method="polygon"))  # fmt: skip
    gap = (ours["covered_area_share"] - poly["covered_area_share"]).abs().max()
    G = nx.Graph()
    ends = zip(graph.u.tolist(), graph.v.tolist(), graph.length_m.tolist(), strict=True)
    G.add_weighted_edges_from(ends, weight="length")
    subset = nodes[:n_recipe]
    t_sub, per_tier = timed(lambda: osmnx_recipe(G, graph, subset, tiers_m))
    street_geoms = streets.geometry.values

    def finish():
        return [shapely.area(shapely.intersection(street_geoms, shapely.union_all(polys)))
                for polys in per_tier.values()]  # fmt: skip

    t_union, _ = timed(finish)
    # The search alone: one multi-source pass against one networkx Dijkstra per facility.
    fac_at_nodes = gpd.GeoDataFrame(geometry=shapely.points(graph.node_xy[nodes]), crs=METRIC)
    t_search, _ = timed(lambda: compute_node_distances(graph, fac_at_nodes,
                                                       max_distance_m=max(tiers_m)))  # fmt: skip
    t_nx, _ = timed(lambda: [nx.single_source_dijkstra_path_length(G, n, cutoff=max(tiers_m),
                                                                   weight="length")
                             for n in subset])  # fmt: skip
    search_row = (
        "(a2) the search only, 1000 m",
        f"{graph.n_nodes:,} nodes, {n_facilities} facilities",
        t_search,
        t_nx * n_facilities / n_recipe,
        f"networkx Dijkstra per facility, {n_recipe} run, x{n_facilities / n_recipe:g} linear",
    )
    t_recipe = (t_sub + t_union) * n_facilities / n_recipe
    size = f"{graph.n_nodes:,} nodes, {n_facilities} facilities"
    note = f"recipe run on {n_recipe} facilities, x{n_facilities / n_recipe:g} linear"
    poly_note = f"first release's polygon path; shares agree to {100 * gap:.2f} pp"
    return (
        graph,
        [
            ("(a) network coverage, 3 tiers", size, t_ours, t_recipe, note, 100.0),
            ("(a1) the same, vs today's polygons", size, t_ours, t_poly, poly_note, 20.0),
            (*search_row, None),
        ],
        nodes,
    )


def bench_distances(graph, nodes, repeat):
    facilities = gpd.GeoDataFrame(geometry=shapely.points(graph.node_xy[nodes]), crs=METRIC)
    t_ours, ours = timed(
        lambda: compute_node_distances(graph, facilities, max_distance_m=1000), repeat
    )
    matrix = graph.matrix
    t_raw, raw = timed(
        lambda: dijkstra(matrix, directed=False, indices=nodes, min_only=True, limit=1000), repeat
    )
    assert np.allclose(ours.to_numpy(), raw), "distances differ"
    return [("(b) node distances", f"{graph.n_nodes:,} nodes, {len(nodes)} sources", t_ours, t_raw,
             "raw: scipy dijkstra(min_only=True) on the same matrix", 1 / 1.5)]  # fmt: skip


def bench_straight_line(n_facilities, rng, repeat):
    streets = street_grid(12_000.0, 6_000.0)
    xy = np.column_stack(
        [rng.uniform(X0, X0 + 12_000, n_facilities), rng.uniform(Y0, Y0 + 6_000, n_facilities)]
    )
    facilities = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=METRIC)
    tiers = service_tiers()
    t_ours, ours = timed(lambda: compute_coverage(streets, facilities, tiers=tiers), repeat)
    t_poly, poly = timed(
        lambda: compute_coverage(streets, facilities, tiers=tiers, method="polygon"), repeat
    )

    def overlay():
        shares = []
        for d in tiers["distance_m"]:
            buffers = gpd.GeoDataFrame(
                geometry=facilities.buffer(d, quad_segs=QUAD_SEGS), crs=METRIC
            )
            pieces = gpd.overlay(streets, buffers, how="intersection", keep_geom_type=True)
            covered = pieces.dissolve("street_code").area
            shares.append(
                (covered / streets.set_index("street_code").area).reindex(streets["street_code"])
            )
        return pd.concat(shares, ignore_index=True).fillna(0.0)

    t_over, theirs = timed(overlay)
    assert np.allclose(poly["covered_area_share"].to_numpy(), theirs.to_numpy(), atol=1e-6), (
        "shares differ"
    )
    gap = np.abs(ours["covered_area_share"].to_numpy() - theirs.to_numpy()).max()
    size = f"18 streets, {n_facilities:,} facilities"
    return [
        ("(c) straight-line coverage, 3 tiers", size, t_ours, t_poly,
         f"first release's polygon path; shares agree to {100 * gap:.2f} pp", 2.0),
        ("(c2) the same, vs an overlay", size, t_ours, t_over,
         "gpd.overlay of every buffer, then dissolve", None),
    ]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    rng = np.random.default_rng(2021)
    side, n_fac, n_recipe, n_points = (100, 50, 10, 1000) if args.quick else (317, 500, 50, 10_000)
    start = time.perf_counter()
    graph, rows, nodes = bench_network(side, n_fac, n_recipe, rng)
    rows += bench_distances(graph, nodes, repeat=3)
    rows += bench_straight_line(n_points, rng, repeat=1)
    print(f"gongshu-geo coverage benchmark - Python {platform.python_version()}, "
          f"shapely {shapely.__version__}, geopandas {gpd.__version__}")  # fmt: skip
    print(f"{'case':38} {'size':34} {'ours s':>8} {'other s':>9} {'other/ours':>10} "
          f"{'target':>8}  note")  # fmt: skip
    for case, size, ours, other, note, target in rows:
        goal = "" if target is None else f">={target:g}x " + ("met" if other / ours >= target
                                                               else "MISSED")  # fmt: skip
        print(f"{case:38} {size:34} {ours:8.3f} {other:9.3f} {other / ours:10.1f}x "
              f"{goal:>8}  {note}")  # fmt: skip
    print(f"total wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
