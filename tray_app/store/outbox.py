"""The `outbox` table (owner: the export/review engineer; this branch adds only the block below)."""

from __future__ import annotations


# --- added by intake/core for store/studies.queue (was automation.SENT_SQL, imported by the store) ---
# an automated export counts as sent once a row finished or any part of one was written
AUTOMATED_SENT = ("EXISTS (SELECT 1 FROM outbox o WHERE o.study_id={study} AND o.report_kind='automated' AND "
                  "(o.state='done' OR EXISTS (SELECT 1 FROM export_parts p WHERE p.outbox_id=o.id AND "
                  "p.state IN ('done','sending'))))")
