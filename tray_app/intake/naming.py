"""File-name templates for raster exports that carry no header, e.g.
`{chart}_{last}_{first}_{date:%Y%m%d}_{seq}` matches `A1234_Smith_Jane_20261128_03.png`.

Fields: chart, patnum, id (the patient id, meaning set per source), last, first, date
(with a strftime format), time, seq, and `{*}` to skip text. Unknown names are kept as-is.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

_FIELD = re.compile(r"\{([a-zA-Z_*][a-zA-Z0-9_]*|\*)(?::([^}]*))?\}")
_STRFTIME = {"%Y": r"\d{4}", "%y": r"\d{2}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%H": r"\d{2}",
             "%M": r"\d{2}", "%S": r"\d{2}", "%j": r"\d{3}", "%b": r"[A-Za-z]{3}"}
_DEFAULT_PATTERNS = {"chart": r"[A-Za-z0-9-]+", "patnum": r"\d+", "id": r"[A-Za-z0-9-]+", "seq": r"\d+"}


class TemplateError(ValueError):
    pass


@lru_cache(maxsize=64)
def _compile(template: str) -> tuple[re.Pattern[str], dict[str, str]]:
    pattern, pos, formats, skip = [], 0, {}, 0
    for m in _FIELD.finditer(template):
        pattern.append(re.escape(template[pos : m.start()]))
        name, fmt = m.group(1), m.group(2)
        if name == "*":
            skip += 1
            pattern.append(f"(?P<_skip{skip}>.*?)")
        elif name in formats:
            raise TemplateError(f"field {{{name}}} appears twice in the template")
        elif fmt and name in ("date", "time"):
            regex = re.escape(fmt)
            for directive, rx in _STRFTIME.items():
                regex = regex.replace(re.escape(directive), rx)
            formats[name] = fmt
            pattern.append(f"(?P<{name}>{regex})")
        else:
            formats[name] = ""
            pattern.append(f"(?P<{name}>{_DEFAULT_PATTERNS.get(name, r'.+?')})")
        pos = m.end()
    pattern.append(re.escape(template[pos:]))
    if not formats:
        raise TemplateError("the template has no {fields}")
    return re.compile("".join(pattern), re.IGNORECASE), formats


def validate_template(template: str) -> None:
    _compile(template)


def parse_name(stem: str, template: str) -> dict[str, str] | None:
    """Fields from a file stem, or None when the name does not follow the template."""
    regex, formats = _compile(template)
    m = regex.fullmatch(stem)
    if not m:
        return None
    out = {k: v for k, v in m.groupdict().items() if not k.startswith("_skip") and v is not None}
    for name in ("date", "time"):
        if name in out and formats.get(name):
            try:
                parsed = datetime.strptime(out[name], formats[name])
            except ValueError:
                return None
            out[name] = parsed.strftime("%Y%m%d" if name == "date" else "%H%M%S")
    return out
