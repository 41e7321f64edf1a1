"""The public API resolves; public functions are documented, options keyword-only."""

import inspect
import re

import pytest

import gongshu_geo as gg

FUNCTIONS = sorted(
    n for n in gg.__all__ if inspect.isfunction(getattr(gg, n)) and not n.startswith("_")
)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_functions_have_numpydoc_sections(name):
    func = getattr(gg, name)
    doc = inspect.getdoc(func) or ""
    params = [p for p in inspect.signature(func).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
    if params:
        assert "Parameters\n----------" in doc, f"{name}: no numpydoc Parameters section"
        for p in params:  # every argument is described (alone or as "a, b : ...")
            assert re.search(rf"(^|[ ,]){p.name}([ ,:]|$)", doc, re.M), f"{name}: {p.name}"
    assert "Returns\n-------" in doc or "Yields\n------" in doc or _returns_none(func), (
        f"{name}: no numpydoc Returns section"
    )


def _returns_none(func) -> bool:
    return inspect.signature(func).return_annotation in (None, "None")


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gg.nope  # noqa: B018


#: Data arguments that may be left out (the packaged data, or made from the others):
#: they stay positional, before the bare ``*``.
OPTIONAL_DATA = {"path", "candidates", "tiers", "joined"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_options_are_keyword_only(name):
    # data arguments first, then a bare * (STYLE.md): every option is keyword-only,
    # on every public function
    params = list(inspect.signature(getattr(gg, name)).parameters.values())
    positional = [p.name for p in params if p.default is not inspect.Parameter.empty
                  and p.kind is not inspect.Parameter.KEYWORD_ONLY
                  and p.name not in OPTIONAL_DATA]  # fmt: skip
    assert not positional, f"{name}: options {positional} can be passed by position"


def _needs_annotation(p) -> bool:
    # positional (data) arguments always; an option whose default says nothing of its type
    # (None, or no default) too; `basemap="osm"` or `n=3` speak for themselves
    if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
        return False
    return p.kind is not p.KEYWORD_ONLY or p.default is None or p.default is p.empty


#: build's options mirror the CLI's flags and the project file's keys, and get their hints
#: when those are renamed to the new vocabulary (the positional rule holds for it already).
OPTIONS_UNHINTED = {"build"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_data_arguments_and_returns_are_annotated(name):
    sig = inspect.signature(getattr(gg, name))
    missing = [p.name for p in sig.parameters.values() if _needs_annotation(p)
               and p.annotation is p.empty
               and not (name in OPTIONS_UNHINTED and p.kind is p.KEYWORD_ONLY)]  # fmt: skip
    assert not missing, f"{name}: no type hint on {missing}"
    assert sig.return_annotation is not sig.empty, f"{name}: no return type hint"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_streets_come_first(name):
    # wherever streets are a data argument, they are the first one
    params = [p for p in inspect.signature(getattr(gg, name)).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]  # fmt: skip
    names = [p.name for p in params]
    if "streets" in names:
        assert names[0] == "streets", f"{name}{tuple(names)}: streets must come first"


#: Public names whose verb is not one of the house verbs, and why that verb is right.
OTHER_VERBS = {
    "build": "the command's own name",
    "collect_layers": "gathers frames, computes nothing",
    "export_layers": "writes many formats; export is the GIS word",
    "download_walking_graph": "the only function that uses the network",
    "resolve_tiers": "accepts any form of tiers; computes nothing",
    "vectorize_surface": "the raster-to-vector term",
    "aggregate_to_h3": "the H3 term",
    "join_projects_to_streets": "a spatial join",
    "flag_outside": "returns flags",
    "filter_projects": "keeps rows, like pandas' filter",
    "service_tiers": "the tier table itself, as data",
    "default_candidates": "the default of choose_sites' candidates",
    "graph_from_lines": "a constructor, as in OSMnx's graph_from_*",
    "from_gcj02": "a conversion, as geopandas' to_crs",
    "to_gcj02": "a conversion",
    "to_crs_named": "a conversion",
    "gcj02_to_wgs84": "a conversion",
    "wgs84_to_gcj02": "a conversion",
}
HOUSE_VERBS = ("read_", "write_", "compute_", "make_", "summarize_", "select_", "measure_",
               "compare_", "choose_")  # fmt: skip


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_functions_use_the_house_verbs(name):
    assert name.startswith(HOUSE_VERBS) or name in OTHER_VERBS, (
        f"{name}: start with one of {HOUSE_VERBS}, or say in OTHER_VERBS why not"
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [("save_map", "write_map"), ("coverage_table", "compute_surface_coverage"),
     ("minutes_of", "compute_minutes"), ("surface_image", "make_surface_image")],
)  # fmt: skip
def test_renamed_functions_still_resolve_with_a_warning(old, new):
    assert old not in gg.__all__ and new in gg.__all__ and old not in dir(gg)
    with pytest.warns(DeprecationWarning, match=rf"{old}\(\) is deprecated .* use {new}\(\)"):
        with pytest.raises(TypeError):  # the warning comes first, then the missing arguments
            getattr(gg, old)()


def _frames():
    from _fixtures import district, projects, streets

    return {"streets": streets(), "projects": projects(), "district": district(), "layer": "park"}


SWAPPABLE = [
    n for n in FUNCTIONS
    if [p.name for p in inspect.signature(getattr(gg, n)).parameters.values()][:2]
    == ["streets", "projects"]
]  # fmt: skip


def test_swappable_functions_are_found():
    # the functions that took projects first before 0.2, and compare_scenarios
    expected = {
        "join_projects_to_streets",
        "flag_outside",
        "summarize_streets",
        "measure_targets",
        "make_overview_map",
        "collect_layers",
        "compare_scenarios",
    }
    assert expected <= set(SWAPPABLE)


@pytest.mark.parametrize("name", SWAPPABLE)
def test_projects_passed_where_streets_go_are_refused(name):
    func = getattr(gg, name)
    frames = _frames()
    params = [p for p in inspect.signature(func).parameters.values()
              if p.default is p.empty and p.kind is not p.KEYWORD_ONLY]  # fmt: skip
    args = [frames[p.name] for p in params]
    args[0], args[1] = args[1], args[0]  # the order before 0.2
    with pytest.raises(
        gg.InputError,
        match=rf"^{name}: streets looks like a projects layer.*"
        rf"Streets come first since gongshu_geo 0\.2: call {name}\(streets, ",
    ):
        func(*args)
