"""Drop-folder export (Dentrix convention and Open Dental AtoZ), file-name safety, atomic writes."""

from __future__ import annotations

import json

import pytest

from tray_app.export.folder import atoz_patient_folder, safe_component, safe_filename
from tray_app.export.job import Job
from tray_app.export.outbox import Outbox
from tray_app.settings.export import ExportConfig, FolderConfig


def folder_config(path, **kw):
    return ExportConfig(destinations=["folder"], folder=FolderConfig(path=str(path), **kw))


def test_dentrix_drop_folder_convention(workspace, tmp_path, clock):
    ws = workspace
    drop = tmp_path / "drop"
    drop.mkdir()
    ws.sign("B", destinations=("folder",))
    [r] = Outbox(ws.db, folder_config(drop), clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    names = sorted(p.name for p in drop.iterdir())
    base = "C-77_Doe_Jane_2026-11-28_AI-Findings"
    assert names == [f"{base}.json", f"{base}.pdf", f"{base}_1.jpg", f"{base}_2.jpg"]
    assert (drop / f"{base}.pdf").read_bytes().startswith(b"%PDF")
    assert (drop / f"{base}_1.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    side = json.loads((drop / f"{base}.json").read_text(encoding="utf-8"))
    assert side["label"] == "AI-Assisted Preliminary Findings" and side["patient"]["id"] == "C-77"
    assert side["patient"]["last"] == "Doe" and side["signer"]["name"] == "Dr X"
    assert len(side["findings"]) == 4 and all(len(f["box"]) == 4 for f in side["findings"])
    assert {im["file"] for im in side["images"]} == {f"{base}_1.jpg", f"{base}_2.jpg"}
    assert ws.db.one("SELECT status FROM studies WHERE id=?", (ws.studies["B"],))["status"] == "exported"


def test_collisions_and_crash_between_write_and_commit(workspace, tmp_path, clock, monkeypatch):
    ws = workspace
    drop = tmp_path / "drop"
    drop.mkdir()
    base = "C-77_Doe_Jane_2026-11-28_AI-Findings"
    (drop / f"{base}.pdf").write_bytes(b"somebody else's file")
    ws.sign("B", destinations=("folder",))

    class Crash(BaseException):
        pass

    real_done, calls = Job.done, [0]

    def crash_on_second(self, *a, **kw):
        calls[0] += 1
        if calls[0] == 2:
            raise Crash()
        return real_done(self, *a, **kw)

    monkeypatch.setattr(Job, "done", crash_on_second)
    cfg = folder_config(drop)
    with pytest.raises(Crash):
        Outbox(ws.db, cfg, clock=clock).drain_once()
    clock.advance(cfg.retry.lease_seconds + 1)
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "done"
    names = sorted(p.name for p in drop.iterdir())
    assert names == [f"{base} (2).pdf", f"{base}.json", f"{base}.pdf", f"{base}_1.jpg", f"{base}_2.jpg"]
    assert (drop / f"{base}.pdf").read_bytes() == b"somebody else's file"  # never overwritten
    assert not [p for p in drop.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_unreachable_drop_folder_waits(workspace, tmp_path, clock):
    ws = workspace
    ws.sign("B", destinations=("folder",))
    [r] = Outbox(ws.db, folder_config(tmp_path / "offline-share"), clock=clock).drain_once()
    assert r["state"] == "failed" and "cannot be reached" in r["reason"] and r["next_attempt_at"]


def test_atoz_layout(workspace, tmp_path, clock):
    ws = workspace
    root = tmp_path / "OpenDentImages"
    (root / "S").mkdir(parents=True)
    (root / "S" / "SmithJane1001").mkdir()  # the patient's existing folder (named before a name change)
    ws.sign("A", destinations=("folder",))
    cfg = ExportConfig(destinations=["folder"], folder=FolderConfig(layout="opendental_atoz", atoz_root=str(root),
                                                                   atoz_def_num=52))
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "done", r["reason"]
    names = sorted(p.name for p in (root / "S" / "SmithJane1001").iterdir())
    assert names == ["_52_1001_Doe_Jane_2026-11-28_AI-Findings.pdf", "_52_1001_Doe_Jane_2026-11-28_AI-Findings_1.jpg",
                     "_52_1001_Doe_Jane_2026-11-28_AI-Findings_2.jpg"]
    assert atoz_patient_folder(root, 77, "O'Brien", "Ann") == root / "O" / "OBrienAnn77"
    ws.sign("B", destinations=("folder",))  # chart numbers cannot name an AtoZ folder
    [r] = Outbox(ws.db, cfg, clock=clock).drain_once()
    assert r["state"] == "needs_attention" and "PatNum" in r["reason"]


@pytest.mark.parametrize("raw,expected", [
    ("CON.pdf", "_CON.pdf"), ("nul", "_nul"), ("LPT9.txt", "_LPT9.txt"), ("COM1.x.jpg", "_COM1.x.jpg"),
    ('a<b>c:d"e/f\\g|h?i*j.pdf', "a_b_c_d_e_f_g_h_i_j.pdf"), ("name. . ", "name"), ("ok.json", "ok.json"),
])
def test_safe_filename(raw, expected):
    assert safe_filename(raw) == expected


def test_safe_names_are_bounded_and_separator_free():
    long = safe_filename("x" * 500 + ".pdf")
    assert len(long) <= 150 and long.endswith(".pdf")
    assert safe_component("../../etc/passwd") == "etc-passwd"
    assert safe_component("Van_der Berg") == "Van-der-Berg"
    assert safe_component("") == "unknown"
    assert "/" not in safe_component("a/b\\c") and "\\" not in safe_component("a/b\\c")
