"""The grid, the street table and the people on the cells: known answers by hand.

Fixtures are in EPSG:4549 with edges on multiples of 10 m, so every cell of the
default 10 m grid lies wholly in one street and the counts are exact.
"""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gongshu_geo import InputError
from gongshu_geo.analysis.grid import make_grid, make_study_area
from gongshu_geo.analysis.streets import make_street_table

X0, Y0 = 505_000.0, 3_355_000.0
METRIC = "EPSG:4549"


def streets_frame(codes, boxes, population=None):
    columns = {"street_code": codes, "name": [c.lower() for c in codes]}
    if population is not None:
        columns["population"] = population
    geoms = [shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=METRIC)


def test_grid_edges_sit_on_multiples_of_the_cell():
    grid = make_grid((X0 + 3, Y0 + 7, X0 + 95, Y0 + 41), cell_m=10)
    assert (grid.x0, grid.y1) == (X0, Y0 + 50)
    assert grid.shape == (5, 10)
    # the first cell's centre, and a point back to its cell
    assert grid.centres([0]).tolist() == [[X0 + 5, Y0 + 45]]
    assert grid.cell_of([[X0 + 12, Y0 + 48], [X0 - 1, Y0]]).tolist() == [1, -1]
    with pytest.raises(InputError, match="cell_m must be a positive number"):
        make_grid((0, 0, 1, 1), cell_m=0)


def test_cells_are_counted_in_their_street():
    # two streets, 300 x 200 m and 100 x 200 m: 600 and 200 cells of 10 m
    area = make_study_area(streets_frame(["A", "B"], [(0, 0, 300, 200), (300, 0, 400, 200)]))
    assert area.street_cells.tolist() == [600, 200]
    assert len(area.inside) == 800


def test_a_shared_edge_through_cell_centres_goes_to_the_lowest_code():
    # The shared edge x = 205 passes through a column of cell centres. Listed B first,
    # A second: the rule is the code, not the order of the layer.
    frame = streets_frame(["B", "A"], [(0, 0, 205, 100), (205, 0, 400, 100)])
    area = make_study_area(frame)
    centre_col = area.grid.cell_of([[X0 + 205, Y0 + 5]])[0] % area.grid.n_cols
    col = np.arange(area.grid.size) % area.grid.n_cols
    on_edge = area.label[col == centre_col]
    assert set(on_edge.tolist()) == {1}  # row 1 of the layer is A
    # and the street table's point rule agrees, for points exactly on the edge
    table = make_street_table(frame)
    assert table.locate([[X0 + 205, Y0 + 50], [X0 + 100, Y0 + 50]]).tolist() == [1, 0]


def test_population_spread_evenly_or_from_a_layer():
    frame = streets_frame(["A", "B"], [(0, 0, 300, 200), (300, 0, 400, 200)], [600, 100])
    area = make_study_area(frame)
    assert area.street_population.tolist() == [600, 100]
    assert area.cell_pop[area.label == 0].tolist() == [1.0] * 600
    people = gpd.GeoDataFrame(
        {"population": [10, 80, 5]},
        geometry=[
            shapely.Point(X0 + 50, Y0 + 50),  # in A
            shapely.box(X0 + 250, Y0, X0 + 350, Y0 + 20),  # 20 cells: 10 in A, 10 in B
            shapely.Point(X0 + 300, Y0 + 100),  # on the A|B edge: A, the lowest code
        ],
        crs=METRIC,
    )
    area = make_study_area(frame, population=people)
    assert area.street_population.tolist() == pytest.approx([10 + 40 + 5, 40])


def test_street_table_refuses_what_it_cannot_use():
    frame = streets_frame(["A", "A"], [(0, 0, 10, 10), (10, 0, 20, 10)])
    with pytest.raises(InputError, match="street_code must be unique; 'A' appears twice"):
        make_street_table(frame)
    lines = gpd.GeoDataFrame(
        {"street_code": ["A"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=METRIC
    )
    with pytest.raises(InputError, match="must be a Polygon or MultiPolygon; found LineString"):
        make_street_table(lines)
    with pytest.raises(InputError, match='column "name" is missing'):
        make_street_table(lines.drop(columns=[]), require_name=True)
