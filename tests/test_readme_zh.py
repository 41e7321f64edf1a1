"""README.zh-CN.md stays in step with README.md: the same sections and the same commands."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.M | re.S)


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def headings(text: str) -> list:
    """(level, inline code spans) of every Markdown heading outside code blocks."""
    prose = FENCE.sub("", text)
    found = re.findall(r"^(#{1,6})\s+(.+?)\s*$", prose, re.M)
    return [(len(marks), re.findall(r"`([^`]+)`", title)) for marks, title in found]


def code_blocks(text: str) -> list:
    """(info string, commands) of every fenced block; comments may be translated, so are dropped."""
    blocks = []
    for info, body in FENCE.findall(text):
        commands = []
        for line in body.splitlines():
            line = re.sub(r"(^|\s)#(\s.*)?$", "", line).rstrip()
            if line.strip():
                commands.append(line)
        blocks.append((info.strip(), commands))
    return blocks


def test_headings_map_one_to_one_in_order():
    en, zh = headings(_read("README.md")), headings(_read("README.zh-CN.md"))
    assert [level for level, _ in zh] == [level for level, _ in en], (
        "README.zh-CN.md must have a heading for each heading of README.md, at the same "
        f"level and in the same order: {len(en)} in README.md, {len(zh)} in README.zh-CN.md"
    )
    for (_, en_code), (_, zh_code) in zip(en, zh, strict=True):
        assert zh_code == en_code  # e.g. "What `gongshu-geo build` writes"


def test_every_code_block_has_the_same_commands():
    en, zh = code_blocks(_read("README.md")), code_blocks(_read("README.zh-CN.md"))
    assert len(zh) == len(en), f"{len(en)} code blocks in README.md, {len(zh)} in README.zh-CN.md"
    for number, (a, b) in enumerate(zip(en, zh, strict=True), start=1):
        assert b == a, f"code block {number} differs"


def test_each_readme_links_to_the_other_and_the_quick_start_is_the_same():
    en, zh = _read("README.md"), _read("README.zh-CN.md")
    assert "(README.zh-CN.md)" in en and "(README.md)" in zh
    assert code_blocks(zh)[0] == code_blocks(en)[0]
    assert re.search(r"^## Quick start$", en, re.M)


def test_the_checks_would_catch_a_drift():
    text = "# T\n\n## A `x`\n\n```bash\ngongshu-geo build  # a comment\n```\n"
    assert code_blocks(text) == [("bash", ["gongshu-geo build"])]
    assert headings(text) == [(1, []), (2, ["x"])]
    # a translated comment is allowed, a changed command is not
    assert code_blocks(text.replace("a comment", "注释")) == code_blocks(text)
    assert code_blocks(text.replace("build", "map")) != code_blocks(text)
    # a '#' inside a command (a URL fragment, a quoted string) is not a comment
    assert code_blocks("```\ncurl http://x/#top\n```\n") == [("", ["curl http://x/#top"])]


@pytest.mark.parametrize("name", ["README.md", "README.zh-CN.md"])
def test_local_links_resolve(name):
    text = FENCE.sub("", _read(name))
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (ROOT / target).exists(), f"{name}: link to {target} does not resolve"
