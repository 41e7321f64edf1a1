import logging
import re
from pathlib import Path

import folium
import numpy as np
import pytest
from _fixtures import (
    EAST,
    N_PROJECTS,
    NORTH,
    SOUTH,
    STATION_ID,
    STATION_LONLAT,
    WEST,
    coverage,
    district,
    facilities,
    gaps,
    projects,
    service_areas,
    streets,
)
from shapely.geometry import Polygon

from gongshu_geo import CRSError, InputError, to_gcj02
from gongshu_geo.core.crs import wgs84_to_gcj02
from gongshu_geo.data.schema import CATEGORIES
from gongshu_geo.maps import layers as _mapdata
from gongshu_geo.maps import static as plots
from gongshu_geo.maps import web as maps
from gongshu_geo.maps.style import class_index, classify

ROOT = Path(__file__).resolve().parent.parent
CDN = re.compile(
    r"""<(?:script|link)[^>]+(?:src|href)=["']https?://[^"']*"""
    r"(?:jsdelivr|cdnjs|bootstrapcdn|unpkg|code\.jquery)"
)
EXTERNAL = re.compile(r"""<(?:script|link)[^>]+(?:src|href)=["']https?://""")


def overview(basemap="osm"):
    return maps.make_overview_map(streets(), projects(), district(), basemap=basemap)


def geojson_layers(element):
    """(layer name of the enclosing FeatureGroup, folium.GeoJson) under element."""
    found = []

    def walk(el, layer):
        if isinstance(el, folium.FeatureGroup):
            layer = el.layer_name
        if isinstance(el, folium.GeoJson):
            found.append((layer, el))
        for child in el._children.values():
            walk(child, layer)

    walk(element, None)
    return found


def feature(m, fid):
    for _layer, gj in geojson_layers(m):
        for f in gj.data["features"]:
            if f.get("id") == fid:
                return f
    raise AssertionError(f"{fid} not drawn")


# ------------------------------------------------------------ datum handling


def test_point_on_amap_carries_gcj02_coordinates():
    lon, lat = feature(overview("amap"), STATION_ID)["geometry"]["coordinates"]
    glon, glat = wgs84_to_gcj02(*STATION_LONLAT)
    assert lon == pytest.approx(float(glon), abs=1e-6)
    assert lat == pytest.approx(float(glat), abs=1e-6)
    # and the shift is the ~500 m one, not rounding noise
    assert abs(lon - STATION_LONLAT[0]) > 3e-3


@pytest.mark.parametrize("basemap", ["osm", "carto", "none"])
def test_point_on_wgs84_basemaps_is_not_shifted(basemap):
    lon, lat = feature(overview(basemap), STATION_ID)["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx(STATION_LONLAT, abs=1e-6)


def test_every_overlay_is_shifted_on_amap():
    glon, glat = (float(v) for v in wgs84_to_gcj02(WEST, SOUTH))
    m = overview("amap")
    for _layer, gj in geojson_layers(m):
        for f in gj.data["features"]:
            coords = np.array(_all_coords(f["geometry"]))
            # every drawn vertex is east of the WGS 84 west edge by the GCJ-02 shift
            assert coords[:, 0].min() >= glon - 1e-6, f.get("id")
    district_layer = [gj for name, gj in geojson_layers(m) if name.startswith("区界")][0]
    ring = np.array(district_layer.data["features"][0]["geometry"]["coordinates"][0])
    corners = np.array(district().geometry.iloc[0].exterior.coords)
    expected = np.column_stack(wgs84_to_gcj02(corners[:, 0], corners[:, 1]))
    assert len(ring) == len(expected)
    for vertex in ring:  # each drawn corner is a shifted corner of the fixture
        assert np.abs(expected - vertex).max(axis=1).min() < 2e-6
    assert ring[:, 0].min() == pytest.approx(glon, abs=2e-6)
    assert glat < SOUTH  # GCJ-02 moves Hangzhou south-east


def test_coverage_map_shifts_service_areas_on_amap_only():
    def drawn_minx(basemap):
        m = maps.make_coverage_map(
            streets(),
            service_areas(),
            gaps(),
            coverage(),
            facility="park",
            facilities=facilities(),
            basemap=basemap,
        )
        layers = [gj for name, gj in geojson_layers(m) if "服务范围" in name]
        return min(
            np.array(_all_coords(f["geometry"]))[:, 0].min()
            for gj in layers
            for f in gj.data["features"]
        )

    wgs_minx = service_areas().total_bounds[0]
    assert drawn_minx("osm") == pytest.approx(wgs_minx, abs=1e-5)
    shift = float(wgs84_to_gcj02(wgs_minx, 30.30)[0]) - wgs_minx
    assert drawn_minx("amap") - wgs_minx == pytest.approx(shift, abs=2e-5)


def test_tianditu_overview_has_vector_and_annotation_tiles(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match=r"needs a 天地图 \(Tianditu\) API key"):
        overview("tianditu")
    m = maps.make_overview_map(
        streets(), projects(), district(), basemap="tianditu", tianditu_key="K"
    )
    tiles = [el for el in m._children.values() if isinstance(el, folium.TileLayer)]
    assert [t.tiles.split("LAYER=")[1][:3] for t in tiles] == ["vec", "cva"]
    assert [t.overlay for t in tiles] == [False, True]
    lon, _lat = feature(m, STATION_ID)["geometry"]["coordinates"]
    assert lon == pytest.approx(STATION_LONLAT[0], abs=1e-6)  # WGS 84-compatible: no shift


def test_no_basemap_has_no_tiles():
    assert not [
        el for el in overview("none")._children.values() if isinstance(el, folium.TileLayer)
    ]


def test_frames_already_in_gcj02_are_refused():
    with pytest.raises(CRSError, match=r"projects: the frame is already in GCJ-02"):
        maps.make_overview_map(streets(), to_gcj02(projects()), district(), basemap="amap")


def test_callers_frames_are_not_changed():
    p = projects()
    before = p.copy()
    overview_map = maps.make_overview_map(streets(), p, district(), basemap="amap")
    assert overview_map is not None
    assert p.equals(before) and p.attrs.get("datum") is None


# ------------------------------------------------------------ layers and popups


def test_every_category_has_its_own_layer_and_the_control_lists_it():
    m = overview()
    names = [el.layer_name for el in m._children.values() if isinstance(el, folium.FeatureGroup)]
    for category, (label, _prefix, _kinds) in CATEGORIES.items():
        matches = [n for n in names if n.startswith(label + " ")]
        assert len(matches) == 1, category
    assert "公园绿地 Parks (2)" in names and "地铁站点 Metro stations (1)" in names
    assert any(isinstance(el, folium.LayerControl) for el in m._children.values())
    drawn = sum(
        len(gj.data["features"])
        for name, gj in geojson_layers(m)
        if name and name.split(" ")[0] in {v[0] for v in CATEGORIES.values()}
    )
    assert drawn == N_PROJECTS


def test_popups_carry_plan_ref_accuracy_and_targets():
    popup = feature(overview(), "P-PARK-001")["properties"]["popup"]
    assert "规划依据</th><td>第1章 测试依据" in popup
    assert "定位精度</th><td>±100 m" in popup
    assert "定位来源</th><td>hand-made fixture" in popup
    assert "面积 12,000 m²" in popup
    assert "状态</th><td>规划" in popup and "时期</th><td>2021-2025" in popup


def test_popup_text_is_escaped():
    props = feature(overview(), "P-PARK-002")["properties"]
    assert "口袋公园&lt;b&gt;" in props["popup"] and "<b>口袋公园<b>" not in props["popup"]
    assert props["name"] == "口袋公园&lt;b&gt;"


def test_status_styles_follow_the_scheme():
    m = overview()
    styles = {}
    for _layer, gj in geojson_layers(m):
        for f in gj.data["features"]:
            if f.get("id", "").startswith("P-") and gj.style_function is not None:
                styles[f["id"]] = gj.style_function(f)
    statuses = dict(zip(projects()["id"], projects()["status"], strict=True))
    for fid, style in styles.items():
        dashed = "dashArray" in style
        assert dashed == (statuses[fid] in ("planned", "under_construction")), fid
    assert styles["P-PARK-002"]["fillColor"] == "#ffffff"  # planned point: hollow ring


def test_projects_with_missing_columns_are_refused():
    with pytest.raises(InputError, match=r"projects: column \"status\" is missing; found id, name"):
        maps.make_overview_map(streets(), projects().drop(columns="status"), district())


# ------------------------------------------------------------ saving


def test_default_html_is_self_contained(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="gongshu_geo.maps.web")
    path = maps.write_map(overview(), tmp_path / "sub" / "index.html")
    page = path.read_text(encoding="utf-8")
    assert not CDN.search(page)
    assert not EXTERNAL.search(page)
    assert "Leaflet 1.9.3 (BSD-2-Clause) from xstatic-leaflet" in page
    assert ".leaflet-container" in page and "data:image/png;base64," in page
    assert "sourceMappingURL" not in page
    assert "bootstrap" not in page and "awesome-markers" not in page
    assert re.search(r"wrote .*index\.html \(\d+ kB, self-contained\)", caplog.text)


def test_cdn_variant_links_leaflet(tmp_path):
    page = maps.write_map(overview(), tmp_path / "cdn.html", inline_assets=False).read_text("utf-8")
    assert (
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>' in page
    )
    assert 'href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"' in page
    assert "from xstatic-leaflet" not in page


def test_html_is_byte_identical_across_runs(tmp_path):
    a = maps.write_map(overview("amap"), tmp_path / "a.html").read_bytes()
    shown = overview("amap")
    shown._repr_html_()  # a notebook display first must not change what is saved
    b = maps.write_map(shown, tmp_path / "b.html").read_bytes()
    assert a == b
    assert not re.search(rb"_[0-9a-f]{32}", a)


def test_generic_folium_maps_keep_what_cannot_be_inlined(caplog):
    m = folium.Map(tiles=None)
    page = maps.render_map(m)
    assert "from xstatic-leaflet" in page
    assert "bootstrap" in page  # folium's own default Map still links bootstrap: reported
    assert "needs the internet" in caplog.text


def test_display_geometry_is_simplified_and_rounded():
    wiggly = Polygon(
        [(120.10, 30.30), (120.105, 30.30000002), (120.11, 30.30), (120.11, 30.31), (120.10, 30.31)]
    )
    frame = district().set_geometry([wiggly], crs="EPSG:4326")
    shown = _mapdata.display_frame(frame, gcj02=False, what="test")
    ring = np.array(shown.geometry.iloc[0].exterior.coords)
    assert len(ring) == 5  # the 2 mm bump on the south edge is gone
    assert np.array_equal(ring, np.round(ring, _mapdata.DISPLAY_DECIMALS))


# ------------------------------------------------------------ coverage and statistics


def test_coverage_map_layers_per_tier():
    m = maps.make_coverage_map(
        streets(),
        service_areas(),
        gaps(),
        coverage(),
        facility="park",
        facilities=facilities(),
        baseline="complete",
    )
    names = [el.layer_name for el in m._children.values() if isinstance(el, folium.FeatureGroup)]
    for minutes, metres in ((5, 400), (10, 800), (15, 1200)):
        assert f"{minutes} 分钟服务范围 service area ({metres:,} m)" in names
        assert f"{minutes} 分钟未覆盖 gaps" in names
        assert f"覆盖率 Coverage · {minutes} 分钟 min" in names
    shown = {
        el.layer_name: el.show for el in m._children.values() if isinstance(el, folium.FeatureGroup)
    }
    assert shown["覆盖率 Coverage · 15 分钟 min"] and not shown["覆盖率 Coverage · 5 分钟 min"]
    assert "设施 Facilities (2)" in names


@pytest.mark.parametrize("baseline", ["partial", "unknown", None])
def test_gaps_without_a_complete_baseline_say_in_this_dataset(baseline):
    m = maps.make_coverage_map(
        streets(), service_areas(), gaps(), coverage(), facility="park", baseline=baseline
    )
    names = [el.layer_name for el in m._children.values() if isinstance(el, folium.FeatureGroup)]
    gap_layers = [n for n in names if "未覆盖" in n]
    assert len(gap_layers) == 3
    assert all(n.endswith("gaps in this dataset") for n in gap_layers)
    legend = next(el for el in m._children.values() if isinstance(el, maps.Legend))
    assert "in this dataset" in legend.body and "未覆盖不等于实际无设施" in legend.body


def test_complete_baseline_has_no_dataset_warning():
    m = maps.make_coverage_map(
        streets(), service_areas(), gaps(), coverage(), facility="park", baseline="complete"
    )
    legend = next(el for el in m._children.values() if isinstance(el, maps.Legend))
    assert "in this dataset" not in legend.body and "未覆盖 gap" in legend.body


def test_coverage_choropleth_values():
    m = maps.make_coverage_map(streets(), service_areas(), gaps(), coverage(), facility="park")
    layer = [gj for name, gj in geojson_layers(m) if name == "覆盖率 Coverage · 15 分钟 min"][0]
    values = [f["properties"]["value"] for f in layer.data["features"]]
    assert values == ["30%", "0%", "90%"]


def test_coverage_needs_a_share_column():
    with pytest.raises(InputError, match=r"coverage: expected a covered_pop_share"):
        maps.make_coverage_map(
            streets(),
            service_areas(),
            gaps(),
            coverage().drop(columns="covered_pop_share"),
            facility="park",
        )


def test_street_stats_map(tmp_path):
    stats = streets().assign(n_projects=[1, 5, 9], road_km=[0.5, 1.5, 2.0])
    m = maps.make_street_stats_map(stats, column="n_projects")
    layer = [gj for name, gj in geojson_layers(m) if name == "n_projects"][0]
    assert [f["properties"]["value"] for f in layer.data["features"]] == ["1", "5", "9"]
    assert maps.write_map(m, tmp_path / "s.html").stat().st_size > 0
    with pytest.raises(
        InputError,
        match=r'column "green" not found; numeric columns are '
        r".*n_projects, road_km",
    ):
        maps.make_street_stats_map(stats, column="green")


@pytest.mark.parametrize(
    ("values", "bins", "method"),
    [
        ([0.0, 0.0, 1.0, np.nan], [0.0, 1.0], "unique values"),
        ([np.nan, np.nan], [], "none"),
        (
            [1, 2, 10, 11, 50, 51, 100, 101, 200, 201],
            [2.0, 11.0, 51.0, 101.0, 201.0],
            "FisherJenks",
        ),
    ],
)
def test_classify_known_answers(values, bins, method):
    got, how = classify(values)
    assert how == method
    assert got == pytest.approx(bins)


def test_class_index():
    bins = [3.0, 12.0, 51.0]
    assert [class_index(v, bins) for v in (1, 3, 4, 51, 99)] == [0, 0, 1, 2, 2]
    assert class_index(float("nan"), bins) is None


# ------------------------------------------------------------ static PNGs


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_overview_png_is_deterministic_and_carries_no_software_tag(tmp_path):
    a = plots.plot_overview_png(projects(), streets(), district(), tmp_path / "a.png").read_bytes()
    b = plots.plot_overview_png(projects(), streets(), district(), tmp_path / "b.png").read_bytes()
    assert a.startswith(PNG_SIGNATURE) and a == b
    assert b"matplotlib" not in a.lower()


def test_coverage_png(tmp_path):
    path = plots.plot_coverage_png(
        streets(), service_areas(), gaps(), coverage(), tmp_path / "png" / "c.png", facility="park"
    )
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_png_falls_back_to_english_without_a_cjk_font(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(plots, "find_cjk_font", lambda: None)
    plots.plot_overview_png(projects(), streets(), district(), tmp_path / "en.png")
    plots.plot_coverage_png(
        streets(), service_areas(), gaps(), coverage(), tmp_path / "c.png", facility="park"
    )
    assert "no CJK font found (install fonts-noto-cjk)" in caplog.text
    text = plots._Text(False)
    assert text.category("park") == "Parks" and text("公园", "Park") == "Park"


def test_png_uses_the_cjk_font_when_present():
    path = plots.find_cjk_font()
    if path is None:
        pytest.skip("no CJK font on this machine (apt-get install fonts-noto-cjk)")
    rc, cjk = plots._font_setup()
    assert cjk and rc["font.family"][0] != "DejaVu Sans"


def _all_coords(geometry):
    coords = []

    def walk(c):
        if isinstance(c[0], (int, float)):
            coords.append(c)
        else:
            for part in c:
                walk(part)

    walk(geometry["coordinates"])
    return coords


def test_fixture_bounds_are_what_the_tests_assume():
    assert tuple(district().total_bounds) == (WEST, SOUTH, EAST, NORTH)
