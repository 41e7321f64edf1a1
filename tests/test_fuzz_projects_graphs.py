"""Fuzzing the project readers beyond GeoJSON (CSV, GeoPackage) and the graph readers.

GeoJSON projects are fuzzed in ``tests/test_fuzz.py``. The project file of the
codebase issue (TOML configuration) does not exist yet, so it is not fuzzed here.
"""

from xml.sax.saxutils import quoteattr

import geopandas as gpd
import shapely
from hypothesis import given
from hypothesis import strategies as st

from gongshu_geo import pipeline, read_projects
from gongshu_geo.data.graphs import read_graph
from gongshu_geo.data.schema import REQUIRED_PROPERTIES
from tests._fuzz import FUZZ, coords, frame_from, only_own_errors, values, write_or_none


@FUZZ
@given(
    st.lists(st.lists(st.text(max_size=6), min_size=3, max_size=3), max_size=5),
    st.sampled_from(["id,name,WKT", "id,lon,lat", "id,category,status", ""]),
)
def test_random_project_csv(tmp_path, rows, header):
    path = tmp_path / "p.csv"
    path.write_text("\n".join([header] + [",".join(r) for r in rows]), encoding="utf-8")
    only_own_errors(read_projects, path)


@FUZZ
@given(st.data(), st.sampled_from(["p.gpkg", "p.shp"]))
def test_random_project_layers(tmp_path, data, name):
    frame = frame_from(data.draw, list(REQUIRED_PROPERTIES)[:4] + ["status_log", "start_year"])
    path = write_or_none(frame, tmp_path / name)
    if path is None:
        return
    only_own_errors(read_projects, path, skip_invalid=data.draw(st.booleans()))


_attr = st.one_of(
    values.map(str), st.sampled_from(["120.15", "30.3", "137", "nan", "inf", "-inf", "1e400"])
)


@st.composite
def graphml(draw):
    """GraphML text as OSMnx writes it, with random nodes, edges, keys and values."""
    crs = draw(st.sampled_from([None, "epsg:4326", "epsg:4549", "EPSG:3857", "nonsense", ""]))
    n = draw(st.integers(0, 5))
    ids = [draw(st.sampled_from(["1", "2", "a", "", "1"])) + str(i % 3) for i in range(n)]
    keys = [
        '<key id="d0" for="node" attr.name="x" attr.type="double"/>',
        '<key id="d1" for="node" attr.name="y" attr.type="double"/>',
        '<key id="d2" for="edge" attr.name="length" attr.type="double"/>',
        '<key id="d3" for="edge" attr.name="geometry" attr.type="string"/>',
        '<key id="d4" for="graph" attr.name="crs" attr.type="string"/>',
    ]
    body = []
    for node in ids:
        x, y = draw(coords)
        xs = draw(st.one_of(st.just(repr(x)), _attr))
        ys = draw(st.one_of(st.just(repr(y)), _attr))
        datas = f'<data key="d0">{xs}</data>' if draw(st.integers(0, 5)) else ""
        datas += f'<data key="d1">{ys}</data>' if draw(st.integers(0, 5)) else ""
        body.append(f"<node id={quoteattr(node)}>{datas}</node>")
    for _ in range(draw(st.integers(0, 5))):
        u = draw(st.sampled_from(ids or ["x"]))
        v = draw(st.sampled_from((ids or ["y"]) + ["missing"]))
        length = draw(_attr)
        wkt = draw(
            st.sampled_from(
                [
                    "",
                    "LINESTRING (120.1 30.3, 120.2 30.3)",
                    "POINT (1 2)",
                    "garbage",
                    "LINESTRING EMPTY",
                ]
            )
        )
        body.append(
            f"<edge source={quoteattr(u)} target={quoteattr(v)}>"
            f'<data key="d2">{length}</data><data key="d3">{wkt}</data></edge>'
        )
    graph_data = f'<data key="d4">{crs}</data>' if crs is not None else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        + "".join(keys)
        + f'<graph edgedefault="directed">{graph_data}'
        + "".join(body)
        + "</graph></graphml>"
    )


@FUZZ
@given(graphml())
def test_random_graphml(tmp_path, text):
    path = tmp_path / "walk.graphml"
    path.write_text(text, encoding="utf-8")
    only_own_errors(read_graph, path)


@FUZZ
@given(st.binary(max_size=300))
def test_random_graphml_bytes(tmp_path, data):
    path = tmp_path / "walk.graphml"
    path.write_bytes(b'<?xml version="1.0"?><graphml>' + data)
    only_own_errors(read_graph, path)


@FUZZ
@given(st.data(), st.sampled_from(["ways.gpkg", "ways.shp", "ways.geojson"]))
def test_random_line_graphs(tmp_path, data, name):
    frame = frame_from(data.draw, ["highway"], ("LineString", "LineString", "Point", "empty"))
    if data.draw(st.booleans()):  # a valid walkable grid next to the random ways
        grid = [shapely.LineString([(120.1, 30.3), (120.11, 30.3), (120.11, 30.31)])]
        extra = gpd.GeoDataFrame({"highway": ["footway"]}, geometry=grid, crs=4326)
        frame = gpd.GeoDataFrame(
            [*frame.to_dict("records"), *extra.to_crs(frame.crs or 4326).to_dict("records")],
            geometry="geometry",
            crs=frame.crs,
        )
    path = write_or_none(frame, tmp_path / name)
    if path is None:
        return
    only_own_errors(pipeline.read_walk_graph, path)
