"""The audit log's names for the layers above the store; the chain itself is `store/audit.py`
(each entry is appended inside the transaction of the step it records)."""

from .store.audit import (  # noqa: F401 - re-exported
    GENESIS,
    AuditKeyError,
    VerifyResult,
    append,
    authentic,
    export_entries,
    seal_unkeyed,
    verify,
)
