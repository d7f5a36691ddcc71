from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from od_server import CUST, DEV, FakeOpenDental  # noqa: E402


@pytest.fixture
def od_keys(memory_keyring):
    from tray_app.pms.keys import set_opendental_keys

    set_opendental_keys(DEV, CUST)
    return memory_keyring


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


# Studies in the template workspace: (folder, patient id meaning, [(dicom name, PatientID, study uid)])
PATIENTS = {
    # key: (PatientID in the DICOM, id_kind, Open Dental record or None)
    "A": ("1001", "patnum", (1001, "Doe", "Jane", "1980-01-01", "")),
    "B": ("C-77", "chartnumber", (2002, "Doe", "Jane", "1980-01-01", "C-77")),
    "C": ("3003", "patnum", (3003, "Doe", "Jane", "1979-02-03", "")),  # birth date differs: mismatch
    "D": ("4004", "patnum", None),  # unknown to Open Dental
    "E": ("5005", "patnum", (5005, "Doe", "Jane", "1980-01-01", "")),
    "F": ("6006", "patnum", (6006, "Doe", "Jane", "1980-01-01", "")),
    **{k: (f"{n}", "patnum", (n, "Doe", "Jane", "1980-01-01", "")) for k, n in
       (("G", 7007), ("H", 8008), ("I", 9009), ("J", 1010))},
}


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    """A workspace with ten analysed two-image studies and a dentist, built once (copied per test)."""
    import os

    from samples import write_dicom
    from model_factory import simple_detector
    from tray_app.app import Service
    from tray_app.config import Config, IntakeConfig, Paths, SourceConfig
    from tray_app.review.clinicians import add_clinician

    root = tmp_path_factory.mktemp("export_template")
    home = root / "home"
    simple_detector(home / "models" / "stub")
    sources = []
    for kind in ("patnum", "chartnumber"):
        d = root / f"src_{kind}"
        d.mkdir()
        sources.append(SourceConfig(path=str(d), patient_id=kind))
    for i, (key, (pid, kind, _)) in enumerate(PATIENTS.items()):
        folder = root / f"src_{kind}"
        for j in range(2):
            write_dicom(folder / f"{key}{j}.dcm", seed=i * 2 + j, patient_id=pid, study_uid=f"1.2.840.99.{i + 1}")
    old = os.environ.get("DENTAL_BRIDGE_HOME")
    os.environ["DENTAL_BRIDGE_HOME"] = str(home)
    import keyring
    from keyring.backends import fail

    # no OS keyring while the template is built: its audit key record is then the file next to
    # the database, and each copy takes its own copy of it along (a keyring record is per path)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        cfg = Config(sources=sources, intake=IntakeConfig(settle_seconds=0.2))
        svc = Service(cfg, Paths.resolve().ensure())
        svc.run_once()
        add_clinician(svc.db, "Dr X", "dentist", "246813")
        rows = svc.db.query("SELECT id, patient_id FROM studies ORDER BY id")
        study_ids = {key: next(r["id"] for r in rows if r["patient_id"] == pid) for key, (pid, _, _) in PATIENTS.items()}
        svc.db.close()
    finally:
        keyring.set_keyring(previous)
        if old is None:
            os.environ.pop("DENTAL_BRIDGE_HOME", None)
        else:
            os.environ["DENTAL_BRIDGE_HOME"] = old
    return {"db": home / "data" / "bridge.sqlite3", "studies": study_ids}


_copies = [0]


@pytest.fixture
def workspace(template, tmp_path):
    return make_workspace(template, tmp_path)


def make_workspace(template, where: Path):
    """A fresh copy of the template database (image caches are shared, read-only)."""
    from tray_app.store.db import Database

    _copies[0] += 1
    target = where / f"ws{_copies[0]}" / "bridge.sqlite3"
    target.parent.mkdir(parents=True)
    shutil.copy(template["db"], target)
    from tray_app.audit_seal import seal_file

    shutil.copy(seal_file(template["db"]), seal_file(target))
    return Workspace(Database(target), template["studies"])


class Workspace:
    def __init__(self, db, studies):
        self.db = db
        self.studies = studies

    def api(self, destinations=("opendental",)):
        from tray_app.review.api import ReviewAPI

        class ExportingReviewAPI(ReviewAPI):
            # stands in for the lead's wiring: destinations() = config.export.destinations
            def destinations(self):
                return list(destinations)

        return ExportingReviewAPI(self.db)

    def findings(self, key):
        return [r["id"] for r in self.db.query("SELECT id FROM findings WHERE study_id=? ORDER BY id",
                                               (self.studies[key],))]

    def sign(self, key, destinations=("opendental",), accept=True):
        api = self.api(destinations)
        if accept:
            for fid in self.findings(key):
                api.accept(fid)
        return api.sign(self.studies[key], 1, "246813")


@pytest.fixture
def od_server():
    server = FakeOpenDental().start()
    for _, (_, _, rec) in PATIENTS.items():
        if rec:
            server.add_patient(*rec)
    yield server
    server.stop()


def od_config(server, **opts):
    from tray_app.settings.export import ExportConfig, OpenDentalConfig, RetryConfig

    od = dict(base_url=server.url, timeout=0.3, connect_timeout=0.3)
    od.update(opts)
    return ExportConfig(destinations=["opendental"], opendental=OpenDentalConfig(**od),
                        retry=RetryConfig(backoff_base_seconds=1.0, backoff_max_seconds=8.0, lease_seconds=30.0))
