"""``tiers`` means the same in every public function: a tier table, or metres.

Every public function with a ``tiers`` argument goes through
:func:`gongshu_geo.analysis.tiers.resolve_tiers`; these tests hold them all to the same
accepted inputs (with the distances worked out by hand) and the same refusals,
word for word.
"""

import inspect
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _fixtures import projects, streets
from shapely.geometry import LineString

import gongshu_geo as gg
from gongshu_geo import InputError

W, S, E, N = 120.10, 30.28, 120.19, 30.34


@pytest.fixture(scope="module")
def world():
    s, p = streets(), projects()
    parks = gg.select_facilities(p, "park")
    area = gg.make_study_area(s, cell_m=50)
    surface = gg.compute_distance_surface(area, parks, exact_at=[300, 400, 500])
    lines = gpd.GeoSeries(
        [LineString([(W, 30.31), (E, 30.31)]), LineString([(120.15, S), (120.15, N)])], crs=4326
    )
    people = gpd.GeoDataFrame(
        {"population": [10.0]}, geometry=gpd.points_from_xy([120.15], [30.31]), crs=4326
    )
    return {"streets": s, "projects": p, "parks": parks, "surface": surface,
            "graph": gg.graph_from_lines(lines), "people": people}  # fmt: skip


#: public function -> a call with ``tiers`` and the tiers' distances read back from its result
CALLS = {
    "resolve_tiers": lambda w, t: gg.resolve_tiers(t),
    "compute_service_areas": lambda w, t: gg.compute_service_areas(w["parks"], tiers=t),
    "compute_coverage": lambda w, t: gg.compute_coverage(w["streets"], w["parks"], tiers=t),
    "compare_scenarios": lambda w, t: gg.compare_scenarios(
        w["streets"], w["projects"], "park", tiers=t
    ),
    "compute_surface_coverage": lambda w, t: gg.compute_surface_coverage(
        w["surface"], t, facility="park"
    ),
    "vectorize_surface": lambda w, t: gg.vectorize_surface(w["surface"], t),
    "aggregate_to_h3": lambda w, t: gg.aggregate_to_h3(w["surface"], tiers=t),
    "compute_point_coverage": lambda w, t: gg.compute_point_coverage(
        w["streets"], w["people"], w["parks"], tiers=t
    ),
    "compute_network_service_areas": lambda w, t: gg.compute_network_service_areas(
        w["graph"], w["parks"], tiers=t
    ),
}


def _distances(result) -> list[float]:
    if "distance_m" in result.columns:
        return sorted(set(result["distance_m"].astype(float)))
    found = (re.fullmatch(r"pop_share_(\d+)m", c) for c in result.columns)
    return sorted(float(m.group(1)) for m in found if m)  # aggregate_to_h3: one column per tier


def test_every_public_function_with_tiers_is_covered():
    # a new public function with a tiers argument must join the tests below
    with_tiers = {
        n for n in gg.__all__
        if inspect.isfunction(getattr(gg, n))
        and "tiers" in inspect.signature(getattr(gg, n)).parameters
    }  # fmt: skip
    assert with_tiers == set(CALLS) | {"build"}


ACCEPTED = [
    ([500, 300], [300.0, 500.0]),  # metres, in any order
    ((300, 500), [300.0, 500.0]),
    (np.array([300.0, 500.0]), [300.0, 500.0]),
    (400, [400.0]),  # one tier
    ("table", [300.0, 500.0]),  # service_tiers(minutes=[5, 10]): GB 50180's 300 m and 500 m
]


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize(("tiers", "metres"), ACCEPTED)
def test_same_tiers_accepted_everywhere(world, name, tiers, metres):
    if isinstance(tiers, str):
        tiers = gg.service_tiers(minutes=[5, 10])
    assert _distances(CALLS[name](world, tiers)) == metres


REFUSED = [
    ([300, -5], r"tiers \(metres\) must be positive numbers; found \[300, -5\]"),
    ("far", r"tiers \(metres\) must be positive numbers; found \['far'\]"),
    ([], r"tiers \(metres\) must be positive numbers; found \[\]"),
    ([300, 300], r"tier distances must differ; found \[300\.0, 300\.0\] m"),
    (
        pd.DataFrame({"metres": [300]}),
        r"tiers must be a DataFrame with columns minutes and distance_m .*found columns "
        r"\['metres'\]",
    ),
]


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize(("tiers", "match"), REFUSED)
def test_same_tiers_refused_everywhere(world, name, tiers, match):
    with pytest.raises(InputError, match=match):
        CALLS[name](world, tiers)


@pytest.mark.parametrize(("tiers", "match"), REFUSED[:1] + REFUSED[-1:])
def test_build_refuses_the_same_tiers(tmp_path, tiers, match):
    with pytest.raises(InputError, match=match):
        gg.build(out=tmp_path / "out", tiers=tiers, png=False, gpkg=False, surfaces=False)
    assert not (tmp_path / "out" / "index.html").exists()


def test_build_refuses_tiers_with_minutes(tmp_path):
    """tiers and minutes are two answers to one question: build refuses the pair, as
    resolve_tiers does, instead of quietly keeping one (the speed may still come with tiers)."""
    with pytest.raises(InputError, match=r"pass tiers or minutes, not both"):
        gg.build(out=tmp_path / "out", tiers=[300.0], minutes=[5], png=False, gpkg=False)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
