"""Site selection: the solvers against brute force, hand-worked cases, the packaged data."""

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
import test_browser
from shapely.geometry import LineString, Point, box
from test_browser import errors_other_than_tiles, layer_labels, open_map

import gongshu_geo as gg
from gongshu_geo.analysis import mclp as _mclp
from gongshu_geo.analysis import siting
from gongshu_geo.core.errors import InputError
from gongshu_geo.maps.web import render_map

X0, Y0 = 500_000.0, 3_350_000.0  # EPSG:4549 metres, near Gongshu
METRIC = "EPSG:4549"


def street(width, height, population):
    return gpd.GeoDataFrame(
        {"street_code": ["S1"], "name": ["测试街道"], "population": [population]},
        geometry=[box(X0, Y0, X0 + width, Y0 + height)],
        crs=METRIC,
    )


def sites(**where):
    """Candidate points from id=(x, y) relative to the street's corner."""
    return gpd.GeoDataFrame(
        {"id": list(where), "name": [f"site {k}" for k in where]},
        geometry=[Point(X0 + x, Y0 + y) for x, y in where.values()],
        crs=METRIC,
    )


driver = test_browser.driver  # the browser tests' headless Chromium (a module fixture)

NOTHING = gpd.GeoDataFrame({"name": []}, geometry=[], crs=METRIC)


def lattice(width, height, cell_m):
    """Cell centres worked out independently of the package."""
    xs = np.arange(cell_m / 2, width, cell_m)
    ys = np.arange(cell_m / 2, height, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def reached(centres, x, y, radius):
    return set(np.flatnonzero(np.hypot(centres[:, 0] - x, centres[:, 1] - y) <= radius))


def best_by_brute_force(cover, per_cell, n, *, done=frozenset()):
    """Every combination of n candidates: (best value, the id-ordered first best combo)."""
    best, best_combo = -1.0, None
    for combo in itertools.combinations(sorted(cover), n):
        value = len(set().union(*(cover[c] for c in combo)) - done) * per_cell
        if value > best + 1e-9:
            best, best_combo = value, combo
    return best, best_combo


# ---------------------------------------------------------------- the solvers alone


def brute_exact(matrix, w, n):
    """The exact method's rule: the best value; among sets of at most n rows reaching it,
    the lowest sum of (row + 1); then rows adding nothing, lowest first."""
    rows = [set(matrix[i].indices) for i in range(matrix.shape[0])]

    def value(combo):
        return int(sum(w[j] for j in set().union(*(rows[i] for i in combo))))

    best = max(value(c) for c in itertools.combinations(range(len(rows)), n))
    optimal = [
        c
        for k in range(n + 1)
        for c in itertools.combinations(range(len(rows)), k)
        if value(c) == best
    ]
    cost = {c: sum(i + 1 for i in c) for c in optimal}
    low = min(cost.values())
    winners = [c for c in optimal if cost[c] == low]
    return best, winners


def naive_greedy(matrix, w, n):
    """Greedy without lazy evaluation: recompute every gain, ties to the lowest row."""
    rows = [set(matrix[i].indices) for i in range(matrix.shape[0])]
    covered, order = set(), []
    for _ in range(n):
        gains = [
            -1 if i in order else int(sum(w[j] for j in rows[i] - covered))
            for i in range(len(rows))
        ]
        pick = int(np.argmax(gains))  # first maximum: the lowest row
        order.append(pick)
        covered |= rows[pick]
    return order


def random_problem(seed, m=7, k=10):
    rng = np.random.default_rng(seed)
    dense = rng.random((m, k)) < 0.3
    weights = rng.integers(0, 4, size=k)  # small integers: many ties
    return sp.csr_matrix(dense), weights


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n", [1, 2, 3])
def test_exact_matches_brute_force_on_random_problems(seed, n):
    matrix, w = random_problem(seed)
    best, winners = brute_exact(matrix, w, n)
    solution = _mclp.solve_exact(matrix, w, n)
    assert solution.method == "exact"
    assert solution.objective == best == solution.upper_bound
    assert len(solution.chosen) == n == len(set(solution.chosen))
    if len(winners) == 1:  # a unique lowest-cost optimum: the rule names it
        core = set(winners[0])
        assert core <= set(solution.chosen)
        rest = [r for r in range(matrix.shape[0]) if r not in core][: n - len(core)]
        assert set(solution.chosen) == core | set(rest)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n", [1, 2, 3])
def test_lazy_greedy_follows_the_naive_greedy_and_its_bounds(seed, n):
    matrix, w = random_problem(seed)
    solution = _mclp.solve_greedy(matrix, w, n)
    assert solution.chosen == naive_greedy(matrix, w, n)
    best, _ = brute_exact(matrix, w, n)
    assert solution.objective >= (1 - 1 / math.e) * best - 1e-9
    assert solution.objective <= best <= solution.upper_bound
    assert solution.guarantee == pytest.approx(1 - 1 / math.e)


def test_gains_add_up_to_the_union_in_the_order_chosen():
    matrix, w = random_problem(3, m=9, k=15)
    for solution in (_mclp.solve_exact(matrix, w, 4), _mclp.solve_greedy(matrix, w, 4)):
        covered = set()
        for row, gain in zip(solution.chosen, solution.gains, strict=True):
            new = set(matrix[row].indices) - covered
            assert gain == sum(w[j] for j in new)
            covered |= new


def test_auto_uses_exact_on_small_problems_and_greedy_beyond(monkeypatch):
    matrix, w = random_problem(5)
    assert _mclp.solve(matrix, w, 2).method == "exact"
    monkeypatch.setattr(_mclp, "AUTO_EXACT_MAX_PAIRS", 0)
    assert _mclp.solve(matrix, w, 2).method == "greedy"
    with pytest.raises(InputError, match="method must be one of auto, exact, greedy; found 'x'"):
        _mclp.solve(matrix, w, 2, method="x")


# ---------------------------------------------------------------- hand-worked geometry


def test_three_candidates_in_a_square_street():
    # 300 m square street, 900 people, 100 m cells: 9 cells of 100 people.
    # Reach 120 m (2 min at 60 m/min): a site at a cell centre reaches its cell and the
    # four next to it (100 m), not the corners (141 m).
    # A (left middle): left column + centre = 4 cells; B (right middle): 4; C (centre): 5.
    # n=1: C, 500 people. n=2: A+B, A+C and B+C all reach 7 cells (700 people); the exact
    # method takes the lowest ids, A+B; greedy takes C, then A (A and B both add 200).
    streets = street(300, 300, 900)
    cands = sites(A=(50, 150), B=(250, 150), C=(150, 150))
    opts = dict(existing=NOTHING, minutes=2, speed_m_per_min=60, cell_m=100)
    one = siting.choose_sites(streets, cands, n=1, method="exact", **opts)
    assert one.chosen["id"].tolist() == ["C"]
    assert one.chosen["new_covered_pop"].tolist() == pytest.approx([500])
    alone = one.candidates.set_index("id")["alone_new_covered_pop"]
    assert alone.to_dict() == pytest.approx({"A": 400, "B": 400, "C": 500})
    exact = siting.choose_sites(streets, cands, n=2, method="exact", **opts)
    assert exact.chosen["id"].tolist() == ["A", "B"]
    assert exact.chosen["new_covered_pop"].tolist() == pytest.approx([400, 300])
    assert exact.chosen["cum_new_covered_pop"].tolist() == pytest.approx([400, 700])
    assert exact.chosen["share"].tolist() == pytest.approx([400 / 900, 300 / 900])
    assert exact.chosen["covered_share"].tolist() == pytest.approx([400 / 900, 700 / 900])
    assert exact.objective == pytest.approx(700) == exact.upper_bound
    greedy = siting.choose_sites(streets, cands, n=2, method="greedy", **opts)
    assert greedy.chosen["id"].tolist() == ["C", "A"]
    assert greedy.objective == pytest.approx(700)
    # brute force over every pair, on cells worked out here
    centres = lattice(300, 300, 100)
    cover = {k: reached(centres, x, y, 120) for k, (x, y) in
             {"A": (50, 150), "B": (250, 150), "C": (150, 150)}.items()}  # fmt: skip
    assert best_by_brute_force(cover, 100, 2) == (pytest.approx(700), ("A", "B"))
    assert best_by_brute_force(cover, 100, 1) == (pytest.approx(500), ("C",))


def strip_case():
    # A 2000 m x 10 m strip, 2000 people, 10 m cells: 200 cells of 10 people, centres at
    # x = 5, 15, ..., 1995. Reach 500 m. A at x=450 reaches x 5..945 (95 cells, 950 people),
    # B at 1550 reaches 1055..1995 (950), C at 1000 reaches 505..1495 (100 cells, 1000).
    return street(2000, 10, 2000), sites(A=(450, 5), B=(1550, 5), C=(1000, 5))


def test_greedy_is_not_optimal_on_the_strip_and_says_how_far_it_may_be():
    streets, cands = strip_case()
    opts = dict(existing=NOTHING, minutes=10, cell_m=10, n=2)  # 10 min = 500 m
    exact = siting.choose_sites(streets, cands, method="exact", **opts)
    greedy = siting.choose_sites(streets, cands, method="greedy", **opts)
    assert exact.method == "exact" and exact.guarantee is None
    assert exact.chosen["id"].tolist() == ["A", "B"]
    assert exact.objective == pytest.approx(1900)
    # greedy: C (1000), then A or B both add 500 (x 5..495 or 1505..1995): A by id
    assert greedy.method == "greedy"
    assert greedy.chosen["id"].tolist() == ["C", "A"]
    assert greedy.chosen["new_covered_pop"].tolist() == pytest.approx([1000, 500])
    assert greedy.objective == pytest.approx(1500)
    assert greedy.guarantee == pytest.approx(1 - 1 / math.e)
    assert greedy.objective >= greedy.guarantee * exact.objective
    # Minoux's bound, tightest before the first pick: 1000 + 950 = 1950 >= 1900
    assert greedy.upper_bound == pytest.approx(1950)
    assert "at least 63.2% of the optimum" in greedy.summary()
    centres = lattice(2000, 10, 10)
    cover = {k: reached(centres, x, 5, 500) for k, x in {"A": 450, "B": 1550, "C": 1000}.items()}
    assert best_by_brute_force(cover, 10, 2) == (pytest.approx(1900), ("A", "B"))


def test_existing_facilities_are_not_counted_again():
    # an existing facility at x=0 reaches x 5..495: A then adds only 505..945 (450 people)
    streets, cands = strip_case()
    existing = gpd.GeoDataFrame(geometry=[Point(X0, Y0 + 5)], crs=METRIC)
    result = siting.choose_sites(
        streets, cands, existing=existing, minutes=10, cell_m=10, n=2, method="exact"
    )
    assert result.already_covered_pop == pytest.approx(500)
    alone = result.candidates.set_index("id")["alone_new_covered_pop"]
    assert alone.to_dict() == pytest.approx({"A": 450, "B": 950, "C": 1000})
    # pairs: A+B 450 + 950 = 1400; A+C 1000 + 0 (C reaches 505..945 too);
    # B+C 1000 + 500 (B adds 1505..1995) = 1500
    assert sorted(result.chosen["id"]) == ["B", "C"]
    assert result.objective == pytest.approx(1500)
    centres = lattice(2000, 10, 10)
    done = reached(centres, 0, 5, 500)
    cover = {k: reached(centres, x, 5, 500) for k, x in {"A": 450, "B": 1550, "C": 1000}.items()}
    assert best_by_brute_force(cover, 10, 2, done=done) == (pytest.approx(1500), ("B", "C"))


def test_a_polygon_candidate_serves_from_its_edge():
    # a 200 m block over x 900..1100 reaches centres 405..1595: 120 cells, 1200 people
    streets = street(2000, 10, 2000)
    block = gpd.GeoDataFrame(
        {"id": ["P"], "name": ["block"]},
        geometry=[box(X0 + 900, Y0, X0 + 1100, Y0 + 10)],
        crs=METRIC,
    )
    result = siting.choose_sites(streets, block, existing=NOTHING, minutes=10, cell_m=10, n=1)
    assert result.objective == pytest.approx(1200)


def test_given_plan_counts_planned_facilities_as_built():
    streets, cands = strip_case()
    projects = gpd.GeoDataFrame(
        {"id": ["E", "F"], "name": ["old park", "new park"], "category": "park",
         "status": ["existing", "planned"]},
        geometry=[Point(X0, Y0 + 5), Point(X0 + 2000, Y0 + 5)], crs=METRIC,
    ).to_crs("EPSG:4326")  # fmt: skip
    opts = dict(projects=projects, layer="park", minutes=10, cell_m=10, n=1, method="exact")
    now = siting.choose_sites(streets, cands, given="existing", **opts)
    after = siting.choose_sites(streets, cands, given="plan", **opts)
    assert (now.given, after.given) == ("existing", "plan")
    assert now.already_covered_pop == pytest.approx(500)  # x 5..495
    assert after.already_covered_pop == pytest.approx(1000)  # and 1505..1995
    assert now.candidates.set_index("id")["alone_new_covered_pop"]["B"] == pytest.approx(950)
    assert after.candidates.set_index("id")["alone_new_covered_pop"]["B"] == pytest.approx(450)


def test_ties_go_to_the_lowest_id_whatever_the_input_order():
    # four corners of a square: every site alone reaches the same people
    streets = street(400, 400, 1600)
    corners = sites(D=(50, 50), B=(350, 350), C=(50, 350), A=(350, 50))
    opts = dict(existing=NOTHING, minutes=2, cell_m=100, n=1)
    for method in ("exact", "greedy"):
        chosen = siting.choose_sites(streets, corners, method=method, **opts).chosen
        assert chosen["id"].tolist() == ["A"]
    numbered = corners.assign(id=[10, 2, 33, 4])
    chosen = siting.choose_sites(streets, numbered, method="greedy", **opts).chosen
    assert chosen["id"].tolist() == [2]  # numbers in numeric order, not as text


def ways(xs):
    """A way through the points x (at y = 5), one edge between each pair of neighbours."""
    pairs = zip(xs[:-1], xs[1:], strict=True)
    lines = [LineString([(X0 + a, Y0 + 5), (X0 + b, Y0 + 5)]) for a, b in pairs]
    return gpd.GeoDataFrame(geometry=lines, crs=METRIC)


def test_network_mode_walks_the_ways():
    # one way along the strip with a node at every cell centre: walking is the straight line
    streets, cands = strip_case()
    xs = np.arange(5.0, 2000.0, 10.0)
    graph = gg.graph_from_lines(ways(xs))
    opts = dict(existing=NOTHING, minutes=10, cell_m=10, n=1, mode="network")
    result = siting.choose_sites(streets, cands, graph=graph, **opts)
    alone = result.candidates.set_index("id")["alone_new_covered_pop"]
    assert alone.to_dict() == pytest.approx({"A": 950, "B": 950, "C": 1000})
    # cut the way between x=995 and 1005: C at x=994 walks back to 495 (51 cells), and
    # the cells beyond the cut snap to nodes it cannot reach
    graph = gg.graph_from_lines(pd.concat([ways(xs[xs < 1000]), ways(xs[xs > 1000])]))
    result = siting.choose_sites(streets, sites(C=(994, 5)), graph=graph, **opts)
    assert result.objective == pytest.approx(510)
    assert siting.choose_sites(streets, sites(C=(994, 5)), **{**opts, "mode": "distance"}
                               ).objective == pytest.approx(1000)  # fmt: skip
    with pytest.raises(InputError, match="mode='network' needs a walking graph"):
        siting.choose_sites(streets, cands, **opts)


# ---------------------------------------------------------------- candidates and errors


def test_candidate_problems_are_listed_with_feature_field_and_what_was_found(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["a", "a", None], "name": ["x", "y", "z"]},
        geometry=[Point(120.15, 30.32), LineString([(120.1, 30.3), (120.2, 30.3)]),
                  Point(120.15, 30.31)],
        crs="EPSG:4326",
    )  # fmt: skip
    path = tmp_path / "sites.geojson"
    frame.to_file(path)
    with pytest.raises(InputError) as err:
        siting.read_candidates(path)
    text = str(err.value)
    assert f"3 problems in {path}" in text
    assert 'feature "a" (#1): duplicate "id" \'a\', first used by feature #0' in text
    assert 'feature "a" (#1): geometry must be a Point or Polygon; found LineString' in text
    assert 'feature #2: "id" must be a non-empty id; found nothing' in text
    with pytest.raises(InputError, match='column "code" not found; it has id, name, geometry'):
        siting.read_candidates(path, id_field="code")
    with pytest.raises(InputError, match="the candidate layer has no features"):
        siting.check_candidates(frame.iloc[:0], source="empty.gpkg")


def test_candidates_from_a_csv_with_lon_lat(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("id,name,lon,lat\n1,北,120.15,30.33\n2,南,120.15,30.30\n", encoding="utf-8")
    frame = siting.read_candidates(path)
    assert frame["id"].tolist() == ["1", "2"] and frame["name"].tolist() == ["北", "南"]
    assert frame.crs.to_epsg() == 4326
    path.write_text("id,name,lon\n1,北,120.15\n", encoding="utf-8")
    with pytest.raises(InputError, match='column "lat" not found'):
        siting.read_candidates(path)


def test_bad_arguments_say_what_was_expected():
    streets, cands = strip_case()
    with pytest.raises(InputError, match="n must be a positive number of sites; found 0"):
        siting.choose_sites(streets, cands, existing=NOTHING, n=0)
    with pytest.raises(InputError, match="given must be one of existing, plan; found 'all'"):
        siting.choose_sites(streets, cands, existing=NOTHING, given="all")
    with pytest.raises(InputError, match="cell_m must be a positive number of metres"):
        siting.choose_sites(streets, cands, existing=NOTHING, cell_m=-5)
    with pytest.raises(InputError, match='streets need a "population" column'):
        siting.choose_sites(streets.drop(columns="population"), cands, existing=NOTHING)
    with pytest.raises(InputError, match="nobody lives in the streets"):
        siting.choose_sites(streets.assign(population=0), cands, existing=NOTHING)
    with pytest.raises(InputError, match="unknown facility layer 'parks'"):
        siting.choose_sites(streets, cands, layer="parks", projects=gg.read_projects())
    with pytest.raises(InputError, match="unknown category 'parks'"):
        siting.default_candidates(gg.read_projects(), categories=["parks"])


def test_a_population_layer_replaces_the_even_spread():
    # all 2000 people live at x=1995: only B (x 1055..1995) reaches them
    streets, cands = strip_case()
    people = gpd.GeoDataFrame({"pop": [2000]}, geometry=[Point(X0 + 1995, Y0 + 5)], crs=METRIC)
    result = siting.choose_sites(
        streets, cands, existing=NOTHING, minutes=10, cell_m=10, n=1,
        population=people, population_field="pop",
    )  # fmt: skip
    assert result.chosen["id"].tolist() == ["B"]
    assert result.objective == pytest.approx(2000) == result.population


def test_population_polygons_are_apportioned_by_area_inside_the_streets():
    # 2000 people on x 1000..3000: half the polygon lies beyond the strip, so 1000 people
    # live on x 1000..2000, 10 per cell. B reaches 1055..1995 (95 cells), C 1005..1495 (50).
    streets, cands = strip_case()
    people = gpd.GeoDataFrame(
        {"pop": [2000]}, geometry=[box(X0 + 1000, Y0, X0 + 3000, Y0 + 10)], crs=METRIC
    )
    result = siting.choose_sites(
        streets, cands, existing=NOTHING, minutes=10, cell_m=10, n=1,
        population=people, population_field="pop",
    )  # fmt: skip
    assert result.population == pytest.approx(1000)
    alone = result.candidates.set_index("id")["alone_new_covered_pop"]
    assert alone.to_dict() == pytest.approx({"A": 0, "B": 950, "C": 500})


def test_the_sites_map_is_the_same_every_time_and_shifts_for_amap():
    streets, cands = strip_case()
    result = siting.choose_sites(streets, cands, existing=NOTHING, minutes=10, cell_m=10, n=2)
    first = render_map(gg.make_sites_map(streets, result, basemap="none"))
    again = render_map(gg.make_sites_map(streets, result, basemap="none"))
    assert first == again
    assert "1. site A: +950 人" in first and "2. site B: +950 人" in first
    amap = render_map(gg.make_sites_map(streets, result, basemap="amap"))
    lon = float(gg.to_crs_named(result.chosen.iloc[[0]], "GCJ-02").geometry.x.iloc[0])
    assert f"{lon:.6f}"[:9] in amap and f"{lon:.6f}"[:9] not in first


# ---------------------------------------------------------------- the packaged data


@pytest.fixture(scope="module")
def packaged():
    return gg.read_streets(), gg.read_projects()


@pytest.fixture(scope="module")
def best_pairs(packaged):
    """Every pair of default candidates for parks at 10 minutes, measured independently:
    the distance from each candidate to each populated cell centre, existing parks first."""
    streets, projects = packaged
    cells = siting.population_cells(streets, cell_m=siting.DEFAULT_CELL_M)
    points = shapely.points(cells.xy)
    cands = siting.default_candidates(projects).to_crs(METRIC)
    parks = projects[(projects["category"] == "park") & (projects["status"] == "existing")]
    done = np.zeros(len(points), dtype=bool)
    for geom in parks.to_crs(METRIC).geometry:
        done |= shapely.distance(geom, points) <= 500.0
    people = np.where(done, 0.0, cells.pop)
    reach = {
        fid: np.flatnonzero(shapely.distance(geom, points) <= 500.0)
        for fid, geom in zip(cands["id"], cands.geometry, strict=True)
    }
    values = {
        pair: people[np.union1d(reach[pair[0]], reach[pair[1]])].sum()
        for pair in itertools.combinations(sorted(reach), 2)
    }
    best = max(values.values())
    winners = [pair for pair, v in values.items() if v >= best - 1e-6]
    assert len(winners) == 1
    return winners[0], best, parks


def test_packaged_parks_best_pair_equals_enumeration_of_every_pair(packaged, best_pairs):
    streets, _ = packaged
    winner, best, parks = best_pairs
    result = siting.choose_sites(streets, layer="park", minutes=10, n=2)
    assert tuple(sorted(result.chosen["id"])) == winner
    assert result.objective == pytest.approx(best, rel=1e-6)
    assert result.method == "exact"
    greedy = siting.choose_sites(streets, layer="park", minutes=10, n=2, method="greedy")
    assert greedy.objective <= result.objective + 1e-6 <= greedy.upper_bound + 2e-6
    # and the grid agrees with the polygon overlay of coverage.py on who is already reached
    cov = gg.compute_coverage(streets, parks, tiers=[500.0])
    assert result.already_covered_pop == pytest.approx(cov["covered_pop"].sum(), rel=0.01)


# ---------------------------------------------------------------- the command


def test_site_command_writes_the_best_pair(best_pairs, tmp_path, capsys):
    import pandas as pd
    import pyogrio

    from gongshu_geo.cli import main

    winner, best, _ = best_pairs
    out = tmp_path / "out"
    args = ["site", "--layer", "park", "--minutes", "10", "--n", "2", "--out", str(out)]
    assert main(["-q", *args]) == 0
    assert "method exact" in capsys.readouterr().out
    table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert tuple(sorted(table["id"])) == winner
    assert table["rank"].tolist() == [1, 2]
    assert table["cum_new_covered_pop"].iloc[-1] == pytest.approx(best, abs=0.1)
    assert (table["method"] == "exact").all() and (table["distance_m"] == 500).all()
    every = pd.read_csv(out / "candidates.csv", encoding="utf-8-sig")
    n_blocks = int((gg.read_projects()["category"] == "development_block").sum())
    assert len(every) == n_blocks
    assert sorted(every["alone_rank"]) == list(range(1, n_blocks + 1))
    assert every["chosen_rank"].notna().sum() == 2
    layers = dict(pyogrio.list_layers(out / "sites.gpkg"))
    assert set(layers) == {"sites", "candidates", "service_areas", "new_coverage", "existing"}
    sites_back = pyogrio.read_dataframe(out / "sites.gpkg", layer="sites")
    assert sites_back.crs.to_epsg() == 4326 and len(sites_back) == 2
    new = pyogrio.read_dataframe(out / "sites.gpkg", layer="new_coverage")
    assert new["new_covered_pop"].sum() == pytest.approx(best, rel=1e-6)
    html = (out / "sites.html").read_text(encoding="utf-8")
    assert "Where to build next" in html and "https://unpkg" not in html
    assert not list(out.glob(".*tmp*"))  # nothing half-written left behind


def test_site_command_with_own_candidates_after_the_plan(tmp_path, capsys):
    import pandas as pd

    from gongshu_geo.cli import main

    # two sites: one on 城北体育公园 (an existing park), one on the 运河亚运公园 site
    # (planned): after the plan both add less than before it, the planned one next to nothing
    projects = gg.read_projects().set_index("id")
    where = {k: projects.loc[k].geometry.representative_point() for k in
             ("P-PARK-011", "P-PARK-001")}  # fmt: skip
    path = tmp_path / "mine.csv"
    path.write_text(
        "编号,name,lon,lat\n" + "".join(f"{k},{k},{p.x},{p.y}\n" for k, p in where.items()),
        encoding="utf-8",
    )
    tables = {}
    for given in ("existing", "plan"):
        out = tmp_path / given
        args = ["-q", "site", "--candidates", str(path), "--id-field", "编号", "--n", "1"]
        assert main([*args, "--given", given, "--out", str(out)]) == 0
        tables[given] = pd.read_csv(out / "candidates.csv", encoding="utf-8-sig").set_index("id")
    capsys.readouterr()
    before, after = (tables[g]["alone_new_covered_pop"] for g in ("existing", "plan"))
    assert before["P-PARK-011"] == 0  # inside an existing park: nobody new
    assert before["P-PARK-001"] > 1000 and after["P-PARK-001"] == 0
    assert (tables["plan"]["given"] == "plan").all()


@pytest.mark.slow
def test_site_command_on_a_walking_lattice_never_reaches_more_than_the_crow_flies(tmp_path, capsys):
    import pandas as pd

    from gongshu_geo.cli import main

    # a 250 m lattice of ways over the district, as a line layer. Walking is never shorter
    # than the straight line (snap + walk from the node >= the straight line, by the
    # triangle inequality), so no candidate reaches more people on foot than by distance.
    minx, miny, maxx, maxy = gg.read_streets().to_crs(METRIC).total_bounds
    xs, ys = np.arange(minx, maxx + 250, 250.0), np.arange(miny, maxy + 250, 250.0)
    lines = [LineString([(x, y), (x + 250, y)]) for x in xs[:-1] for y in ys]
    lines += [LineString([(x, y), (x, y + 250)]) for x in xs for y in ys[:-1]]
    gpd.GeoDataFrame(geometry=lines, crs=METRIC).to_file(tmp_path / "ways.gpkg")
    args = ["-q", "site", "--n", "2", "--mode", "network", "--out", str(tmp_path / "out")]
    assert main([*args, "--graph", str(tmp_path / "ways.gpkg")]) == 0
    assert "(10 min, 500 m, network)" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "out" / "sites.csv", encoding="utf-8-sig")
    assert (table["mode"] == "network").all() and len(table) == 2
    # with nothing built, what a candidate adds alone is all it reaches
    streets, graph = gg.read_streets(), gg.graph_from_lines(gg.read_layer(tmp_path / "ways.gpkg"))
    opts = dict(existing=NOTHING, n=1, method="greedy")
    walk = siting.choose_sites(streets, mode="network", graph=graph, **opts).candidates
    crow = siting.choose_sites(streets, **opts).candidates
    walk, crow = (f.set_index("id")["alone_new_covered_pop"] for f in (walk, crow))
    assert (walk <= crow + 1e-6).all()
    assert (walk > 0).sum() >= 20 and walk.sum() < 0.9 * crow.sum()


def test_site_command_reports_bad_candidates_without_a_traceback(tmp_path, capsys):
    from gongshu_geo.cli import main

    path = tmp_path / "mine.csv"
    path.write_text("id,name,lon,lat\nA,x,120.15,30.32\nA,y,120.14,30.31\n", encoding="utf-8")
    rc = main(["-q", "site", "--candidates", str(path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1
    assert f'error: {path}: feature "A" (#1): duplicate "id" \'A\'' in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
    rc = main(["-q", "site", "--mode", "network", "--out", str(tmp_path / "o")])
    assert rc == 1 and "--mode network needs --graph" in capsys.readouterr().err


@pytest.mark.system
@pytest.mark.slow
def test_sites_map_renders_offline_in_chromium(packaged, driver, tmp_path):
    streets, _ = packaged
    result = siting.choose_sites(streets, layer="park", minutes=10, n=3)
    paths = gg.write_sites(streets, result, tmp_path)
    html = next(p for p in paths if p.name == "sites.html")
    # interactive paths: 18 streets, the existing parks, 3 newly reached areas, 3 chosen
    # sites, 5 runners-up (the outline and the service areas are drawn but not interactive)
    projects = gg.read_projects()
    n_existing = int(((projects["category"] == "park") & (projects["status"] == "existing")).sum())
    expected = 18 + n_existing + 3 + 3 + 5
    log = open_map(driver, html, expected_paths=expected)
    assert errors_other_than_tiles(log, ("tile.openstreetmap.org",)) == []
    count = driver.execute_script(
        "return document.querySelectorAll('path.leaflet-interactive').length"
    )
    assert count == expected
    labels = layer_labels(driver)
    assert "选址 Chosen sites (3)" in labels and "备选 Runners-up (5)" in labels
    legend = driver.execute_script("return document.querySelector('.gs-legend').textContent")
    for row in result.chosen.itertuples():
        assert f"{row.rank}. {row.name}: +{row.new_covered_pop:,.0f}" in legend
    assert driver.execute_script("return document.querySelectorAll('.gs-rank').length") == 3
    assert driver.save_screenshot(str(tmp_path / "sites.png"))
