"""The worklist's checks for `dental-bridge doctor` (see tray_app/doctor/): which patient id it
gives, Open Dental's schedule reachable now, and how old the copy it answers from is. (Its port
is checked with the DICOM receiver's, in doctor/core.py.)"""

from __future__ import annotations

from datetime import date

from ..doctor import Check, Context
from .identity import ID_NAMES, id_kind


def patient_ids(ctx: Context) -> list[Check]:
    if not ctx.config.worklist.enabled:
        return []
    kind, problem = id_kind(ctx.config)
    return [Check("worklist patient id", not problem, problem or
                  f"the worklist gives the Open Dental {ID_NAMES[kind]} as patient ID, as the watch folders read it")]


def schedule(ctx: Context) -> list[Check]:
    """A one-row read of today's appointments: the keys work and the Open Dental version has the endpoint."""
    if not ctx.config.worklist.enabled:
        return []
    from ..pms.client import ODClient, ODError
    from ..pms.keys import SecretsError, get_opendental_keys

    od = ctx.config.export.opendental
    try:
        keys = (ctx.keys_provider or get_opendental_keys)()
    except SecretsError as exc:
        return [Check("worklist schedule", False, str(exc))]
    if keys is None:
        return [Check("worklist schedule", False, "the Open Dental API keys are missing: run "
                      "`dental-bridge secrets set opendental`")]
    factory = ctx.client_factory or (lambda s, k, urls: ODClient(s, k, base_urls=urls))
    client = factory(od, keys, [(m, od.url_for(m)) for m in od.order()])
    today = date.today().isoformat()
    try:
        client.request("GET", "appointments", params={"dateStart": today, "dateEnd": today, "Limit": 1})
    except ODError as exc:
        return [Check("worklist schedule", False, f"Open Dental's schedule cannot be read: {exc}")]
    finally:
        client.close()
    return [Check("worklist schedule", True, f"Open Dental's schedule is readable ({client.mode} API)")]


def cache(ctx: Context) -> list[Check]:
    if not ctx.config.worklist.enabled or ctx.paths is None:
        return []
    from ..store import worklist as repo
    from ..store.db import Database
    from .refresh import freshness

    db = Database(ctx.paths.database)
    try:
        state = repo.refresh_state(db)
        items = len(repo.items(db, first_day=date.today().isoformat(), last_day=date.today().isoformat()))
    finally:
        db.close()
    fresh = freshness(state, ctx.config)
    counted = f"; {items} imaging item(s) today" + (f", {state.skipped} left out" if state.skipped else "")
    return [Check("worklist cache", not fresh.stale, fresh.detail + (counted if state.refreshed_at else ""))]


CHECKS = (patient_ids, schedule, cache)
