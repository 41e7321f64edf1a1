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


#: build mirrors the CLI's flags, and pipeline.py is being reorganised under issue #12:
#: its options get their hints with that change (the positional rule holds for it already).
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
