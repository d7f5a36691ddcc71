"""DICOM destination: results go back to a PACS or viewer by C-STORE (pynetdicom).

Per image of the report (`Report.images_to_render`), parts `gsps<image id>` (a Grayscale Softcopy
Presentation State over the original image, `export.dicom.send_gsps`) and `sc<image id>` (a
Secondary Capture of the annotated image, `export.dicom.send_sc`); the objects are built by
`dicom_results`. Their UIDs come from (report, image, kind), so a part whose outcome is unknown
(`sending` when the connection broke before the PACS answered) is simply stored again: the
PACS receives the same SOP instance and keeps one.

Failures, phrased for the practice:
- the PACS cannot be reached (refused, no answer, name unknown), it ended the connection, it is
  busy, out of resources (0xA7xx) or could not process an object (0x0110, 0xCxxx) → RetryLater;
- it refused the association because of an AE title, or it does not accept the kind of object
  (SOP class not supported 0x0122, not authorised 0x0124, data set does not match 0xA9xx, other
  0x01xx/0x02xx refusals of the object, or the storage class was not accepted at association)
  → NeedsAttention, with what to fix.
An image that did not come as DICOM gets no presentation state; with send_sc off nothing is
sent for it, which the summary records (not an error).
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any, Callable

from .dicom_results import GSPS_CLASS, SC_CLASS, build_gsps, build_sc, read_source
from .job import Job, NeedsAttention, RetryLater
from ..settings.export import DicomDestConfig

log = logging.getLogger(__name__)

VERIFICATION = "1.2.840.10008.1.1"
KIND_CLASS = {"gsps": GSPS_CLASS, "sc": SC_CLASS}
KIND_NAME = {"gsps": "presentation states (GSPS)", "sc": "secondary capture images"}
KIND_SETTING = {"gsps": "send_gsps", "sc": "send_sc"}
DUPLICATE_INSTANCE = 0x0111  # some archives answer this for an instance they already hold: it is there


def _what(kind: str, image_id: int) -> str:
    return (f"the presentation state for image {image_id}" if kind == "gsps"
            else f"the annotated image (secondary capture) of image {image_id}")


@dataclass
class Peer:
    host: str
    port: int
    called_ae: str
    calling_ae: str

    @classmethod
    def of(cls, cfg: DicomDestConfig) -> "Peer":
        return cls(cfg.host.strip(), int(cfg.port), cfg.called_ae.strip(), cfg.calling_ae.strip())

    def __str__(self) -> str:
        return f"the PACS at {self.host}:{self.port} (AE title {self.called_ae})"


def why_unreachable(host: str, port: int, timeout: float) -> str:
    """After pynetdicom could not connect (it does not say why): one plain TCP attempt to name the cause."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "it accepted a connection just now but not ours; it may be restarting"
    except socket.gaierror:
        return f"the computer name {host} cannot be found (check export.dicom.host)"
    except ConnectionRefusedError:
        return "nothing accepts connections on that port (is the PACS running, and is the port right?)"
    except (socket.timeout, TimeoutError):
        return f"it did not answer within {timeout:g} seconds (is the computer on, or a firewall in the way?)"
    except OSError as exc:
        return f"the network cannot reach it ({exc.strerror or type(exc).__name__})"


class Association:
    """One association with the destination; `open()` raises RetryLater/NeedsAttention in plain words."""

    def __init__(self, cfg: DicomDestConfig, classes: list[str], *, ae_factory: Callable | None = None):
        self.cfg = cfg
        self.peer = Peer.of(cfg)
        self.classes = classes
        self._ae_factory = ae_factory
        self.assoc = None
        self.accepted: set[str] = set()

    def open(self) -> "Association":
        from pynetdicom import AE, evt
        from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

        cfg, peer = self.cfg, self.peer
        ae = (self._ae_factory or AE)(ae_title=peer.calling_ae)
        ae.connection_timeout = cfg.connect_timeout
        ae.acse_timeout = cfg.timeout
        ae.dimse_timeout = cfg.timeout
        ae.network_timeout = cfg.timeout
        for uid in self.classes:
            ae.add_requested_context(uid, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        connected: list[bool] = []
        assoc = ae.associate(peer.host, peer.port, ae_title=peer.called_ae,
                             evt_handlers=[(evt.EVT_CONN_OPEN, lambda event: connected.append(True))])
        if assoc.is_established:
            self.assoc = assoc
            self.accepted = {str(cx.abstract_syntax) for cx in assoc.accepted_contexts}
            return self
        if assoc.is_rejected:
            raise self._rejected(assoc.acceptor.primitive)
        if not connected:
            raise RetryLater(f"{peer} cannot be reached: {why_unreachable(peer.host, peer.port, cfg.connect_timeout)}; "
                             "the results are sent when it answers again")
        refused = {str(cx.abstract_syntax) for cx in assoc.rejected_contexts}
        if refused and refused >= set(self.classes):
            raise NeedsAttention(f"{peer} accepts none of the objects we send ({self._names(refused)}); "
                                 + self._fix_classes(refused))
        raise RetryLater(f"{peer} ended the connection before accepting it (or did not answer within "
                         f"{cfg.timeout:g} seconds); it will be tried again")

    @staticmethod
    def _names(uids: set[str]) -> str:
        names = {v: KIND_NAME[k] for k, v in KIND_CLASS.items()} | {VERIFICATION: "verification (C-ECHO)"}
        return ", ".join(names.get(u, u) for u in sorted(uids))

    @staticmethod
    def _fix_classes(uids: set[str]) -> str:
        settings = [f"export.dicom.{KIND_SETTING[k]}" for k, v in KIND_CLASS.items() if v in uids]
        turn_off = f"turn off {' / '.join(settings)}, or " if settings else ""
        return f"{turn_off}ask whoever looks after the PACS to accept them from our AE title"

    def _rejected(self, rsp) -> Exception:
        peer = self.peer
        source, reason = getattr(rsp, "result_source", None), getattr(rsp, "diagnostic", None)
        try:
            text = rsp.reason_str
        except Exception:  # noqa: BLE001 — only for the message
            text = "no reason given"
        if getattr(rsp, "result", None) == 0x02 or source == 3:
            return RetryLater(f"{peer} is busy and refused the connection for now ({text}); it will be tried again")
        if source == 1 and reason == 3:
            return NeedsAttention(f"{peer} does not accept our AE title '{peer.calling_ae}': add it (and this "
                                  "computer's address) to the PACS's list of allowed senders, or set "
                                  "export.dicom.calling_ae to a title the PACS knows")
        if source == 1 and reason == 7:
            return NeedsAttention(f"the PACS at {peer.host}:{peer.port} does not answer to the AE title "
                                  f"'{peer.called_ae}': set export.dicom.called_ae to the PACS's own AE title "
                                  "(capitals matter)")
        return NeedsAttention(f"{peer} refused the connection ({text}); check export.dicom.called_ae and "
                              f"calling_ae ('{peer.calling_ae}') with whoever set up the PACS")

    def store(self, ds, kind: str, image_id: int) -> tuple[int, str]:
        """C-STORE one object; returns (status, note) when stored, raises otherwise. A status
        never received (connection lost, no answer in time) raises RetryLater: outcome unknown."""
        peer = self.peer
        what = _what(kind, image_id)
        status = self.assoc.send_c_store(ds)
        code = getattr(status, "Status", None) if status is not None else None
        if code is None:
            raise RetryLater(f"{peer} did not confirm {what} (the connection ended or it did not answer within "
                             f"{self.cfg.timeout:g} seconds); it is sent again, as the same instance, so nothing "
                             "is doubled")
        code = int(code)
        if code == 0x0000:
            return code, ""
        if code == 0x0001 or 0xB000 <= code <= 0xBFFF:
            return code, f"stored with warning 0x{code:04X}"
        if code == DUPLICATE_INSTANCE:
            return code, "the PACS already had this instance"
        raise _StoreFailed(code, self._failure(code, kind, what))

    def _failure(self, code: int, kind: str, what: str) -> Exception:
        peer = self.peer
        hexcode = f"0x{code:04X}"
        if 0xA700 <= code <= 0xA7FF:
            return RetryLater(f"{peer} is out of storage space or resources and did not store {what} (status "
                              f"{hexcode}); it will be tried again")
        if 0xA900 <= code <= 0xA9FF:
            return NeedsAttention(f"{peer} refused {what}: it says the data does not match the object type "
                                  f"(status {hexcode}); ask whoever looks after the PACS whether it accepts this "
                                  "kind of object")
        if code == 0x0122:
            return NeedsAttention(f"{peer} does not support {KIND_NAME[kind]} (status {hexcode}); turn off "
                                  f"export.dicom.{KIND_SETTING[kind]} or ask the PACS vendor to enable them")
        if code == 0x0124:
            return NeedsAttention(f"{peer} does not allow our AE title '{peer.calling_ae}' to store images (status "
                                  f"{hexcode}); ask whoever looks after the PACS to allow it")
        if 0x0100 <= code <= 0x02FF and code != 0x0110:  # 0x0110 is a plain processing failure
            return NeedsAttention(f"{peer} refused {what} as not acceptable to it (status {hexcode}); sending the "
                                  "same object again will not help: ask whoever looks after the PACS, or turn off "
                                  f"export.dicom.{KIND_SETTING[kind]}")
        return RetryLater(f"{peer} could not process {what} (status {hexcode}); it will be tried again")

    @property
    def established(self) -> bool:
        return self.assoc is not None and self.assoc.is_established

    def echo(self) -> int | None:
        status = self.assoc.send_c_echo()
        code = getattr(status, "Status", None) if status is not None else None
        return int(code) if code is not None else None

    def close(self) -> None:
        if self.assoc is None:
            return
        try:
            if self.assoc.is_established:
                self.assoc.release()
        except Exception:  # noqa: BLE001 — closing must never hide the real outcome
            self.assoc.abort()
        self.assoc = None


class _StoreFailed(Exception):
    """The PACS answered with a failure status: the object was certainly not stored."""

    def __init__(self, code: int, error: Exception):
        super().__init__(str(error))
        self.code = code
        self.error = error


class DicomExporter:
    name = "dicom"

    def __init__(self, config: DicomDestConfig, *, ae_factory: Callable | None = None):
        self.config = config
        self._ae_factory = ae_factory

    def plan(self, job: Job) -> tuple[list[dict], dict[str, str], dict[str, str]]:
        """(parts to send, parts already done {name: uid}, nothing to send {name: why})."""
        cfg = self.config
        states = {p.name: p for p in job.parts()}  # existing parts; new ones are recorded when planned
        images = job.report.images
        position = {im["id"]: n for n, im in enumerate(images, 1)}
        todo: list[dict] = []
        done: dict[str, str] = {}
        skipped: dict[str, str] = {}
        chosen = job.report.images_to_render()
        for im in chosen:
            kinds = [k for k, on in (("gsps", cfg.send_gsps), ("sc", cfg.send_sc)) if on]
            pending = []
            for kind in kinds:
                name = f"{kind}{im['id']}"
                part = states.get(name)
                if part is not None and part.state == "done":
                    done[name] = part.remote_id
                else:
                    pending.append((kind, name))
            if not pending:
                continue
            src = read_source(job.db, im["id"], sha256=im.get("sha256") or "", patient=job.report.patient)
            if src.unreachable:
                raise RetryLater(f"{src.problem}; the results are sent when it can be read again")
            if src.changed:
                raise NeedsAttention(src.problem)
            for kind, name in pending:
                if kind == "gsps" and not src.can_gsps:
                    skipped[name] = (f"no presentation state: {src.problem or src.gsps_problem}"
                                     + ("" if cfg.send_sc else " (send_sc is off, so nothing is sent for it)"))
                    continue
                job.part(name)  # recorded (pending) so begin()/done() have a row to mark
                todo.append({"name": name, "kind": kind, "image": im, "source": src,
                             "instance_number": position.get(im["id"], 1)})
        if not chosen:
            skipped["study"] = "the report has no images"
        return todo, done, skipped

    def build(self, job: Job, item: dict):
        kw = dict(report_sha256=job.report_sha256, instance_number=item["instance_number"])
        if item["kind"] == "gsps":
            return build_gsps(job.report, item["image"], item["source"], **kw)
        rendered = job.rendered(item["image"])
        src = item["source"]
        return build_sc(job.report, item["image"], rendered, src if src.dataset is not None else None,
                        study=job.study, **kw)

    def export(self, job: Job) -> dict:
        cfg = self.config
        peer = Peer.of(cfg)
        todo, done, skipped = self.plan(job)
        sent: dict[str, str] = {}
        notes: dict[str, str] = {}
        summary: dict[str, Any] = {"destination": f"{peer.called_ae}@{peer.host}:{peer.port}", "sent": sent,
                                   "already_sent": done, "not_sent": skipped, "notes": notes}
        for name, why in skipped.items():
            log.info("export %s to DICOM: %s: %s", job.id, name, why)
        if not todo:
            return summary
        classes = sorted({KIND_CLASS[item["kind"]] for item in todo})
        link = Association(cfg, classes, ae_factory=self._ae_factory).open()
        refused: set[str] = set()
        try:
            for item in todo:
                name, kind = item["name"], item["kind"]
                if KIND_CLASS[kind] not in link.accepted:
                    refused.add(KIND_CLASS[kind])
                    continue
                what = _what(kind, item["image"]["id"])
                try:
                    ds = self.build(job, item)
                except ValueError as exc:  # the original's header cannot carry one: nothing a retry changes
                    log.warning("export %s: %s cannot be made (%s)", job.id, what, exc)
                    skipped[name] = f"{what} could not be made: {exc}"
                    continue
                uid = str(ds.SOPInstanceUID)
                if not link.established:
                    raise RetryLater(f"{peer} ended the connection before {what} was sent; it will be tried again")
                job.begin(name, uid)
                try:
                    code, note = link.store(ds, kind, item["image"]["id"])
                except _StoreFailed as failed:
                    job.not_written(name)  # the PACS answered "not stored": certain
                    raise failed.error from None
                job.done(name, uid, detail=note or f"status 0x{code:04X}")
                sent[name] = uid
                if note:
                    notes[name] = note
        finally:
            link.close()
        if refused:
            raise NeedsAttention(f"{peer} did not accept {Association._names(refused)} when we connected; "
                                 + Association._fix_classes(refused))
        return summary


def echo(cfg: DicomDestConfig, *, ae_factory: Callable | None = None) -> tuple[bool, str]:
    """The doctor's check: C-ECHO the destination and see whether it takes what we would send."""
    wanted = [KIND_CLASS[k] for k, on in (("gsps", cfg.send_gsps), ("sc", cfg.send_sc)) if on]
    peer = Peer.of(cfg)
    try:
        link = Association(cfg, [VERIFICATION, *wanted], ae_factory=ae_factory).open()
    except (RetryLater, NeedsAttention) as exc:
        return False, str(exc)
    try:
        if VERIFICATION not in link.accepted:
            code = None
        else:
            code = link.echo()
        missing = [u for u in wanted if u not in link.accepted]
    finally:
        link.close()
    if missing:
        return False, (f"{peer} answers but does not accept {Association._names(set(missing))}; "
                       + Association._fix_classes(set(missing)))
    if code is None and VERIFICATION in link.accepted:
        return False, f"{peer} accepted the connection but did not answer the echo within {cfg.timeout:g} seconds"
    if code not in (None, 0x0000):
        return False, f"{peer} answered the echo with status 0x{code:04X}"
    how = "answers the echo (C-ECHO)" if code == 0 else "accepts the connection (it does not offer C-ECHO)"
    return True, f"{peer} {how} and accepts our AE title '{peer.calling_ae}'"
