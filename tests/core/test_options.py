from __future__ import annotations

import math

import pytest

from assetgen import InvalidOptionsError, Options, option


class Opts(Options):
    truncation: float = option(0.7, "Pull toward the average.", ge=0.0, le=1.0)
    steps: int = option(3, "Steps.", ge=1, le=10)
    flip: bool = option(False, "Mirror.")
    style: str = option("a", "Style.", choices=("a", "b"))
    prompt: str = option("", "Prompt.", max_length=20)
    mix_seed: int | None = option(None, "Second seed.", ge=0)
    attributes: dict[str, float] = option({}, "Strengths.", ge=-3.0, le=3.0)


def test_defaults_and_values() -> None:
    opts = Opts.parse({"truncation": 0.5, "steps": 4})
    assert opts.truncation == 0.5 and opts.steps == 4 and opts.flip is False
    assert opts.to_dict()["style"] == "a"


def test_unknown_key_lists_allowed() -> None:
    with pytest.raises(
        InvalidOptionsError, match=r"unknown option 'trunc'; allowed options: .*truncation"
    ):
        Opts.parse({"trunc": 1})


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("truncation", 1.5, "from 0 to 1"),
        ("truncation", -0.1, "from 0 to 1"),
        ("truncation", math.nan, "from 0 to 1"),
        ("truncation", math.inf, "from 0 to 1"),
        ("truncation", "0.5", "a number"),
        ("steps", 2.5, "an integer from 1 to 10"),
        ("steps", True, "an integer"),
        ("steps", 11, "an integer from 1 to 10"),
        ("flip", 1, "true or false"),
        ("style", "c", "one of 'a', 'b'"),
        ("prompt", "x" * 21, "at most 20 characters"),
        ("prompt", "a\x00b", "NUL"),
        ("mix_seed", -1, ">= 0"),
        ("attributes", {"red": 5.0}, "red=5 is out of range"),
        ("attributes", {"red": "x"}, "red is not a number"),
        ("attributes", [1, 2], "name:float pairs"),
    ],
)
def test_bad_values_name_option_value_and_range(key: str, value: object, fragment: str) -> None:
    with pytest.raises(InvalidOptionsError) as err:
        Opts.parse({key: value})
    assert f"option '{key}'" in str(err.value)
    assert fragment in str(err.value)
    assert err.value.parameter == key


def test_text_parsing_from_command_line() -> None:
    opts = Opts.parse(
        {
            "truncation": "0.25",
            "steps": "7",
            "flip": "yes",
            "mix_seed": "none",
            "attributes": "red:1.5, glasses:-1",
        },
        from_text=True,
    )
    assert (opts.truncation, opts.steps, opts.flip, opts.mix_seed) == (0.25, 7, True, None)
    assert opts.attributes == {"glasses": -1.0, "red": 1.5}
    assert Opts.parse({"attributes": '{"red": 2}'}, from_text=True).attributes == {"red": 2.0}
    for key, text in [
        ("steps", "3.0"),
        ("flip", "maybe"),
        ("truncation", "nan"),
        ("attributes", "red"),
    ]:
        with pytest.raises(InvalidOptionsError, match=key):
            Opts.parse({key: text}, from_text=True)


def test_json_schema_describes_every_field() -> None:
    schema = Opts.json_schema()
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert set(props) == {s.name for s in Opts.specs()}
    assert props["truncation"] == {
        "description": "Pull toward the average.",
        "type": "number",
        "minimum": 0.0,
        "maximum": 1.0,
        "default": 0.7,
    }
    assert props["style"]["enum"] == ["a", "b"]
    assert props["mix_seed"]["type"] == ["integer", "null"]
    assert props["attributes"]["type"] == "object"
    assert all(p["description"] for p in props.values())


def test_options_are_frozen_and_mutable_defaults_not_shared() -> None:
    a, b = Opts.parse({}), Opts.parse({})
    with pytest.raises(AttributeError):
        a.steps = 5  # type: ignore[misc]
    assert a.attributes is not b.attributes


def test_undeclared_field_is_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match="option"):

        class Bad(Options):  # noqa: F841
            x: int = 3
