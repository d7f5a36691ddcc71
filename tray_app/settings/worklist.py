"""`[worklist]`: the DICOM Modality Worklist (tray_app/worklist/) the imaging software asks for
today's imaging appointments, read from Open Dental's schedule. Off by default.

It reads Open Dental through `[export.opendental]` (one owner of the connection) and gives the
patient id the meaning the watch folders give it (`[[sources]] patient_id`): images taken from the
worklist come back through them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .dicom import listener_problems
from .schema import Table


@dataclass
class WorklistConfig(Table):
    TABLE = "worklist"

    enabled: bool = False
    ae_title: str = "DENTALWORKLIST"
    port: int = 11113  # next to the receiver's 11112
    bind_address: str = "127.0.0.1"  # loopback unless the practice opens it on purpose (patient names)
    allowed_calling_aes: list[str] = field(default_factory=list)  # empty = any
    max_associations_per_peer: int = 4  # as [dicom]: one address cannot lock the others out
    days_ahead: int = 0  # today only; 1 = today and tomorrow, …
    refresh_seconds: int = 300  # how often the schedule is read again from Open Dental

    def validate(self) -> list[str]:
        if not self.enabled:
            return []  # a worklist that is off does not block the app with half-filled settings
        errors = listener_problems(self)
        try:
            ipaddress.ip_address(self.bind_address)
        except ValueError:
            errors.append(f"worklist.bind_address must be an IP address of this PC (0.0.0.0 for all), "
                          f"not {self.bind_address!r}")
        if not 0 <= self.days_ahead <= 14:
            errors.append("worklist.days_ahead must be between 0 (today only) and 14")
        if not 30 <= self.refresh_seconds <= 86400:
            errors.append("worklist.refresh_seconds must be between 30 and 86400")
        return errors
