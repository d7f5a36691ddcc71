"""Drop-folder export: for practice-management systems without a write API (Dentrix), or
Open Dental without API keys (the AtoZ folder).

Convention (layout "dentrix", the default)
-----------------------------------------
Per signed study, into the configured drop folder (`export.folder.path`, UNC paths welcome):

    {ChartNumber}_{Last}_{First}_{YYYY-MM-DD}_AI-Findings.pdf      findings report
    {ChartNumber}_{Last}_{First}_{YYYY-MM-DD}_AI-Findings_1.jpg    annotated radiograph(s), 1, 2, …
    {ChartNumber}_{Last}_{First}_{YYYY-MM-DD}_AI-Findings.json     structured findings (sidecar)
    {ChartNumber}_{Last}_{First}_{YYYY-MM-DD}_AI-Patient-Summary.pdf   (only if enabled)

- The date is the study date (else the signing date). ChartNumber is the patient id the imaging
  software gave us (a PatNum if the source is set to patnum).
- Staff attach the files to the patient in Dentrix's Document Center (Dentrix has no
  documented automatic import; the name identifies the patient, the JSON carries the rest).
- Files appear complete or not at all: each is written to a hidden temporary name
  (`.<name>.<pid>.tmp`) in the same folder, flushed to disk, then renamed.
- Names are made safe for Windows: characters `< > : " / \\ | ? *` and control characters
  become `_`, trailing dots/spaces are removed, reserved device names (CON, PRN, AUX, NUL,
  COM1–COM9, LPT1–LPT9) get a leading `_`, and each name is at most 150 characters.
- A name already taken by another file gets ` (2)`, ` (3)`, …; the name chosen is recorded
  before writing, so a retry after a crash rewrites its own file and never makes a copy.
- The JSON sidecar: `{"label", "marker", "report_sha256", "patient": {id, id_kind, last, first,
  birth_date}, "study": {id, uid, date}, "signer", "signed_at", "models", "verified", "automated",
  "images": [{id, kind, sha256, file}], "findings": [{label, tooth_universal, tooth_fdi, surfaces,
  confidence, box, image_id, source, status, note}], "cdt", "chart_note", "demonstration_models"}`.
  An unsigned targeted-automation export has "verified": false and `_AI-Unverified` in place of
  `_AI-Findings`; a demonstration model's report has `AI-Demo-` in place of `AI-` (docs/export.md).

Layout "opendental_atoz" (Open Dental without API keys)
------------------------------------------------------
Files go into the patient's folder of Open Dental's AtoZ store:

    {atoz_root}\\{Letter}\\{ImageFolder}\\_{DefNum}_{ChartNumber}_{Last}_{First}_{YYYY-MM-DD}_AI-Findings.pdf (and .jpg)

ImageFolder is Open Dental's patient folder, the letters of LastFirst followed by the PatNum
(e.g. `S\\SmithJohn15`); an existing folder ending in the PatNum is reused (it keeps its name
after a name change). Open Dental registers the files the next time someone opens the patient in
Imaging, in the image category `_{DefNum}_` names (the prefix is stripped). This layout needs
the PatNum, so the source must give PatNums; no JSON sidecar is written (Open Dental would
import it as a document).
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

from .job import Job, NeedsAttention, RetryLater
from ..review.report import demo_prefix, demonstration_models
from ..store.reports import Report
from .pdf import report_pdf
from .comparison_page import comparison_pages
from .render import encode_image
from ..settings.export import FolderConfig

RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME = 150
_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def safe_component(text: str, max_len: int = 40) -> str:
    """One part of a file name (a patient name, a chart number): no separators, no specials."""
    text = unicodedata.normalize("NFC", str(text or "")).strip()
    text = _BAD.sub("-", text).replace("_", "-")  # "_" separates the fields of the name
    text = re.sub(r"\s+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-. ")
    return text[:max_len] or "unknown"


def safe_filename(name: str, max_len: int = MAX_NAME) -> str:
    """A whole file name made safe for Windows (see the module docstring)."""
    name = unicodedata.normalize("NFC", name)
    name = _BAD.sub("_", name).strip()
    name = name.rstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.split(".")[0].upper().rstrip() in RESERVED:
        stem = "_" + stem
    ext = ext[:10]
    room = max_len - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(". ") or "_"
    return f"{stem}.{ext}" if ext else stem


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass


def base_name(report: Report, study: dict) -> str:
    patient = report.patient
    d = (study or {}).get("study_date") or ""
    if len(d) == 8 and d.isdigit():
        date = f"{d[:4]}-{d[4:6]}-{d[6:8]}"
    else:
        date = report.time[:10] or "undated"
    return "_".join([safe_component(patient.id or "noid", 20), safe_component(patient.last),
                     safe_component(patient.first), date])


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def atoz_patient_folder(root: Path, pat_num: int, last: str, first: str) -> Path:
    """Open Dental's folder for the patient: an existing `<letters><PatNum>` folder, else the one OD would make."""
    pattern = re.compile(rf"^[^\W\d_]*{pat_num}$")
    found = []
    if root.is_dir():
        for letter in root.iterdir():
            if letter.is_dir() and len(letter.name) == 1 and letter.name.isalpha():
                found += [p for p in letter.iterdir() if p.is_dir() and pattern.match(p.name)]
    if len(found) > 1:
        raise NeedsAttention(f"the AtoZ folder has {len(found)} folders for PatNum {pat_num}; ask your Open Dental "
                             "support which one is in use")
    if found:
        return found[0]
    name = _letters(last + first)
    if not name:
        raise NeedsAttention("the patient's name has no letters, so Open Dental's AtoZ folder cannot be named")
    return root / name[0].upper() / f"{name}{pat_num}"


class FolderExporter:
    name = "folder"

    def __init__(self, settings: FolderConfig):
        self.settings = settings

    def target_dir(self, job: Job) -> tuple[Path, str]:
        s = self.settings
        if s.layout == "opendental_atoz":
            root = Path(s.atoz_root)
            if not root.is_dir():
                raise RetryLater(f"Open Dental's AtoZ folder {root} cannot be reached; the export waits for it")
            patient = job.report.patient
            pid = str(patient.id or "")
            if patient.id_kind != "patnum" or not pid.isdigit():
                raise NeedsAttention("the AtoZ folder export needs the Open Dental PatNum, but these radiographs carry "
                                     "a chart number; use the Open Dental API export, or set the watch folder to "
                                     "patnum")
            folder = atoz_patient_folder(root, int(pid), patient.last, patient.first)
            folder.mkdir(parents=True, exist_ok=True)
            return folder, f"_{int(s.atoz_def_num)}_" if s.atoz_def_num else ""
        folder = Path(s.path)
        if not folder.is_dir():
            raise RetryLater(f"the drop folder {folder} cannot be reached; the export waits for it")
        return folder, ""

    def plan(self, job: Job) -> list[tuple[str, str]]:
        s = self.settings
        base = base_name(job.report, job.study)
        what = "AI-Unverified" if job.report.is_automated else "AI-Findings"
        demo = bool(demonstration_models(job.report))
        if demo:  # staff see it in the name before they open the file
            what = what.replace("AI-", "AI-Demo-")
        parts = []
        if s.write_pdf:
            parts.append(("pdf", f"{base}_{what}.pdf"))
        if s.write_images:
            for n, im in enumerate(job.report.images_to_render(), 1):
                parts.append((f"img{im['id']}", f"{base}_{what}_{n}.{s.image_format}"))
        if s.write_patient_summary and job.report.drafts.get("patient_summary"):
            parts.append(("patient_pdf", f"{base}_{'AI-Demo' if demo else 'AI'}-Patient-Summary.pdf"))
        if s.write_json and s.layout == "dentrix":
            parts.append(("json", f"{base}_{what}.json"))
        return parts

    def export(self, job: Job) -> dict:
        folder, prefix = self.target_dir(job)
        plan = self.plan(job)
        ours = {p.target for p in job.parts() if p.target}
        files: dict[str, str] = {}
        written = 0
        for name, wanted in plan:
            part = job.part(name)
            if part.state == "done":
                files[name] = part.target
                continue
            target = part.target or self._free_name(folder, safe_filename(prefix + wanted), ours)
            ours.add(target)
            files[name] = target
            data = self.data(job, name, files)
            job.begin(name, target)
            try:
                atomic_write(folder / target, data)
            except PermissionError as exc:
                raise RetryLater(f"{target} is open in another program or the folder is read-only; the export will "
                                 "be tried again") from exc
            job.done(name, target)
            written += 1
        return {"folder": str(folder), "files": files, "written": written}

    @staticmethod
    def _free_name(folder: Path, name: str, ours: set[str]) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        n = 1
        candidate = name
        while candidate in ours or (folder / candidate).exists():
            n += 1
            candidate = safe_filename(f"{stem} ({n})" + (f".{ext}" if ext else ""))
        return candidate

    def data(self, job: Job, name: str, files: dict[str, str]) -> bytes:
        report = job.report
        s = self.settings
        image = job.rendered

        if name.startswith("img"):
            return encode_image(image(report.image(int(name[3:]))), s.image_format, s.jpeg_quality)
        if name in ("pdf", "patient_pdf"):
            imgs = [(im, image(im)) for im in report.images_to_render()]
            before_after = comparison_pages(job.db, job.study_id, report) if name == "patient_pdf" else []
            return report_pdf(report, imgs, study=job.study, marker=job.marker(name), patient_friendly=name != "pdf",
                              comparisons=before_after)
        if name == "json":
            return json.dumps(sidecar(job, files), indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
        raise ValueError(f"unknown export part {name}")


def sidecar(job: Job, files: dict[str, str]) -> dict:
    report = job.report
    patient = report.patient
    return {
        "label": demo_prefix(report) + report.label, "marker": job.base_marker,
        "demonstration_models": demonstration_models(report), "report_sha256": job.report_sha256,
        "patient": {"id": patient.id, "id_kind": patient.id_kind, "last": patient.last, "first": patient.first,
                    "birth_date": patient.birth_date},
        "study": {"id": job.study_id, "uid": report.study_uid, "date": (job.study or {}).get("study_date", "")},
        "signer": report.signer.to_dict() if report.signer else None, "signed_at": report.signed_at,
        "models": report.models, "verified": not report.is_automated, "automated": report.automated,
        "images": [{"id": im["id"], "kind": im.get("kind"), "sha256": im.get("sha256"),
                    "file": files.get(f"img{im['id']}")} for im in report.images],
        "findings": [{"label": f.get("label"), "tooth_universal": f.get("tooth_universal") or None,
                      "tooth_fdi": f.get("tooth_fdi"), "surfaces": f.get("surfaces") or "",
                      "confidence": f.get("confidence"), "box": [f.get("x1"), f.get("y1"), f.get("x2"), f.get("y2")],
                      "image_id": f.get("image_id"), "source": f.get("source"), "status": f.get("status"),
                      "note": f.get("note") or ""} for f in report.findings],
        "cdt": report.cdt, "chart_note": report.drafts.get("chart_note", ""),
        "files": files,
    }
