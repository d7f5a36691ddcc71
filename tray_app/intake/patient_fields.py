"""Who an incoming image belongs to: from its DICOM header, or from its file name by the
source's name template when the file has no header (or the header names nobody)."""

from __future__ import annotations

from pathlib import Path

from ..config import SourceConfig
from ..store.studies import patient_key
from .decode import DecodedImage
from .naming import TemplateError, parse_name


def patient_of(source: SourceConfig | None, path: Path, decoded: DecodedImage) -> dict[str, str]:
    id_kind = source.patient_id if source else "chartnumber"
    meta = decoded.meta
    pid, last, first, birth, study_date = (meta.get("patient_id", ""), meta.get("patient_last", ""),
                                           meta.get("patient_first", ""), meta.get("birth_date", ""),
                                           meta.get("study_date", ""))
    if decoded.fmt != "dicom" or not (pid or last):
        template = source.name_template if source else SourceConfig(path="").name_template
        try:
            fields = parse_name(path.stem, template) or {}
        except TemplateError:
            fields = {}
        if fields:
            if "patnum" in fields:
                pid, id_kind = fields["patnum"], "patnum"
            elif "chart" in fields:
                pid, id_kind = fields["chart"], "chartnumber"
            elif "id" in fields:
                pid = fields["id"]
            last, first = fields.get("last", last), fields.get("first", first)
            birth = fields.get("birth", birth)
            study_date = fields.get("date", study_date)
            meta["name_fields"] = {k: v for k, v in fields.items() if k not in ("last", "first")}
    if pid:
        key = patient_key(id_kind, pid)
    elif last:
        key = f"name:{last.upper()}^{first.upper()}^{birth}"
    else:
        key = ""
    return {"key": key, "id": pid, "id_kind": id_kind if pid else "", "name": f"{last}^{first}".strip("^"),
            "birth_date": birth, "study_date": study_date}
