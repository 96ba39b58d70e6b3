"""Config dataclasses as typed options: described for forms, command lines and the API, and
built from loose values (form strings, argv, JSON) by one coercion step.

A field's metadata may carry ``help``, ``choices`` (a tuple, or a function returning one,
for registries filled at import time) and ``advanced`` (hidden behind a disclosure on
forms). Every failure is an ``InvalidConfig`` whose messages are sentences: a bad string
never surfaces as a ``TypeError`` or a 500.
"""

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import InvalidConfig

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_KIND_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


@dataclass(frozen=True)
class ConfigOption:
    name: str
    kind: type  # int, float, bool or str
    optional: bool  # None is allowed (blank means None)
    default: object
    help: str = ""
    choices: tuple[str, ...] = ()
    advanced: bool = False
    title: str = ""  # a friendlier name for forms, when the field's own reads poorly ("lr")

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def option(help: str = "", *, choices=(), advanced: bool = False, title: str = "") -> dict:
    """Field metadata: ``field(default=3, metadata=option("passes over the data"))``."""
    return {"help": help, "choices": choices, "advanced": advanced, "title": title}


def config_options(config_cls: type) -> list[ConfigOption]:
    hints = typing.get_type_hints(config_cls)
    options = []
    for f in dataclasses.fields(config_cls):
        kind, optional = _unwrap(hints[f.name], f"{config_cls.__name__}.{f.name}")
        choices = f.metadata.get("choices", ())
        options.append(ConfigOption(
            name=f.name, kind=kind, optional=optional, default=_default(f), help=f.metadata.get("help", ""),
            choices=tuple(choices() if callable(choices) else choices), advanced=f.metadata.get("advanced", False),
            title=f.metadata.get("title", ""),
        ))
    return options


def _unwrap(hint, where: str) -> tuple[type, bool]:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        kinds = [a for a in args if a is not type(None)]
        if len(kinds) == 1 and len(args) == 2:
            return _unwrap(kinds[0], where)[0], True
    if hint in _KIND_WORDS:
        return hint, False
    raise TypeError(f"{where}: options support int, float, bool, str and X | None, not {hint!r}")


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def coerce(opt: ConfigOption, value):
    """``value`` as the option's type; ValueError with a sentence when it cannot be."""
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if opt.optional:
            return None
        raise ValueError(f"{opt.label} needs a value ({_KIND_WORDS[opt.kind]})")
    try:
        return _CONVERT[opt.kind](value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{opt.label}: {value!r} is not {_KIND_WORDS[opt.kind]}") from None


def _to_int(value) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    return int(value) if isinstance(value, int) else int(str(value), 10)


def _to_float(value) -> float:
    if isinstance(value, bool):
        raise TypeError
    number = float(value) if isinstance(value, (int, float)) else float(str(value))
    if math.isinf(number):
        raise ValueError
    return number


def _to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError


def _to_str(value) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


_CONVERT = {int: _to_int, float: _to_float, bool: _to_bool, str: _to_str}


def build_config(config_cls: type, values: Mapping[str, object]):
    """A ``config_cls`` from loose values; options left out keep their defaults.

    Raises ``InvalidConfig`` listing unknown names, values of the wrong type, and what the
    config's own validation (its ``__post_init__``) rejects, all at once where possible.
    """
    options = {opt.name: opt for opt in config_options(config_cls)}
    kwargs, fields, messages = {}, {}, []
    for name, value in values.items():
        opt = options.get(name)
        if opt is None:
            messages.append(f"unknown option {name!r} (options: {', '.join(options)})")
            continue
        try:
            kwargs[name] = coerce(opt, value)
        except ValueError as error:
            fields[name] = [str(error)]
            messages.append(str(error))
    try:
        config = config_cls(**kwargs)  # with the bad values left out, so their neighbours are still checked
    except InvalidConfig as error:
        raise InvalidConfig(messages + error.messages, {**error.fields, **fields}) from None
    except (TypeError, ValueError) as error:  # a family whose validation raises plain ValueError
        raise InvalidConfig(messages + [str(error)], fields) from None
    if messages:
        raise InvalidConfig(messages, fields)
    return config
