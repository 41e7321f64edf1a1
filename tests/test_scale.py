"""Point coverage at scale: the local engine against hand-worked and independent answers,
the Dask engine against the local one, the synthetic generators and the Parquet path."""

import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point, box

from gongshu_geo.analysis.network import WalkGraph
from gongshu_geo.analysis.points import (
    POINT_COVERAGE_COLUMNS,
    compute_point_coverage,
    facility_coordinates,
    nearest_facility_distance,
)
from gongshu_geo.core.errors import CRSError, InputError, MissingDependencyError
from gongshu_geo.data import synth

METRIC = "EPSG:4549"
X0, Y0 = 500_000.0, 3_350_000.0  # near Hangzhou in EPSG:4549


def two_streets():
    """Street A is x in [0, 1000] m, street B x in [1000, 2000] m, both 1000 m tall."""
    return gpd.GeoDataFrame(
        {"street_code": ["A", "B"], "name": ["Street A", "Street B"]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
        crs=METRIC,
    )


def people(xy_w):
    return gpd.GeoDataFrame(
        {"population": [w for _, _, w in xy_w]},
        geometry=[Point(X0 + x, Y0 + y) for x, y, _ in xy_w],
        crs=METRIC,
    )


def one_facility(x=100.0, y=500.0):
    return gpd.GeoDataFrame(geometry=[Point(X0 + x, Y0 + y)], crs=METRIC)


@pytest.fixture(scope="module")
def small():
    """12 streets, 20,000 clustered points, 200 facilities."""
    streets = synth.make_synthetic_region(12, seed=3)
    return (
        streets,
        synth.make_population_points(streets, 20_000, seed=3),
        synth.make_facilities(streets, 200, seed=3),
    )


@pytest.fixture(scope="module")
def small_local(small):
    streets, points, facilities = small
    return compute_point_coverage(streets, points, facilities)


def by_key(frame):
    return frame.sort_values(["distance_m", "street_code"], ignore_index=True)


# --- the local engine ------------------------------------------------------------------


def test_hand_worked_three_points():
    # Facility at (100, 500). In A: 10 people 300 m away (exactly the 5-minute tier,
    # which counts), 20 people 400 m away. In B: 30 people 1400 m away.
    # One point outside both streets is counted nowhere.
    pts = people([(400, 500, 10.0), (100, 900, 20.0), (1500, 500, 30.0), (5000, 5000, 99.0)])
    cov = compute_point_coverage(two_streets(), pts, one_facility(), facility="clinic")
    assert list(cov.columns) == POINT_COVERAGE_COLUMNS
    got = cov.set_index(["street_code", "distance_m"])
    assert got["covered_pop"].to_dict() == {
        ("A", 300.0): 10.0, ("B", 300.0): 0.0,
        ("A", 500.0): 30.0, ("B", 500.0): 0.0,
        ("A", 1000.0): 30.0, ("B", 1000.0): 0.0,
    }  # fmt: skip
    assert got.loc[("A", 300.0), "covered_pop_share"] == pytest.approx(1 / 3)
    assert got.loc[("A", 500.0), "covered_pop_share"] == 1.0
    assert (got.xs("B", level="street_code")["covered_pop_share"] == 0.0).all()
    assert got["population"].to_dict()[("B", 1000.0)] == 30.0
    assert got["n_points"].to_dict()[("A", 500.0)] == 2
    assert set(cov["mode"]) == {"points"} and set(cov["facility"]) == {"clinic"}
    assert cov["minutes"].tolist() == [5.0, 5.0, 10.0, 10.0, 15.0, 15.0]


def test_point_on_shared_edge_counts_once_in_first_street():
    pts = people([(1000, 500, 7.0)])
    cov = compute_point_coverage(two_streets(), pts, one_facility(), tiers=[2000])
    assert cov.set_index("street_code")["population"].to_dict() == {"A": 7.0, "B": 0.0}
    assert np.isnan(cov.set_index("street_code").loc["B", "covered_pop_share"])


def test_local_engine_matches_geopandas_sjoin(small, small_local):
    streets, points, facilities = small
    near = gpd.sjoin_nearest(points, facilities[["geometry"]], how="left", distance_col="d")
    near = near[~near.index.duplicated()]  # ties: one row per point
    within = gpd.sjoin(near.drop(columns="index_right"), streets, predicate="within")
    rows = []
    for d in (300.0, 500.0, 1000.0):
        g = within.assign(cov=within["population"].where(within["d"] <= d, 0.0))
        agg = g.groupby("street_code").agg(
            covered_pop=("cov", "sum"), population=("population", "sum")
        )
        rows.append(agg.assign(distance_m=d).reset_index())
    expected = by_key(pd.concat(rows))
    got = by_key(small_local)
    got = got[got["street_code"].isin(expected["street_code"])].reset_index(drop=True)
    np.testing.assert_allclose(got["covered_pop"], expected["covered_pop"])
    np.testing.assert_allclose(got["population"], expected["population"])
    assert small_local["n_points"].sum() == 3 * len(points)  # every point is in one street
    chunked = compute_point_coverage(streets, points, facilities, chunk_size=3_000)
    pd.testing.assert_frame_equal(chunked, small_local, check_exact=False, rtol=1e-12)


def test_shares_bounded_and_non_decreasing_with_distance(small_local):
    share = small_local["covered_pop_share"]
    assert share.between(0, 1).all()
    wide = small_local.pivot(index="street_code", columns="distance_m", values="covered_pop")
    assert (np.diff(wide.to_numpy(), axis=1) >= 0).all()


def test_nearest_facility_distance_against_brute_force():
    rng = np.random.default_rng(0)
    fac, pts = rng.uniform(0, 5000, (50, 2)), rng.uniform(0, 5000, (400, 2))
    brute = np.sqrt(((pts[:, None, :] - fac[None, :, :]) ** 2).sum(-1)).min(axis=1)
    tree = cKDTree(fac)
    np.testing.assert_allclose(nearest_facility_distance(pts, tree), brute)
    bounded = nearest_facility_distance(pts, tree, max_distance_m=300.0)
    np.testing.assert_allclose(bounded[brute <= 300], brute[brute <= 300])
    assert np.isinf(bounded[brute > 300]).all()
    assert np.isinf(nearest_facility_distance(pts, None)).all()


def test_line_and_polygon_facilities_by_densified_vertices():
    line = LineString([(X0, Y0 + 200), (X0 + 2000, Y0 + 200)])
    park = box(X0 + 1200, Y0 + 600, X0 + 1800, Y0 + 1000)
    fac = gpd.GeoDataFrame(geometry=[line, park], crs=METRIC)
    assert len(facility_coordinates(fac, densify_m=None)) == 2 + 5
    # 260 m above the line midway between its ends: raw vertices are ~1000 m away.
    # Inside the park: distance 0 although every vertex is >= 100 m away.
    pts = people([(500, 460, 1.0), (1500, 900, 2.0)])
    cov = compute_point_coverage(two_streets(), pts, fac, tiers=[50, 270])
    got = cov.set_index(["street_code", "distance_m"])["covered_pop"].to_dict()
    assert got == {("A", 50.0): 0.0, ("B", 50.0): 2.0, ("A", 270.0): 1.0, ("B", 270.0): 2.0}
    exact = fac.geometry.distance(Point(X0 + 500, Y0 + 460)).min()
    xy = facility_coordinates(fac)
    approx = nearest_facility_distance([[X0 + 500, Y0 + 460]], cKDTree(xy))[0]
    assert exact <= approx <= exact + 25.0 / 2


def test_walking_graph_distance_is_the_walk_within_the_band():
    # A straight way along y = 0 with nodes every 100 m; the facility at its west end.
    xs = np.arange(0, 2001, 100.0)
    graph = WalkGraph(
        node_xy=np.column_stack([X0 + xs, np.full(len(xs), Y0)]),
        u=np.arange(len(xs) - 1), v=np.arange(1, len(xs)), length_m=np.full(len(xs) - 1, 100.0),
    )  # fmt: skip
    fac = one_facility(0.0, 0.0)
    # 500 m along the way, 30 m off it: the 50 m band around the way walked reaches it
    # once the walk passes 500 - sqrt(50**2 - 30**2) = 460 m, as the maps draw it. The
    # point takes its 10 m cell's distance: the tiers stay 20 m either side of 460.
    pts = people([(500, 30, 1.0)])
    net = compute_point_coverage(two_streets(), pts, fac, tiers=[440, 480], graph=graph)
    assert net["covered_pop"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert set(net["mode"]) == {"points_network"}
    # with a 20 m band the way is too far: nobody is reached at all
    narrow = compute_point_coverage(two_streets(), pts, fac, tiers=[2000], graph=graph, band_m=20)
    assert narrow["covered_pop"].tolist() == [0.0, 0.0]
    line = compute_point_coverage(two_streets(), pts, fac, tiers=[495, 520])  # ~501 m
    assert line["covered_pop"].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_no_facilities_covers_nobody():
    empty = gpd.GeoDataFrame(geometry=[], crs=METRIC)
    cov = compute_point_coverage(two_streets(), people([(10, 10, 5.0)]), empty)
    assert cov["covered_pop"].sum() == 0.0
    assert cov.loc[cov["street_code"] == "A", "covered_pop_share"].eq(0.0).all()


def test_weight_none_counts_points():
    pts = people([(400, 500, 10.0), (100, 900, 20.0)])
    cov = compute_point_coverage(
        two_streets(), pts, one_facility(), population_field=None, tiers=[300]
    )
    assert cov["covered_pop"].tolist() == [1.0, 0.0]
    assert cov["population"].tolist() == [2.0, 0.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"engine": "spark"}, "engine must be one of local, dask; found 'spark'"),
        ({"population_field": "people"}, 'no "people" column'),
        ({"chunk_size": 0}, "chunk_size must be a positive integer"),
        ({"tiers": [300, -5]}, r"tiers \(metres\) must be positive numbers"),
        ({"densify_m": 0}, "densify_m must be a positive number"),
        ({"graph": "walk.graphml"}, "needs a walking graph.*found str"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        compute_point_coverage(two_streets(), people([(1, 1, 1.0)]), one_facility(), **kwargs)


def test_input_errors(tmp_path):
    pts = people([(1, 1, 1.0), (2, 2, -3.0)])
    with pytest.raises(InputError, match=r'row #1: "population" must be a non-negative number'):
        compute_point_coverage(two_streets(), pts, one_facility())
    with pytest.raises(CRSError, match="has no CRS"):
        no_crs = people([(1, 1, 1.0)]).set_crs(None, allow_override=True)
        compute_point_coverage(two_streets(), no_crs, one_facility())
    lines = gpd.GeoDataFrame(
        {"population": [1]}, geometry=[LineString([(0, 0), (1, 1)])], crs=METRIC
    )
    with pytest.raises(InputError, match=r"row #0: must be a Point .* found LineString"):
        compute_point_coverage(two_streets(), lines, one_facility())
    with pytest.raises(InputError, match='column "street_code" is missing'):
        compute_point_coverage(two_streets().drop(columns="street_code"), pts, one_facility())
    with pytest.raises(InputError, match="folder has no \\*.parquet file"):
        compute_point_coverage(two_streets(), tmp_path, one_facility())
    with pytest.raises(InputError, match="GeoDataFrame of points, the path of a GeoParquet"):
        compute_point_coverage(two_streets(), [(1, 1)], one_facility())


# --- synthetic inputs --------------------------------------------------------------------


def test_generators_are_deterministic():
    a, b = synth.make_synthetic_region(20, seed=7), synth.make_synthetic_region(20, seed=7)
    assert a.geometry.geom_equals_exact(b.geometry, 0).all()
    assert a["street_code"].is_unique and a["street_code"].iloc[-1] == "SYN-0020"
    other = synth.make_synthetic_region(20, seed=8)
    assert not other.geometry.geom_equals_exact(a.geometry, 0).all()
    p1, p2 = (synth.make_population_points(a, 500, seed=7) for _ in range(2))
    pd.testing.assert_frame_equal(p1.to_wkb(), p2.to_wkb())
    f1, f2 = (synth.make_facilities(a, 50, seed=7) for _ in range(2))
    pd.testing.assert_frame_equal(f1.to_wkb(), f2.to_wkb())


def test_region_tessellates_and_points_fall_inside():
    streets = synth.make_synthetic_region(30, seed=2)
    assert streets.crs.to_epsg() == 4549
    union = streets.union_all()
    assert union.area == pytest.approx(streets.area.sum(), rel=1e-9)  # no overlap
    assert union.area == pytest.approx(union.envelope.area, rel=1e-9)  # no gap
    pts = synth.make_population_points(streets, 2000, seed=2)
    assert pts.within(union.buffer(1e-6)).all()
    assert (pts["population"] >= 1).all() and len(pts) == 2000


def test_generator_argument_errors():
    with pytest.raises(InputError, match="n_streets must be an integer >= 1; found 0"):
        synth.make_synthetic_region(0)
    with pytest.raises(InputError, match="streets must be a non-empty GeoDataFrame"):
        synth.make_population_points(None, 10)


@pytest.fixture(scope="module")
def pyarrow_ok():
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (extra 'scale')")


def test_parquet_folder_is_read_chunk_by_chunk(pyarrow_ok, tmp_path, small):
    streets, _, facilities = small
    folder = synth.write_population_parquet(
        tmp_path / "pop", 9_000, streets=streets, seed=5, chunk_size=4_000
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet",
    ]  # fmt: skip
    whole = pd.concat([gpd.read_parquet(f) for f in sorted(folder.iterdir())], ignore_index=True)
    expected = compute_point_coverage(streets, whole, facilities)
    got = compute_point_coverage(streets, folder, facilities, chunk_size=1_000)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    # Rewriting replaces the folder whole.
    synth.write_population_parquet(folder, 100, streets=streets, seed=5)
    assert [p.name for p in folder.iterdir()] == ["part-00000.parquet"]


def test_parquet_in_another_crs_is_reprojected(pyarrow_ok, tmp_path):
    pts = people([(400, 500, 10.0), (1500, 500, 30.0)]).to_crs("EPSG:4326")
    pts.to_parquet(tmp_path / "p.parquet")
    cov = compute_point_coverage(two_streets(), tmp_path / "p.parquet", one_facility(), tiers=[301])
    assert cov["covered_pop"].tolist() == [10.0, 0.0]


def test_missing_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'gongshu-geo\[scale\]'"):
        compute_point_coverage(two_streets(), people([(1, 1, 1.0)]), one_facility(), engine="dask")


# --- the Dask engine ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_ok():
    pytest.importorskip("distributed", reason="dask[distributed] is not installed (extra 'scale')")


@pytest.mark.slow
@pytest.mark.parametrize("n_workers", [1, 2])
def test_dask_local_cluster_equals_local_engine(dask_ok, small, small_local, n_workers):
    streets, points, facilities = small
    got = compute_point_coverage(
        streets, points, facilities, engine="dask", n_workers=n_workers, npartitions=5
    )
    pd.testing.assert_frame_equal(got, small_local, check_exact=False, rtol=1e-12)


# dask's Parquet reader still calls reset_index(inplace=True), deprecated in pandas 3.1.
@pytest.mark.filterwarnings(
    "ignore:The inplace keyword in GeoDataFrame.reset_index:"
    "pandas.errors.Pandas4Warning:dask.dataframe.io.parquet.arrow"
)
def test_dask_threads_reads_parquet_and_walks_graph(dask_ok, pyarrow_ok, tmp_path, small):
    streets, _, facilities = small
    folder = synth.write_population_parquet(
        tmp_path / "pop", 6_000, streets=streets, chunk_size=2_000
    )
    local = compute_point_coverage(streets, folder, facilities)
    got = compute_point_coverage(streets, folder, facilities, engine="dask", scheduler="threads")
    pd.testing.assert_frame_equal(got, local, check_exact=False, rtol=1e-12)
    # One task per row group: a single file of four row groups gives the same table.
    one = tmp_path / "one.parquet"
    gpd.read_parquet(folder).to_parquet(one, row_group_size=1_500)
    got = compute_point_coverage(streets, one, facilities, engine="dask", scheduler="threads")
    pd.testing.assert_frame_equal(got, local, check_exact=False, rtol=1e-12)
    # Network distances: one node search, per-point lookups on the workers.
    x0, y0, x1, y1 = streets.total_bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 250.0), np.arange(y0, y1, 250.0))
    idx = np.arange(xs.size).reshape(xs.shape)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    graph = WalkGraph(np.column_stack([xs.ravel(), ys.ravel()]), u, v, np.full(len(u), 250.0))
    local = compute_point_coverage(streets, folder, facilities, graph=graph)
    got = compute_point_coverage(
        streets, folder, facilities, graph=graph, engine="dask", scheduler="synchronous"
    )
    pd.testing.assert_frame_equal(got, local, check_exact=False, rtol=1e-12)
    straight = compute_point_coverage(streets, folder, facilities)
    assert (local["covered_pop"] <= straight["covered_pop"] + 1e-9).all()


def test_dask_bad_scheduler(dask_ok):
    with pytest.raises(InputError, match="scheduler must be None"):
        compute_point_coverage(
            two_streets(),
            people([(1, 1, 1.0)]),
            one_facility(),
            engine="dask",
            scheduler="host:8786",
        )


def test_dask_geopandas_frame_in_both_engines(dask_ok, small, small_local):
    dask_geopandas = pytest.importorskip("dask_geopandas", reason="dask-geopandas is not installed")
    streets, points, facilities = small
    lazy = dask_geopandas.from_geopandas(points, npartitions=3)
    for engine in ("local", "dask"):
        got = compute_point_coverage(streets, lazy, facilities, engine=engine, scheduler="threads")
        pd.testing.assert_frame_equal(got, small_local, check_exact=False, rtol=1e-12)


def test_coverage_points_command_equals_the_function(tmp_path, capsys):
    from gongshu_geo.analysis.points import compute_point_coverage
    from gongshu_geo.cli import main
    from gongshu_geo.data.synth import (
        make_facilities,
        make_synthetic_region,
        write_population_parquet,
    )

    pytest.importorskip("pyarrow")
    streets = make_synthetic_region(6, seed=3)
    streets_path = tmp_path / "streets.gpkg"
    streets.to_file(streets_path)
    facilities = make_facilities(streets, 40, seed=3)
    fac_path = tmp_path / "fac.gpkg"
    facilities.to_file(fac_path)
    pop = tmp_path / "pop"
    write_population_parquet(pop, 5_000, streets=streets, seed=3, chunk_size=2_000)
    out = tmp_path / "cov.csv"
    code = main(
        [
            "-q",
            "coverage-points",
            "--population-parquet",
            str(pop),
            "--facilities",
            str(fac_path),
            "--streets",
            str(streets_path),
            "--name-field",
            "name",
            "--code-field",
            "street_code",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    got = pd.read_csv(out, encoding="utf-8-sig", dtype={"street_code": str})
    want = compute_point_coverage(streets, pop, facilities, facility="fac")
    assert np.allclose(
        got["covered_pop_share"].to_numpy(), want["covered_pop_share"].to_numpy(), equal_nan=True
    )


# --- Hangzhou's real streets: the files, the loader, tiles and engines on them -----------

#: zjProvince blob ids at 2a8855481f75c082bb172619a03bdc8f60fef5a7 (data/sources/README.md).
ZJ_BLOBS = {
    "binjiang": "d4dcda7044c81ab8d21409d5c200d626ce9fa758",
    "chunan": "4b00dbcf4b5b9d45403ac1bed1daa8270de6bbda",
    "fuyang": "c6ed0f2ea92cbd78e034a802251cfc5cb8148b85",
    "gongshu": "647e2a25e6229f9b5775f29278afadd63078054b",
    "jiande": "84a178aa0a1010dec5b19daaa322a451580275eb",
    "jianggan": "f2b91d990519e9ee104796f8b7ec33d8c7424e4e",
    "linan": "3865cb2e3c632b0b62761fecbf4651031310f84f",
    "qiantangxinqu": "0fd6ff4fb43ad4ac6900ee9b38493aa976037047",
    "shangcheng": "cfa777c821818be88a1ba18cf4f5a2826e53377f",
    "tonglu": "db54eb58bf2a20ff91871415e7a0d4d4fe0b39bc",
    "xiacheng": "8f943d1a6271ec71173e2cd49a5a78732207439c",
    "xiaoshan": "7cf15dc3884ffd5c6bdc2864db76e445ad877233",
    "xihu": "f62e8749a9be0a4a53a1e4b27e8b69cd939b9426",
    "yuhang": "6592dc8dec356ad016e3427c879238944bfaf44e",
}
THREE_DISTRICTS = ["gongshu", "xiacheng", "shangcheng"]


def test_zjprovince_files_are_the_upstream_blobs():
    import gzip
    import hashlib

    from gongshu_geo.data.io import data_path

    folder = data_path("sources", "zjprovince")
    assert set(synth.HANGZHOU_DISTRICTS) == set(ZJ_BLOBS)
    for district, blob in ZJ_BLOBS.items():
        path = folder / f"{district}.json"
        raw = (
            path.read_bytes()
            if path.exists()
            else gzip.decompress((folder / f"{district}.json.gz").read_bytes())
        )
        assert hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() == blob, district


def test_read_hangzhou_streets_every_district_repaired():
    streets = synth.read_hangzhou_streets()
    assert list(streets.columns) == ["street_code", "name", "district", "geometry"]
    assert len(streets) == 201 and streets["street_code"].is_unique
    assert streets.groupby("district").size()[["gongshu", "xiacheng", "binjiang"]].tolist() == [
        10,
        8,
        3,
    ]
    assert streets.crs.to_epsg() == 4326
    assert streets.is_valid.all() and set(streets.geom_type) <= {"Polygon", "MultiPolygon"}
    kind = streets["name"].str.extract(r"(街道|镇|乡)$")[0].fillna("other")
    assert kind.value_counts().to_dict() == {"街道": 92, "镇": 82, "乡": 22, "other": 5}
    km2 = streets.to_crs(METRIC).area.sum() / 1e6
    assert 16_500 < km2 < 17_500  # Hangzhou: 16,850 km²
    with pytest.raises(InputError, match=r"no nowhere\.json or nowhere\.json\.gz"):
        synth.read_hangzhou_streets(districts=["nowhere"])


@pytest.fixture(scope="module")
def three_districts():
    """24 real streets of three districts, a coarse lattice (250 m blocks), 60 facilities."""
    streets = synth.read_hangzhou_streets(districts=THREE_DISTRICTS).to_crs(METRIC)
    graph = synth.make_walking_lattice(streets, 2_000, seed=1)
    return streets, graph, synth.make_facilities(streets, 60, seed=1)


def test_tiled_network_grid_equals_untiled_on_real_streets(three_districts):
    import shapely

    from gongshu_geo.analysis.access import network_metres
    from gongshu_geo.analysis.grid import make_grid

    streets, graph, facilities = three_districts
    grid = make_grid(shapely.total_bounds(streets.geometry.values), cell_m=25.0)
    geoms = facilities.geometry.values
    kwargs = {"band_m": 50.0, "max_m": 1000.0, "exact_at": (300.0, 500.0, 1000.0)}
    whole = network_metres(grid, graph, geoms, tile_cells=max(grid.shape), **kwargs)
    reached = whole[np.isfinite(whole)]
    assert 0.05 < len(reached) / len(whole) < 0.5 and reached.max() <= 1000.0  # in part
    # Before edges reaching out of a tile's margin were kept, 23 cells differed at 50.
    for tile_cells in (50, 80):
        tiled = network_metres(grid, graph, geoms, tile_cells=tile_cells, **kwargs)
        assert np.array_equal(tiled, whole), tile_cells
    # Edges given as geometry are cut out by their bounds, with the same answer.
    bent = WalkGraph(graph.node_xy, graph.u, graph.v, graph.length_m, edge_geometry=graph.lines)
    assert np.array_equal(network_metres(grid, bent, geoms, tile_cells=50, **kwargs), whole)


def test_walking_lattice_is_deterministic_and_inside():
    streets = synth.make_synthetic_region(4, seed=2)
    a = synth.make_walking_lattice(streets, 3_000, seed=5)
    b = synth.make_walking_lattice(streets, 3_000, seed=5)
    assert np.array_equal(a.node_xy, b.node_xy) and np.array_equal(a.u, b.u)
    assert 2_850 < a.n_nodes < 3_150 and a.n_edges > 1.5 * a.n_nodes
    np.testing.assert_allclose(a.length_m, np.hypot(*(a.node_xy[a.u] - a.node_xy[a.v]).T))
    with pytest.raises(InputError, match=r"drop_share must be in \[0, 1\)"):
        synth.make_walking_lattice(streets, 100, drop_share=1.0)


@pytest.mark.slow
def test_dask_cluster_equals_local_engine_in_network_mode_on_real_streets(dask_ok, three_districts):
    streets, graph, facilities = three_districts
    points = synth.make_population_points(streets, 8_000, seed=4)
    kwargs = {"graph": graph, "cell_m": 25.0}
    local = compute_point_coverage(streets, points, facilities, **kwargs)
    assert set(local["mode"]) == {"points_network"}
    covered = local.loc[local["distance_m"] == 1000.0, "covered_pop"].sum()
    assert 0 < covered < points["population"].sum()  # some reached, not all
    got = compute_point_coverage(
        streets, points, facilities, engine="dask", n_workers=2, npartitions=6, **kwargs
    )
    pd.testing.assert_frame_equal(got, local, check_exact=False, rtol=1e-12)
    straight = compute_point_coverage(streets, points, facilities)
    assert (local["covered_pop"] <= straight["covered_pop"] + 1e-9).all()


def test_tiles_agree_when_a_facility_nearest_way_lies_beyond_the_margin():
    # facilities are met with the network once, on the whole graph, before the tiles
    from shapely import Point

    from gongshu_geo.analysis.access import network_metres
    from gongshu_geo.analysis.grid import Grid

    grid = Grid(X0, Y0 + 2000, 25.0, 80, 80)  # 2 x 2 km; tiles of 40 cells are 1 km
    xa = np.arange(0, 2001, 100.0)
    way_a = np.column_stack([X0 + xa, np.full(len(xa), Y0 + 1990)])  # along the top tiles
    way_b = np.array([[X0 + 400, Y0 + 3110], [X0 + 600, Y0 + 3110]])  # beyond their 1075 m margin
    xy = np.r_[way_a, way_b]
    u = np.r_[np.arange(len(xa) - 1), len(xa)]
    v = np.r_[np.arange(1, len(xa)), len(xa) + 1]
    graph = WalkGraph(xy, u, v, np.hypot(*(xy[u] - xy[v]).T))
    facility = np.array([Point(X0 + 500, Y0 + 2600)])  # 510 m from way B, 610 m from way A
    kwargs = {"band_m": 50.0, "max_m": 1000.0, "exact_at": (300.0, 500.0, 1000.0)}
    whole = network_metres(grid, graph, facility, tile_cells=80, **kwargs)
    assert not np.isfinite(whole).any()  # it joins way B, which leads nowhere
    tiled = network_metres(grid, graph, facility, tile_cells=40, **kwargs)
    assert np.array_equal(tiled, whole)  # it joins way B in every tile, as in one


def test_weight_keyword_still_works_with_a_deprecation_warning():
    # weight= was renamed population_field= in 0.2: same answer, and a warning naming both
    pts = people([(1, 1, 4.0)])
    new = compute_point_coverage(two_streets(), pts, one_facility(), population_field=None)
    with pytest.warns(DeprecationWarning, match=r"weight=\.\.\.\) is deprecated.*population_field"):
        old = compute_point_coverage(two_streets(), pts, one_facility(), weight=None)
    assert old["covered_pop"].tolist() == new["covered_pop"].tolist()
    with pytest.raises(TypeError, match="not both weight= and population_field="):
        compute_point_coverage(
            two_streets(), pts, one_facility(), weight=None, population_field=None
        )


def test_old_argument_order_is_refused():
    # (points, facilities, streets) was the order before 0.2
    with pytest.raises(InputError, match=r"population looks like streets.*call compute_point"):
        compute_point_coverage(people([(1, 1, 1.0)]), two_streets(), one_facility())
