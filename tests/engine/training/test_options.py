"""Config dataclasses as typed options: description and coercion from loose values."""

from dataclasses import dataclass, field

import pytest

from retrieval.engine.config import DescriptorTrainConfig
from retrieval.engine.errors import InvalidConfig
from retrieval.engine.options import ConfigOption, build_config, coerce, config_options, option


@dataclass(frozen=True)
class Toy:
    steps: int = field(default=3, metadata=option("how many", advanced=True))
    rate: float = 0.5
    fancy: bool = False
    mode: str = field(default="a", metadata=option("which", choices=("a", "b")))
    limit: int | None = None

    def __post_init__(self):
        problems = [m for bad, m in [(self.steps < 1, "steps must be at least 1"), (self.mode not in "ab", "bad mode")] if bad]
        if problems:
            raise InvalidConfig(problems)


def opt(name: str) -> ConfigOption:
    return {o.name: o for o in config_options(Toy)}[name]


def test_options_describe_the_fields():
    steps, rate, fancy, mode, limit = config_options(Toy)
    assert (steps.kind, steps.default, steps.help, steps.advanced, steps.flag) == (int, 3, "how many", True, "--steps")
    assert (rate.kind, fancy.kind, mode.choices, limit.kind, limit.optional) == (float, bool, ("a", "b"), int, True)
    assert not steps.optional and opt("limit").label == "limit"


def test_dynamic_choices_come_from_the_registry():
    arch = {o.name: o for o in config_options(DescriptorTrainConfig)}["arch"]
    assert {"fmnist_cnn", "resnet34_gap"} <= set(arch.choices)
    assert {o.name: o for o in config_options(DescriptorTrainConfig)}["batch_size"].flag == "--batch-size"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("steps", " 7 ", 7), ("steps", 7, 7), ("steps", 7.0, 7), ("rate", "1e-3", 0.001), ("rate", 2, 2.0),
    ("fancy", "on", True), ("fancy", "No", False), ("fancy", 1, True), ("fancy", True, True),
    ("mode", "b", "b"), ("limit", "", None), ("limit", None, None), ("limit", "12", 12),
])
def test_coerce_accepts(name, value, expected):
    result = coerce(opt(name), value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("steps", "ten", "steps: 'ten' is not a whole number"), ("steps", "2.5", "not a whole number"),
    ("steps", 2.5, "not a whole number"), ("steps", True, "not a whole number"), ("steps", "", "steps needs a value"),
    ("steps", None, "needs a value"), ("steps", [1], "not a whole number"), ("rate", "fast", "rate: 'fast' is not a number"),
    ("rate", "inf", "not a number"), ("fancy", "maybe", "'maybe' is not true or false"), ("fancy", 2, "not true or false"),
    ("mode", 3, "mode: 3 is not text"),
])
def test_coerce_rejects_with_a_sentence(name, value, message):
    with pytest.raises(ValueError, match=message):
        coerce(opt(name), value)


def test_build_config_reports_every_problem_at_once():
    with pytest.raises(InvalidConfig) as info:
        build_config(Toy, {"steps": "x", "rate": "y", "colour": "red", "mode": "c"})
    error = info.value
    assert set(error.fields) == {"steps", "rate"}
    assert any("unknown option 'colour'" in m for m in error.messages)
    assert "bad mode" in error.messages  # the config's own check still ran on the good values
    assert isinstance(error, ValueError) and str(error) == "; ".join(error.messages)


def test_build_config_defaults_and_validation():
    assert build_config(Toy, {}) == Toy()
    assert build_config(Toy, {"steps": "5", "limit": ""}) == Toy(steps=5)
    with pytest.raises(InvalidConfig, match="steps must be at least 1"):
        build_config(Toy, {"steps": "0"})


def test_plain_value_errors_of_a_family_become_invalid_config():
    @dataclass(frozen=True)
    class Plain:
        n: int = 1

        def __post_init__(self):
            if self.n > 5:
                raise ValueError("n is too big")

    with pytest.raises(InvalidConfig, match="n is too big"):
        build_config(Plain, {"n": "6"})


def test_unsupported_field_types_are_refused_at_description():
    @dataclass(frozen=True)
    class Odd:
        sizes: list = field(default_factory=list)

    with pytest.raises(TypeError, match="Odd.sizes"):
        config_options(Odd)


@pytest.mark.parametrize(("values", "fragment"), [
    ({"epochs": "-1"}, "epochs must be at least 1"), ({"batch_size": "0"}, "batch size must be at least 1"),
    ({"device": "tpu"}, "unknown device 'tpu'"), ({"seed": "-3"}, "seed cannot be negative"),
    ({"eval_queries": "0"}, "eval queries must be at least 1"), ({"epochs": "1.5"}, "not a whole number"),
])
def test_descriptor_config_from_strings(values, fragment):
    with pytest.raises(InvalidConfig, match=fragment):
        build_config(DescriptorTrainConfig, values)
