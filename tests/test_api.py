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
