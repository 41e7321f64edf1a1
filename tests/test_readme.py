"""The README's "When something is wrong" stays true: its commands, options and outputs."""

import json
import re
import shlex
from pathlib import Path

import pytest

from gongshu_geo.cli import main, make_parser
from gongshu_geo.core.limits import DEFAULT_MAX_INPUT_MB, ENV_MAX_INPUT_MB
from gongshu_geo.core.problems import MAX_LISTED, REPORT_COLUMNS
from gongshu_geo.data.extent import STUDY_AREA_MARGIN_M
from tests.conftest import make_feature

README = Path(__file__).resolve().parent.parent / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## When something is wrong")
    return text[start : text.index("\n## ", start + 1)]


def _example_block() -> str:
    return re.search(r"```\n(\$ gongshu-geo validate.*?)```", _section(), re.S).group(1)


def _commands():
    """Every ``gongshu-geo ...`` command the section shows or names."""
    section = _section()
    shown = re.findall(r"^\$ gongshu-geo (.*)$", section, re.M)
    named = re.findall(r"`gongshu-geo ([^`]*)`", section)
    return shown + named


@pytest.mark.parametrize("command", _commands())
def test_every_command_it_shows_parses(command):
    make_parser().parse_args(shlex.split(command))


def test_every_option_it_names_exists():
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    known = {o for a in parser._actions for o in a.option_strings}
    for p in sub.choices.values():
        known |= {o for a in p._actions for o in a.option_strings}
    named = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", _section()))
    # -vv is -v twice
    unknown = [n for n in named - known if not all(f"-{c}" in known for c in n.lstrip("-"))]
    assert unknown == []
    for command in ("validate", "build", "map", "export"):
        assert "--report" in {o for a in sub.choices[command]._actions for o in a.option_strings}


def test_its_numbers_and_names_are_the_code_s():
    section = _section()
    assert f"the first {MAX_LISTED}," in section
    assert f"more than {DEFAULT_MAX_INPUT_MB:,} MB" in section and ENV_MAX_INPUT_MB in section
    assert f"(plus {STUDY_AREA_MARGIN_M / 1000:g} km)" in section
    columns = re.search(r"`severity` \(.*?\), (.*?) and the whole `problem`", section, re.S)
    listed = ["severity"] + re.findall(r"`(\w+)`", columns.group(1)) + ["problem"]
    assert listed == ["severity", *REPORT_COLUMNS]


def test_its_example_session_is_what_the_commands_print(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    feats = [
        make_feature("2023-GS-014"),
        make_feature("2023-GS-015", status="done"),
        make_feature("2023-GS-015"),
        make_feature("2023-GS-016", geometry={"type": "Point", "coordinates": [30.32, 120.15]}),
    ]
    fc = {"type": "FeatureCollection", "features": feats}
    Path("my_projects.geojson").write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    Path("beijing.csv").write_text("name,lon,lat\nA,116.40,39.90\nB,116.41,39.91\n")
    block = _example_block()
    sessions = re.split(r"^\$ ", block, flags=re.M)[1:]
    code = None
    for session in sessions:
        command, *expected = session.rstrip("\n").split("\n")
        if command == "echo $?":
            assert expected == [str(code)]
            continue
        argv = shlex.split(command)[1:]
        code = main(argv)
        captured = capsys.readouterr()
        assert (captured.out + captured.err).rstrip("\n").split("\n") == expected
    assert Path("problems.csv").exists()
