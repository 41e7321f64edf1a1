import pytest

from gongshu_geo import InputError
from gongshu_geo.maps.basemaps import (
    GCJ02_DATUM,
    TIANDITU_KEY_ENV,
    WGS84_DATUM,
    Basemap,
    get_basemap,
    list_basemaps,
)


@pytest.fixture(autouse=True)
def no_keys_in_env(monkeypatch):
    monkeypatch.delenv(TIANDITU_KEY_ENV, raising=False)
    monkeypatch.delenv("CARTO_API_KEY", raising=False)


@pytest.mark.parametrize(
    ("name", "datum"),
    [
        ("osm", WGS84_DATUM),
        ("carto", WGS84_DATUM),
        ("amap", GCJ02_DATUM),
        ("amap-satellite", GCJ02_DATUM),
        ("none", WGS84_DATUM),
    ],
)
def test_each_basemap_declares_its_datum(name, datum):
    bm = get_basemap(name)
    assert isinstance(bm, Basemap)
    assert bm.name == name
    assert bm.datum == datum
    assert bm.needs_gcj02 is (datum == GCJ02_DATUM)


def test_tile_templates_are_https_with_xyz_placeholders():
    for name in ("osm", "carto", "amap", "amap-satellite"):
        bm = get_basemap(name)
        assert bm.tiles_url.startswith("https://"), name
        for part in ("{x}", "{y}", "{z}"):
            assert part in bm.tiles_url, (name, part)
        assert bm.attribution
    assert get_basemap("osm").tiles_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert get_basemap("amap").subdomains == ("1", "2", "3", "4")
    assert "{apikey}" not in get_basemap("carto").tiles_url


def test_none_has_no_tiles():
    assert get_basemap("none").tiles_url is None


def test_names_are_forgiving():
    assert get_basemap("AMAP_satellite").name == "amap-satellite"


def test_unknown_basemap_lists_the_choices():
    with pytest.raises(InputError, match=r"unknown basemap 'google': expected one of osm, carto"):
        get_basemap("google")


def test_tianditu_without_key_raises_a_clear_error():
    with pytest.raises(InputError, match=r"needs a 天地图 \(Tianditu\) API key") as info:
        get_basemap("tianditu")
    message = str(info.value)
    assert "console.tianditu.gov.cn" in message
    assert "tianditu_key=" in message and "--tianditu-key" in message
    assert TIANDITU_KEY_ENV in message


def test_tianditu_is_offered_only_with_a_key(monkeypatch):
    assert "tianditu" not in list_basemaps()
    assert list_basemaps()[0] == "osm" and "none" in list_basemaps()
    assert "tianditu" in list_basemaps(tianditu_key="abc")
    monkeypatch.setenv(TIANDITU_KEY_ENV, "from-env")
    assert "tianditu" in list_basemaps()
    assert get_basemap("tianditu").tiles_url.endswith("tk=from-env")


def test_tianditu_with_key_has_vector_and_annotation_layers():
    bm = get_basemap("tianditu", tianditu_key="KEY123")
    assert bm.datum == WGS84_DATUM
    assert "LAYER=vec" in bm.tiles_url and bm.tiles_url.endswith("tk=KEY123")
    assert "LAYER=cva" in bm.overlay_url and bm.overlay_url.endswith("tk=KEY123")
    assert bm.subdomains == tuple("01234567")
