"""`[dicom]`: the DICOM receiver (C-STORE/C-ECHO, sources/dicom_scp.py), and the AE-title rule
it shares with the PACS destination (`[export.dicom]`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .schema import Table


def ae_title_problem(value: str) -> str:
    """Why an AE title is not usable (empty when it is): 1-16 printable ASCII, no backslash."""
    text = value.strip()
    if not 1 <= len(text) <= 16:
        return "must be 1 to 16 characters"
    if "\\" in text or any(not 32 <= ord(ch) < 127 for ch in text):
        return "may only use letters, digits, spaces and ordinary punctuation (no backslash)"
    return ""


@dataclass
class ScpConfig(Table):
    TABLE = "dicom"

    enabled: bool = False
    ae_title: str = "DENTALBRIDGE"
    port: int = 11112
    bind_address: str = "127.0.0.1"  # loopback unless the practice opens it on purpose
    allowed_calling_aes: list[str] = field(default_factory=list)  # empty = any
    max_associations_per_peer: int = 4  # one address cannot hold every association and lock others out

    def validate(self) -> list[str]:
        if not self.enabled:
            return []  # a receiver that is off does not block the app with half-filled settings
        return listener_problems(self)


def listener_problems(table) -> list[str]:
    """What is wrong with the keys every DICOM server of ours has (the receiver, the worklist):
    ae_title, port, max_associations_per_peer, allowed_calling_aes."""
    errors = []
    name = table.TABLE
    problem = ae_title_problem(table.ae_title)
    if problem:
        errors.append(f"{name}.ae_title {problem}")
    if not 1 <= table.port <= 65535:
        errors.append(f"{name}.port must be between 1 and 65535")
    if not 1 <= table.max_associations_per_peer <= 10:
        errors.append(f"{name}.max_associations_per_peer must be between 1 and 10")
    for ae in table.allowed_calling_aes:
        problem = ae_title_problem(ae)
        if problem:
            errors.append(f"{name}.allowed_calling_aes entry {ae!r} {problem}")
    return errors
