"""Property: whatever review actions happen, only signed studies ever reach Open Dental."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tray_app.export.outbox import Outbox
from tray_app.store.db import utcnow

from .conftest import PATIENTS, FakeClock, make_workspace, od_config

KEYS = ["A", "E"]
PATNUM = {k: PATIENTS[k][2][0] for k in KEYS}

action = st.one_of(
    st.tuples(st.just("accept"), st.sampled_from(KEYS), st.integers(0, 9)),
    st.tuples(st.just("reject"), st.sampled_from(KEYS), st.integers(0, 9)),
    st.tuples(st.just("edit"), st.sampled_from(KEYS), st.integers(0, 9), st.sampled_from([16, 26, 36, 46])),
    st.tuples(st.just("add"), st.sampled_from(KEYS), st.integers(0, 1)),
    st.tuples(st.just("undo"), st.sampled_from(KEYS)),
    st.tuples(st.just("drain"),),
    st.tuples(st.just("rogue_enqueue"), st.sampled_from(KEYS)),  # an outbox row without a signature
)
_n = itertools.count()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, max_size=12), sign=st.sets(st.sampled_from(KEYS)))
def test_only_signed_studies_are_written(template, tmp_path, od_server, od_keys, actions, sign):
    ws = make_workspace(template, tmp_path / f"ex{next(_n)}")
    od_server.state.requests.clear()
    api = ws.api()
    clock = FakeClock()
    outbox = Outbox(ws.db, od_config(od_server, write_pdf=False, write_images=False), clock=clock)
    try:
        for a in actions:
            kind, key = a[0], (a[1] if len(a) > 1 else None)
            fids = ws.findings(key) if key else []
            if kind in ("accept", "reject", "edit") and fids:
                fid = fids[a[2] % len(fids)]
                if kind == "accept":
                    api.accept(fid)
                elif kind == "reject":
                    api.reject(fid)
                else:
                    api.edit(fid, tooth_fdi=a[3])
            elif kind == "add":
                image = ws.db.query("SELECT id FROM images WHERE study_id=? ORDER BY id", (ws.studies[key],))[a[2]]["id"]
                api.add(image, "calculus", (5, 5, 30, 30))
            elif kind == "undo":
                api.undo(ws.studies[key])
            elif kind == "rogue_enqueue":
                with ws.db.tx() as c:
                    c.execute("INSERT OR IGNORE INTO outbox(study_id, destination, created_at, updated_at) "
                              "VALUES (?,?,?,?)", (ws.studies[key], "opendental", utcnow(), utcnow()))
            elif kind == "drain":
                clock.advance(60)
                outbox.drain_once()
            touched = {PATNUM[k] for k in KEYS if k in sign and ws.db.one(
                "SELECT 1 FROM reports WHERE study_id=?", (ws.studies[k],))}
            assert not touched  # nothing signed yet at this point
            assert od_server.state.requests == []  # …so not a single request reached Open Dental
        for key in sorted(sign):
            api.sign(ws.studies[key], 1, "246813")
        clock.advance(60)
        outbox.drain_once()
        clock.advance(60)
        outbox.drain_once()
        signed_patnums = {PATNUM[k] for k in sign}
        seen = set()
        for r in od_server.state.requests:
            pat = (r["json"] or {}).get("PatNum") or r["query"].get("PatNum") or (
                r["path"].rsplit("/", 1)[-1] if r["path"].startswith("/patients/") else None)
            if pat is not None:
                seen.add(int(pat))
        assert seen == signed_patnums
        assert len(od_server.writes()) == len(sign)  # one chart note per signed study
        for key in KEYS:
            row = ws.db.one("SELECT state, reason FROM outbox WHERE study_id=?", (ws.studies[key],))
            if key in sign:
                assert row["state"] == "done"
            elif row is not None:
                assert row["state"] == "needs_attention" and "not been signed" in row["reason"]
    finally:
        ws.db.close()
