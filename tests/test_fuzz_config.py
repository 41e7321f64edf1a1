"""Fuzzing the project file (TOML) reader: only our own errors escape, naming the file."""

from hypothesis import given
from hypothesis import strategies as st

from gongshu_geo.config import CONFIG_KEYS, read_config, template_text
from tests._fuzz import FUZZ, only_own_errors

_toml_values = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8).map(lambda t: '"' + t.replace("\\", "/").replace('"', "'") + '"'),
    st.sampled_from(["[]", "[1, 2]", '["a.csv", 3]', "{}", "1979-05-27", "inf", "nan", '""']),
)


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    return str(value)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(tmp_path, data):
    path = tmp_path / "gongshu.toml"
    path.write_bytes(data)
    only_own_errors(read_config, path)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.one_of(st.sampled_from([k.name for k in CONFIG_KEYS]), st.text(max_size=6)),
            _toml_values,
        ),
        max_size=6,
    )
)
def test_random_keys_and_values(tmp_path, pairs):
    lines = []
    for key, value in pairs:
        table, _, name = key.rpartition(".")
        safe = "".join(c for c in name if c.isalnum() or c in "_-") or "k"
        lines.append(
            f"[{table}]\n{safe} = {_literal(value)}" if table else f"{safe} = {_literal(value)}"
        )
    path = tmp_path / "gongshu.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    only_own_errors(read_config, path)


@FUZZ
@given(st.integers(0, 4000), st.text(max_size=5))
def test_template_with_a_splice(tmp_path, at, junk):
    text = template_text()
    at = min(at, len(text))
    path = tmp_path / "gongshu.toml"
    path.write_text(text[:at] + junk + text[at:], encoding="utf-8")
    only_own_errors(read_config, path)
