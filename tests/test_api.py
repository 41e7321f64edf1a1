"""The public API resolves; public functions are documented, options keyword-only."""

import inspect

import pytest

import gongshu_geo as gg


@pytest.mark.parametrize("name", sorted(gg.__all__))
def test_public_names_resolve_and_are_documented(name):
    obj = getattr(gg, name)
    if callable(obj) and not isinstance(obj, type):
        doc = inspect.getdoc(obj)
        assert doc and len(doc) > 20, f"{name} needs a docstring"


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gg.nope  # noqa: B018


def test_options_are_keyword_only():
    # data arguments first, then a bare * (STYLE.md); spot-check the main functions
    for func in (
        gg.read_projects,
        gg.read_streets,
        gg.compute_coverage,
        gg.export_layers,
        gg.make_overview_map,
        gg.build,
    ):
        params = list(inspect.signature(func).parameters.values())
        optional = [p for p in params if p.default is not inspect.Parameter.empty]
        assert all(
            p.kind is inspect.Parameter.KEYWORD_ONLY for p in optional if p.name != "path"
        ), func
