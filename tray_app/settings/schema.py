"""One way to read a settings table from TOML: a dataclass whose typed fields, with their
defaults, are the table's keys.

`read(cls, raw, name)` builds the table from a parsed TOML dict, converting and checking
every value against its field's type (an int is accepted for a float, a whole float for an
int), recursing into sub-tables and `[[arrays of tables]]`, then runs the table's own
`validate()`. Every problem is phrased with the key's dotted name, so a front-desk person (or
whoever they phone) can find the line to fix.

Unknown keys and tables are reported the same way at every level ("unknown setting
export.opendental.colour (did you mean …?)"). Strictness is one rule: a dict handed to
`from_dict` (a program, a test) with an unknown key is refused; the settings file on disk is
hand-edited, so there an unknown key is a warning (`strict=False`): it is ignored and named,
and the service keeps running with the keys it knows. A value of the wrong type or one that
fails validation is an error in both cases.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Any, TypeVar

T = TypeVar("T", bound="Table")


class SettingsError(ValueError):
    """A settings problem, phrased for the person who can fix it."""


class Table:
    """Base of every settings table. A subclass is a dataclass; every field has a default."""

    TABLE = ""  # its dotted name in the settings file, for messages ("export.dicom")

    def validate(self) -> list[str]:
        """Problems with the values (the types are already right); [] when usable."""
        return []

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[T], raw: dict[str, Any] | None) -> T:
        """The table from `raw`, refusing unknown keys (see the module docstring)."""
        return read(cls, raw, cls.TABLE)[0]


def read(cls: type[T], raw: dict[str, Any] | None, name: str = "", *, strict: bool = True) -> tuple[T, list[str]]:
    """(table, unknown-key warnings). Raises SettingsError naming every problem at once."""
    errors: list[str] = []
    unknown: list[str] = []
    table = _table(cls, {} if raw is None else raw, name, errors, unknown)
    problems = errors + (unknown if strict else []) + table.validate()
    if problems:
        raise SettingsError("; ".join(dict.fromkeys(problems)))
    return table, unknown


def _dotted(name: str, key: str) -> str:
    return f"{name}.{key}" if name else key


def _table(cls: type[T], raw: Any, name: str, errors: list[str], unknown: list[str]) -> T:
    if not isinstance(raw, dict):
        errors.append(f"[{name}] must be a table of settings (got {raw!r})")
        return cls()
    types = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in raw.items():
        if key not in known:
            unknown.append(_unknown(name, key, known))
            continue
        converted = _value(types[key], value, _dotted(name, key), errors, unknown)
        if converted is not _WRONG:
            values[key] = converted
    return cls(**values)


_WRONG = object()  # a value of the wrong type: reported, and the field keeps its default


def _value(tp: Any, value: Any, key: str, errors: list[str], unknown: list[str]) -> Any:
    if isinstance(tp, type) and issubclass(tp, Table):
        return _table(tp, value, key, errors, unknown) if isinstance(value, dict) else _wrong(
            errors, f"[{key}] must be a table of settings (got {value!r})")
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            return _wrong(errors, f"{key} must be a list in square brackets, e.g. [\"a\", \"b\"] (got {value!r})")
        items = [_value(item, v, key, errors, unknown) for v in value]
        return _WRONG if _WRONG in items else items
    return _scalar(tp, value, key, errors)


def _scalar(tp: Any, value: Any, key: str, errors: list[str]) -> Any:
    if tp is bool:
        return value if isinstance(value, bool) else _wrong(errors, f"{key} must be true or false (got {value!r})")
    if tp is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)  # `port = 104.0` means 104
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return _wrong(errors, f"{key} must be a whole number (got {value!r})")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return _wrong(errors, f"{key} must be a number (got {value!r})")
    if tp is str:
        return value if isinstance(value, str) else _wrong(errors, f"{key} must be text in quotes (got {value!r})")
    raise TypeError(f"settings field {key} has a type the settings reader does not know: {tp!r}")


def _wrong(errors: list[str], message: str) -> object:
    errors.append(message)
    return _WRONG


def _unknown(name: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {_dotted(name, close[0])}?"
    else:
        hint = f"{f'[{name}]' if name else 'the settings file'} knows {', '.join(known)}"
    return f"unknown setting {_dotted(name, key)} ({hint})"
