"""Findings of a demonstration model (the bundled dental-demo, whose manifest says "demonstration
only — not for clinical use") never reach a chart unmarked: everything written outside the app
says so in its first line, and exporting them at all needs `export.allow_demonstration_model`."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import zlib

import pytest
from pydicom import dcmread

from tray_app.store import audit
from tray_app.export import dicom_results as dr
from tray_app.export import pdf, render
from tray_app.export.outbox import Outbox
from tray_app.store.reports import Report
from tray_app.settings.export import ExportConfig, ExportConfigError, FolderConfig

from .conftest import od_config

DEMO = "DEMONSTRATION MODEL"


def as_demo_model(ws) -> None:
    """The workspace's findings as if the bundled demonstration model had made them."""
    with ws.db.tx() as c:
        c.execute("UPDATE findings SET model_name='dental-demo', model_version='1.0.0'")
        c.execute("UPDATE images SET model_name='dental-demo', model_version='1.0.0' WHERE model_name<>''")


def allowed(cfg: ExportConfig) -> ExportConfig:
    return dataclasses.replace(cfg, allow_demonstration_model=True)


def pdf_text(data: bytes) -> str:
    """The text drawn on the pages of a PDF written with the standard fonts (see `helvetica`)."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):  # reportlab: ASCII85 of Flate
        try:
            raw = base64.a85decode(stream.strip().removesuffix(b"~>"), ignorechars=b" \t\r\n")
            out.append(zlib.decompress(raw).decode("latin-1"))
        except (ValueError, zlib.error):
            continue  # an image
    text = "".join("".join(re.findall(r"\((.*?)\) Tj", page)) for page in out)
    return text.replace("\\(", "(").replace("\\)", ")").replace("\\227", "—")


@pytest.fixture
def helvetica(monkeypatch):
    # an embedded TrueType subset stores glyph numbers, not text; the standard fonts keep it readable
    monkeypatch.setattr(pdf, "_pdf_fonts", lambda: ("Helvetica", "Helvetica-Bold"))


def test_a_demonstration_models_report_is_held_back_by_default(workspace, od_server, od_keys, clock):
    ws = workspace
    as_demo_model(ws)
    api = ws.api()
    sid = ws.studies["A"]
    warnings = api.safety_warnings(sid)
    assert any("demonstration model (dental-demo 1.0.0)" in w and "Settings → Export" in w for w in warnings)
    assert api.preview_export(sid)["note"].startswith(DEMO)
    ws.sign("A")
    [r] = Outbox(ws.db, od_config(od_server), clock=clock).drain_once()
    assert r["state"] == "needs_attention"
    assert "demonstration model (dental-demo 1.0.0)" in r["reason"]
    assert "Export findings of a demonstration model" in r["reason"] and "retry" in r["reason"]
    assert od_server.state.requests == []  # nothing was sent anywhere
    assert ws.db.one("SELECT status FROM studies WHERE id=?", (sid,))["status"] == "export_failed"
    # the practice turns the setting on and retries: it goes out, and the audit log says under what
    outbox = Outbox(ws.db, allowed(od_config(od_server)), clock=clock)
    assert outbox.retry(actor="front desk") == 1
    [r] = outbox.drain_once()
    assert r["state"] == "done", r["reason"]
    entry = ws.db.one("SELECT data FROM audit WHERE event='export_demonstration_model'")
    assert json.loads(entry["data"])["models"] == ["dental-demo 1.0.0"]
    assert audit.verify(ws.db.conn()).ok


def test_everything_written_to_open_dental_says_demonstration_first(workspace, od_server, od_keys, clock,
                                                                   helvetica):
    ws = workspace
    as_demo_model(ws)
    ws.sign("A")
    [r] = Outbox(ws.db, allowed(od_config(od_server, popup_for_urgent=True)), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    reqs = [q for q in od_server.state.requests if q["method"] == "POST"]
    docs = [q["json"] for q in reqs if q["path"] == "/documents/Upload"]
    assert len(docs) == 3 and all(d["Description"].startswith(DEMO) for d in docs)
    [note] = [q["json"]["Note"] for q in reqs if q["path"] == "/commlogs"]
    first, second = note.splitlines()[:2]
    assert first.startswith(DEMO) and "dental-demo 1.0.0" in first and "not for" in first
    assert second.startswith("AI-Assisted Preliminary Findings")
    [pdf] = [d for d in docs if d["extension"] == ".pdf"]
    text = pdf_text(base64.b64decode(pdf["rawBase64"]))
    assert text.startswith(DEMO) and text.index("(dental-demo 1.0.0)") < text.index("Radiograph findings report")


def test_drop_folder_names_and_files_say_demonstration(workspace, tmp_path, clock, helvetica):
    ws = workspace
    as_demo_model(ws)
    drop = tmp_path / "drop"
    drop.mkdir()
    ws.sign("B", destinations=("folder",))
    cfg = ExportConfig(destinations=["folder"], folder=FolderConfig(path=str(drop)), allow_demonstration_model=True)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    base = "C-77_Doe_Jane_2026-11-28_AI-Demo-Findings"
    names = sorted(p.name for p in drop.iterdir())
    assert names == [f"{base}.json", f"{base}.pdf", f"{base}_1.jpg", f"{base}_2.jpg"], names
    side = json.loads((drop / f"{base}.json").read_text(encoding="utf-8"))
    assert side["label"].startswith(DEMO) and side["demonstration_models"] == ["dental-demo 1.0.0"]
    text = pdf_text((drop / f"{base}.pdf").read_bytes())
    assert text.startswith(DEMO) and text.index("(dental-demo 1.0.0)") < text.index("Radiograph findings report")


def test_annotated_image_banner_starts_with_demonstration(workspace):
    ws = workspace
    as_demo_model(ws)
    ws.sign("B", destinations=())
    snap = Report.from_json(ws.db.one("SELECT snapshot FROM reports WHERE study_id=?", (ws.studies["B"],))["snapshot"])
    assert snap.demonstration_models == ["dental-demo 1.0.0"]
    lines = []
    real = render.ImageDraw.ImageDraw.text

    def spy(self, xy, text, *a, **kw):
        lines.append(text)
        return real(self, xy, text, *a, **kw)

    render.ImageDraw.ImageDraw.text = spy
    try:
        render.render_study_image(ws.db, snap, snap.images_to_render()[0])
    finally:
        render.ImageDraw.ImageDraw.text = real
    banner = lines[-3 - len({f["label"] for f in snap.findings
                              if f["image_id"] == snap.images_to_render()[0]["id"]}):]
    assert banner[0].startswith(DEMO), banner


def test_dicom_objects_say_demonstration_first(workspace):
    ws = workspace
    as_demo_model(ws)
    ws.sign("B", destinations=())
    report = ws.db.one("SELECT snapshot, sha256 FROM reports WHERE study_id=?", (ws.studies["B"],))
    snap, sha = Report.from_json(report["snapshot"]), report["sha256"]
    im = snap.images_to_render()[0]
    src = dr.read_source(ws.db, im["id"])
    gsps = dcmread(io.BytesIO(dr.encode(dr.build_gsps(snap, im, src, report_sha256=sha))))
    texts = [t.UnformattedTextValue for ann in gsps.GraphicAnnotationSequence
             for t in getattr(ann, "TextObjectSequence", []) if "GraphicGroupID" not in t]
    assert texts[0].startswith(DEMO) and gsps.ContentDescription.startswith(DEMO)
    assert gsps.SeriesDescription.startswith(DEMO)
    from PIL import Image

    sc = dcmread(io.BytesIO(dr.encode(dr.build_sc(snap, im, Image.new("RGB", (40, 30)), src, report_sha256=sha,
                                                  study={}))))
    assert sc.ImageComments.startswith(DEMO) and sc.SeriesDescription.startswith(DEMO)


def test_a_report_of_an_ordinary_model_is_not_marked(workspace, od_server, od_keys, clock):
    ws = workspace  # the test stub's manifest says "test stub"
    ws.sign("A")
    [r] = Outbox(ws.db, od_config(od_server), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    bodies = [q["json"] for q in od_server.state.requests if q["method"] == "POST"]
    assert not any(DEMO in json.dumps(b) for b in bodies)


def test_the_setting_is_validated_and_off_by_default():
    assert ExportConfig().allow_demonstration_model is False
    assert ExportConfig.from_dict({"allow_demonstration_model": True}).allow_demonstration_model is True
    with pytest.raises(ExportConfigError, match="allow_demonstration_model must be true or false"):
        ExportConfig.from_dict({"allow_demonstration_model": "yes"})


def test_the_demo_workspace_turns_it_on(tmp_path, monkeypatch):
    from tray_app.config import Config, Paths
    from tray_app.demo import workspace

    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(tmp_path / "demo"))
    monkeypatch.setattr(workspace, "seed_workspace", lambda folder: 0)
    workspace.run_demo(headless=True, once=True, explicit_headless=True, run_service=None)
    assert Config.load(Paths.resolve().config_file).export.allow_demonstration_model is True
