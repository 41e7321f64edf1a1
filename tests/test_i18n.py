"""Messages in Chinese and English: the catalog is complete and current, the CLI speaks both."""

import io
import json
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from gongshu_geo import read_projects
from gongshu_geo.cli import main
from gongshu_geo.core import i18n as _i18n
from gongshu_geo.core.i18n import gettext as _
from gongshu_geo.core.i18n import resolve_language, set_language
from tests.conftest import make_feature

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "gongshu_geo/locale/zh_CN/LC_MESSAGES/gongshu_geo.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _update_catalog():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import update_catalog
    finally:
        sys.path.pop(0)
    return update_catalog


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_CN")


@pytest.fixture(scope="module")
def source_msgids():
    """Every message marked in the package's source, extracted afresh with Babel."""
    return {m.id for m in _update_catalog().extract_messages() if m.id}


# --- (a) the catalog is complete and current -------------------------------------------------


def test_every_message_in_the_source_has_a_chinese_translation(catalog, source_msgids):
    assert len(source_msgids) > 300  # the extraction found the package's messages at all
    missing = sorted(m for m in source_msgids if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, (
        f"{len(missing)} messages have no zh_CN translation; run scripts/update_catalog.py and "
        f"translate them in {PO.relative_to(ROOT)}: {missing[:10]}"
    )


def test_no_fuzzy_or_stale_entries(catalog, source_msgids):
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy translations to check, then remove the fuzzy mark: {fuzzy[:10]}"
    stale = sorted(m.id for m in catalog if m.id and m.id not in source_msgids)
    assert not stale, f"messages no longer in the source; run scripts/update_catalog.py: {stale}"


def test_committed_mo_is_a_fresh_compile_of_the_po(catalog):
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    assert MO.read_bytes() == buf.getvalue(), "the .mo is stale: run scripts/update_catalog.py"


def test_update_script_check_passes():
    assert _update_catalog().main(["--check"]) == 0


# --- (b) the placeholders of each translation are its msgid's ---------------------------------

_PERCENT = re.compile(r"%(?:\([a-z_]+\))?[-#0 +]?\d*(?:\.\d+)?[sdrgfix]")


def _placeholders(text: str) -> list:
    if _PERCENT.search(text):  # argparse's words and log messages use %-formatting
        found = _PERCENT.findall(text)
        named = sorted(p for p in found if p.startswith("%("))
        return [p for p in found if not p.startswith("%(")] + named  # positional: in order
    fields = [f for _lit, f, spec, conv in string.Formatter().parse(text) if f is not None]
    specs = [
        f"{f}!{conv}:{spec}"
        for _lit, f, spec, conv in string.Formatter().parse(text)
        if f is not None
    ]
    return sorted(set(specs)) if fields else []


def test_placeholders_of_each_translation_are_those_of_its_msgid(catalog):
    wrong = [
        (m.id, m.string)
        for m in catalog
        if m.id and m.string and _placeholders(m.id) != _placeholders(m.string)
    ]
    assert not wrong, wrong[:5]


def test_placeholders_compare_names_conversions_and_specs():
    assert _placeholders("{a} and {b!r:.60}") == ["a!None:", "b!r:.60"]
    assert _placeholders("{a}{{b}}") == ["a!None:"]
    assert _placeholders("%(prog)s: error: %(message)s\n") == ["%(message)s", "%(prog)s"]
    # %-placeholders without names are filled in order: a translation must keep it
    assert _placeholders("%d of %s in %.3f s") == ["%d", "%s", "%.3f"]
    assert _placeholders("%s 中 %d 个") != _placeholders("%d of %s")


def test_chinese_translations_are_chinese(catalog):
    """A translation without Chinese is only for a msgid of names and placeholders."""
    for m in catalog:
        if m.id and not CJK.search(m.string):
            bare = re.sub(r"\{[^}]*\}|%\(\w+\)\w|--[a-z-]+", "", m.id)  # placeholders, options
            words = re.findall(r"[A-Za-z]{2,}", bare)
            assert not words, (m.id, m.string)


# --- choosing the language --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "zh"),
        ({"LANGUAGE": "zh_CN:en_US"}, "zh"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL before LANG
        ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),  # an empty variable is not set
    ],
)
def test_language_from_the_environment(environ, expected):
    assert resolve_language(environ=environ) == expected


def test_explicit_language_beats_the_environment(monkeypatch):
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert _("options") == "选项"
    set_language("en")
    assert _("options") == "options"
    set_language(None)
    assert _("options") == "选项"


def test_translation_is_looked_up_when_the_message_is_made(monkeypatch, write_geojson):
    """The package is imported long before; the language chosen afterwards still counts."""
    path = write_geojson([make_feature(status="done")])
    set_language("zh")
    with pytest.raises(_i18n_errors().ValidationError) as zh:
        read_projects(path)
    set_language("en")
    with pytest.raises(_i18n_errors().ValidationError) as en:
        read_projects(path)
    assert '要素 "P-PARK-001" (#0)："status" 应为' in str(zh.value)
    assert 'feature "P-PARK-001" (#0): "status" must be one of' in str(en.value)
    assert "实际为 'done'" in str(zh.value) and "found 'done'" in str(en.value)


def _i18n_errors():
    from gongshu_geo.core import errors as _errors

    return _errors


def test_problem_report_reads_the_chinese_wording():
    from gongshu_geo.core.problems import describe_problem

    row = describe_problem(
        '要素 "P-PARK-017" (#16)："status" 应为 planned, completed 之一；实际为 \'done\''
    )
    assert row["feature_index"] == 16 and row["id"] == "P-PARK-017"
    assert row["field"] == "status" and row["found"] == "'done'"


# --- (c) the CLI's bad-input cases in both languages ------------------------------------------


def _feature_collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _missing_field(tmp_path):
    broken = make_feature("P-PARK-002")
    del broken["properties"]["plan_ref"]
    path = tmp_path / "missing_field.geojson"
    path.write_text(_feature_collection(make_feature(), broken), encoding="utf-8")
    return path


def _bad_status(tmp_path):
    path = tmp_path / "bad_status.geojson"
    path.write_text(_feature_collection(make_feature("P-PARK-003", status="done")), "utf-8")
    return path


def _wrong_crs(tmp_path):
    # metres of CGCS2000 / 3-degree Gauss-Kruger CM 120E, in a file that must be WGS 84
    feature = make_feature(geometry={"type": "Point", "coordinates": [514000.0, 3355000.0]})
    path = tmp_path / "wrong_crs.geojson"
    path.write_text(_feature_collection(feature), encoding="utf-8")
    return path


def _invalid_json(tmp_path):
    path = tmp_path / "invalid.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    return path


def _missing_file(tmp_path):
    return tmp_path / "nowhere.geojson"


# (make the file, the names both languages show, Chinese wording, English wording)
CASES = {
    "missing field": (
        _missing_field,
        ['"P-PARK-002" (#1)', '"plan_ref"'],
        '缺少必需属性 "plan_ref"',
        'required property "plan_ref" is missing',
    ),
    "bad status": (
        _bad_status,
        ['"P-PARK-003" (#0)', '"status"', "'done'"],
        '"status" 应为 planned, under_construction, completed, existing 之一；实际为',
        '"status" must be one of planned, under_construction, completed, existing; found',
    ),
    "wrong CRS": (
        _wrong_crs,
        ['"P-PARK-001" (#0)', "EPSG:4549"],
        "不是经纬度；看起来是投影坐标系中的米",
        "are not longitude/latitude degrees; they look like metres in a projected CRS",
    ),
    "invalid JSON": (
        _invalid_json,
        [],
        "不是 JSON（第 1 行",
        "is not JSON (line 1, column",
    ),
    "missing file": (_missing_file, [], "没有这个文件", "no such file"),
}


def _run_validate(path, *, env_lang, extra=()):
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env.update(LANG=env_lang, PYTHONWARNINGS="ignore", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "gongshu_geo.cli", "validate", "--projects", str(path), *extra],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_validate_answers_in_chinese_under_a_chinese_lang(tmp_path, case):
    make, names, chinese, english = CASES[case]
    path = make(tmp_path)
    proc = _run_validate(path, env_lang="zh_CN.UTF-8")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"错误：{path}"), proc.stderr
    assert chinese in proc.stderr
    assert english not in proc.stderr
    for name in names:
        assert name in proc.stderr


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(("env_lang", "extra"), [("C", ()), ("zh_CN.UTF-8", ("--lang", "en"))])
def test_validate_answers_in_english_under_c_or_lang_en(tmp_path, case, env_lang, extra):
    make, names, chinese, english = CASES[case]
    path = make(tmp_path)
    proc = _run_validate(path, env_lang=env_lang, extra=extra)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}"), proc.stderr
    assert english in proc.stderr
    assert not CJK.search(proc.stderr.replace(str(path), "")), proc.stderr
    for name in names:
        assert name in proc.stderr


def test_lang_zh_beats_an_english_lang(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LC_ALL", "C")
    path = _bad_status(tmp_path)
    assert main(["--lang", "zh", "validate", "--projects", str(path)]) == 1
    assert "应为" in capsys.readouterr().err
    assert main(["validate", "--projects", str(path), "--lang=zh"]) == 1  # after the command too
    assert "应为" in capsys.readouterr().err
    assert main(["validate", "--projects", str(path)]) == 1  # and the next run follows LC_ALL
    assert "must be one of" in capsys.readouterr().err


def test_counts_by_kind_beyond_the_listed_problems_in_chinese(tmp_path, capsys):
    features = [make_feature(f"P-PARK-{i:03d}", status="done") for i in range(1, 53)]
    path = tmp_path / "many.geojson"
    path.write_text(_feature_collection(*features), encoding="utf-8")
    assert main(["--lang", "zh", "validate", "--projects", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path} 中有 52 个问题：" in err
    assert "……另有 2 条（用 --report problems.csv 写出全部）；全部 52 条按类别统计：" in err


def test_ok_line_in_chinese(capsys):
    assert main(["--lang", "zh", "validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("通过：") and "18 个街道" in out


@pytest.mark.parametrize(
    ("argv", "chinese", "english"),
    [
        (["export", "--layers", "nope"], "未知的图层 'nope'；可用图层：", "unknown layer 'nope'"),
        (["site", "--mode", "network"], "需要 --graph", "needs --graph"),
    ],
)
def test_pipeline_refusals_answer_in_both_languages(tmp_path, capsys, argv, chinese, english):
    """Refusals made in pipeline (not cli) are translated too, and write nothing."""
    for lang, wanted, unwanted in (("zh", chinese, english), ("en", english, chinese)):
        out = tmp_path / lang
        assert main(["--lang", lang, *argv, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert wanted in err and unwanted not in err and "Traceback" not in err
        assert not out.exists() or not any(out.iterdir())


# --- (d) help and argparse's own words --------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["validate", "--help"], ["export", "--help"]])
def test_help_is_wholly_chinese_under_zh(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "zh", *argv])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：gongshu-geo")
    assert "选项：" in out and "显示此帮助信息并退出" in out
    for boilerplate in ("usage:", "options:", "positional arguments", "show this help", "default:"):
        assert boilerplate not in out, boilerplate
    # every help line says something in Chinese (option names and values aside)
    helps = [m[1] for m in re.finditer(r"^  --?\w.*? {2,}(\S.*)$", out, re.M)]
    # (a help wrapped right after its first word, an option name, goes on in Chinese below)
    assert len(helps) >= 5, out
    assert all(CJK.search(text) or re.fullmatch(r"--[\w-]+", text) for text in helps), helps


def test_help_in_english_under_lang_en(capsys, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    with pytest.raises(SystemExit):
        main(["--lang", "en", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: gongshu-geo") and "show this help message and exit" in out
    assert not CJK.search(out)


def test_usage_errors_in_chinese(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "zh", "validate", "--no-such-option"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "gongshu-geo：错误：无法识别的参数：--no-such-option" in err
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "export", "--format", "xls"])
    assert "参数 --format：无效的选项：'xls'" in capsys.readouterr().err


def test_argparse_is_left_as_it_was_after_our_parser():
    import argparse

    set_language("zh")
    main_parser = _i18n.ArgumentParser(prog="x")
    main_parser.format_help()
    assert argparse._("usage: ") == "usage: "
    assert "usage: x" in argparse.ArgumentParser(prog="x").format_help()


# --- the translator is not hidden -------------------------------------------------------------


def _functions_hiding_the_translator(source: str) -> list:
    """Functions that call ``_()`` but also bind ``_`` themselves (``a, _ = ...``, ``for _ in``).

    Such a binding makes ``_`` local to the whole function, so its ``_("...")`` calls fail
    (or call the wrong thing); comprehensions have their own scope and are fine.
    """
    import ast

    found = []
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp)
    scopes += (ast.DictComp, ast.GeneratorExp)

    def walk(node, state):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue  # a function of its own, visited on its own
            if isinstance(child, ast.Name) and child.id == "_":
                state["binds" if isinstance(child.ctx, ast.Store) else "uses"] = True
            if isinstance(child, scopes):  # a comprehension's own _ is its own
                for sub in ast.walk(child):
                    if (
                        isinstance(sub, ast.Name)
                        and sub.id == "_"
                        and isinstance(sub.ctx, ast.Load)
                    ):
                        state["uses"] = True
                continue
            walk(child, state)

    def visit(function):
        state = {"binds": False, "uses": False}
        walk(function, state)
        if state["binds"] and state["uses"]:
            found.append(f"{function.name} (line {function.lineno})")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            visit(node)
    return found


def test_no_function_hides_the_translator_behind_a_throwaway_underscore():
    hiding = {}
    for path in sorted((ROOT / "gongshu_geo").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "import gettext as _" in text:
            found = _functions_hiding_the_translator(text)
            if found:
                hiding[path.name] = found
    assert not hiding, f"name the throwaway something else than _ in: {hiding}"


def test_the_hidden_translator_check_finds_one():
    source = 'def f(x):\n    a, _ = x\n    raise ValueError(_("no"))\n'
    assert _functions_hiding_the_translator(source) == ["f (line 1)"]
    fine = 'def g(x):\n    y = [a for a, _ in x]\n    raise ValueError(_("no"))\n'
    assert _functions_hiding_the_translator(fine) == []
