import pytest

from policyengine.errors import PolicyError
from policyengine.policy.yamlload import MAX_BYTES, load_yaml_text


def test_positions_point_at_keys_and_values():
    data, positions = load_yaml_text("id: X\nrequire:\n  enabled: true\n", "p.yaml")
    assert data == {"id": "X", "require": {"enabled": True}}
    assert positions[("require", "enabled")] == (3, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/object/apply:os.system ['true']\n", "YAML tag"),
        ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: [1,\n", "invalid YAML"),
    ],
)
def test_unsafe_or_invalid_yaml_is_refused_with_a_position(text, message):
    with pytest.raises(PolicyError) as err:
        load_yaml_text(text, "bad.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("bad.yaml:")
    assert err.value.location.line is not None


def test_alias_bomb_is_refused_before_expansion():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(
            f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    with pytest.raises(PolicyError, match="anchors and aliases"):
        load_yaml_text("\n".join(lines) + "\n", "bomb.yaml")


def test_oversized_file_is_refused():
    with pytest.raises(PolicyError, match="larger than"):
        load_yaml_text("a: " + "x" * (MAX_BYTES + 1), "big.yaml")


def test_nul_byte_is_one_line_with_file_line_and_column():
    with pytest.raises(PolicyError) as info:
        load_yaml_text("id: X\ntitle: a\x00b\n", "p.yaml")
    assert str(info.value) == "p.yaml:2:9: E001 invalid YAML: NUL byte (not allowed in YAML)"
