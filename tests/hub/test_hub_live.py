"""Issue 18 item 4: two operatory PCs on one study through a real hub process on loopback —
study versions and conflicts, an exclusive sign-off, change notifications by long-poll, and a
client that loses the hub (kill -9) and recovers by itself."""

from __future__ import annotations

import threading
import time

import pytest

from service_helpers import wait_for
from tray_app.hub.client import HubClient, HubError, HubUnavailable
from tray_app.hub.follow import ChangeFollower
from tray_app.store import audit

from .conftest import PIN


@pytest.fixture
def clients(hub, capsys):
    with HubClient(hub.url, hub.fingerprint, token="") as op3, HubClient(hub.url, hub.fingerprint, token="") as op4:
        op3.pair(hub.pairing_code(capsys), "Operatory 3")
        op4.pair(hub.pairing_code(capsys), "Operatory 4")
        yield op3, op4


def _findings(study: dict) -> list[dict]:
    return [f for im in study["images"] for f in im["findings"] if f["label"] != "tooth"]


def _review_rows(hub, study_id: int) -> int:
    return hub.db.one("SELECT COUNT(*) FROM reviews WHERE study_id=?", (study_id,))[0]


def _review_audits(hub, study_id: int) -> int:
    return sum(1 for event in ("review_accept", "review_reject") for a in hub.audit(event)
               if a["data"]["study"] == study_id)


def _chain_intact(hub) -> bool:
    return audit.verify(hub.db.conn()).ok


def test_a_stale_action_is_refused_and_the_study_detail_carries_the_version(hub, clients):
    op3, op4 = clients
    study_id = op3.queue()[0]["id"]
    seen = op3.study(study_id)
    first, second = _findings(seen)[:2]
    op4.accept(first["id"], expected_version=op4.study(study_id)["version"])
    with pytest.raises(HubError) as stale:  # op3 still shows the study as it was
        op3.reject(second["id"], expected_version=seen["version"])
    assert stale.value.status == 409
    assert "changed on another PC" in str(stale.value) and "Operatory 4" in str(stale.value)
    assert "reload" in str(stale.value)
    status = hub.db.one("SELECT status FROM findings WHERE id=?", (second["id"],))[0]
    assert status not in ("accepted", "rejected")
    fresh = op3.study(study_id)
    assert fresh["version"] == seen["version"] + 1
    op3.reject(second["id"], expected_version=fresh["version"])  # after a reload it goes through
    assert op3.study(study_id)["version"] == seen["version"] + 2
    # repeating an action already applied (a retried request) changes nothing and is no conflict
    op4.accept(first["id"], expected_version=seen["version"])
    assert _review_rows(hub, study_id) == 2
    with pytest.raises(HubError) as bad:
        op3._call("GET", "/changes?since=x&wait=nan")
    assert bad.value.status == 400


def test_concurrent_accepts_and_rejects_from_two_clients_end_consistent(hub, clients):
    op3, op4 = clients
    study_id = op3.queue()[0]["id"]
    start = op3.study(study_id)
    ids = [f["id"] for im in start["images"] for f in im["findings"]]  # teeth too: more to contend for
    assert len(ids) >= 2
    outcomes: dict[str, list] = {"Operatory 3": [], "Operatory 4": []}
    barrier = threading.Barrier(2)

    def review(client: HubClient, name: str, action: str, versioned: bool) -> None:
        barrier.wait()
        for fid in ids * 5:
            version = client.study(study_id)["version"] if versioned else None
            try:
                getattr(client, action)(fid, expected_version=version)
                outcomes[name].append(("applied", fid))
            except HubError as exc:
                assert exc.status == 409 and "changed on another PC" in str(exc), str(exc)
                outcomes[name].append(("refused", fid))

    # op3 accepts every finding with the version it just read (refused when op4 got in between);
    # op4 rejects every finding without a version (always applied)
    threads = [threading.Thread(target=review, args=(op3, "Operatory 3", "accept", True)),
               threading.Thread(target=review, args=(op4, "Operatory 4", "reject", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(outcomes["Operatory 3"]) == len(outcomes["Operatory 4"]) == 5 * len(ids)
    print(f"op3: {sum(o == 'refused' for o, _ in outcomes['Operatory 3'])} of {5 * len(ids)} accepts refused as stale")

    rows = hub.db.query("SELECT finding_id, action, actor FROM reviews WHERE study_id=? ORDER BY id", (study_id,))
    # every row is an actual change, audited; the version counts them all
    assert len(rows) == _review_audits(hub, study_id)
    assert hub.db.one("SELECT version FROM studies WHERE id=?", (study_id,))[0] == start["version"] + len(rows)
    # no applied change is lost: each finding ends as its newest review row says
    last = {r["finding_id"]: r["action"] for r in rows}
    status = {r["id"]: r["status"] for r in hub.db.query("SELECT id, status FROM findings WHERE study_id=?",
                                                         (study_id,))}
    assert all(status[fid] == {"accept": "accepted", "reject": "rejected"}[a] for fid, a in last.items())
    assert set(last) == set(ids)  # op4's rejections all landed
    # an applied accept that changed something has its row; a refused one has none
    accepted_rows = sum(1 for r in rows if r["action"] == "accept")
    applied = sum(1 for o, _ in outcomes["Operatory 3"] if o == "applied")
    assert accepted_rows <= applied
    assert all(r["actor"] == "hub:Operatory 3" for r in rows if r["action"] == "accept")
    assert _chain_intact(hub)


def test_two_simultaneous_sign_offs_one_wins_the_other_is_told(hub, clients):
    from tray_app.review.clinicians import Authority, add_clinician

    op3, op4 = clients
    bo = add_clinician(hub.db, "Dr Bo", "dentist", "135792", authority=Authority(hub.dentist, PIN))
    study_id = op3.queue()[0]["id"]
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def sign(client: HubClient, name: str, clinician: int, pin: str) -> None:
        barrier.wait()
        try:
            results[name] = client.sign(study_id, clinician, pin)
        except HubError as exc:
            results[name] = exc

    threads = [threading.Thread(target=sign, args=(op3, "op3", hub.dentist, PIN)),
               threading.Thread(target=sign, args=(op4, "op4", bo, "135792"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    won = [r for r in results.values() if isinstance(r, dict)]
    lost = [r for r in results.values() if isinstance(r, HubError)]
    assert len(won) == 1 and len(lost) == 1, results
    winner = won[0]["signed_by"]
    assert lost[0].status == 409
    assert f"already signed by {winner} at " in str(lost[0])
    assert hub.db.one("SELECT COUNT(*) FROM reports WHERE study_id=?", (study_id,))[0] == 1
    assert hub.db.one("SELECT signer_name FROM reports WHERE study_id=?", (study_id,))[0] == winner
    assert len([a for a in hub.audit("signed") if a["subject"] == f"study:{study_id}"]) == 1
    assert _chain_intact(hub)


def _long_poll_latencies(waiting: HubClient, act) -> list[float]:
    """Seconds from the start of each action to the return of a long-poll waiting for it."""
    latencies = []
    for action in ("accept", "reject", "accept", "reject", "accept"):
        since = waiting.version()
        got: dict = {}

        def poll():
            got["version"] = waiting.changes(since)  # long-polls (up to 25 s)
            got["at"] = time.monotonic()

        started = time.monotonic()
        waiter = threading.Thread(target=poll)
        waiter.start()
        time.sleep(0.3)  # let the poll be waiting on the hub
        assert "version" not in got  # nothing changed yet: it waits
        sent = time.monotonic()
        act(action)
        waiter.join(30)
        assert got["version"] != since  # woken by the change, not by the long-poll's timeout
        assert got["at"] - started < 20
        latencies.append(got["at"] - sent)
    return latencies


def _ms(latencies: list[float]) -> str:
    return ", ".join(f"{x * 1000:.0f} ms" for x in latencies)


def test_a_long_poll_returns_as_soon_as_another_client_accepts(hub, clients):
    op3, op4 = clients
    finding = _findings(op3.study(op3.queue()[0]["id"]))[0]
    latencies = _long_poll_latencies(op4, lambda action: getattr(op3, action)(finding["id"]))
    print(f"long-poll latency from sending a review action to the other client's poll returning: {_ms(latencies)}")


def test_a_change_by_another_process_on_the_hub_pc_also_ends_a_long_poll(hub, clients):
    """A `dental-bridge` command on the hub PC commits in its own process (no after-commit hook
    of the hub's fires): the hub's periodic check notices it."""
    from tray_app.review.api import ReviewAPI

    op3, op4 = clients
    finding = _findings(op3.study(op3.queue()[0]["id"]))[0]
    local = ReviewAPI(hub.db)
    latencies = _long_poll_latencies(op4, lambda action: getattr(local, action)(finding["id"], "front desk"))
    print(f"long-poll latency after a commit by another process on the hub PC: {_ms(latencies)}")


def test_a_client_that_loses_the_hub_says_so_and_recovers_by_itself(hub, clients, capsys):
    op3, op4 = clients
    study_id = op3.queue()[0]["id"]
    first, second = _findings(op3.study(study_id))[:2]
    op3.accept(first["id"])  # committed before the crash

    changes, statuses = [], []
    follower = ChangeFollower(op4, changes.append, lambda ok, msg: statuses.append((ok, msg)), wait=5).start()
    try:
        wait_for(lambda: statuses == [(True, "")] and changes, 20, message="the follower to connect")
        hub.kill()
        op3.retry_seconds = 1.0
        with pytest.raises(HubUnavailable) as away:
            op3.reject(second["id"])
        assert "not answering" in str(away.value) or "cannot be reached" in str(away.value)
        wait_for(lambda: statuses[-1][0] is False, 30, message="the follower to report the hub unavailable")
        assert "hub" in statuses[-1][1]

        hub.restart()  # same home, same certificate
        seen = len(changes)
        wait_for(lambda: statuses[-1][0] is True, 60, message="the follower to reconnect by itself")
        op3.retry_seconds = 10.0
        op3.reject(second["id"])  # the same client object reconnects
        wait_for(lambda: len(changes) > seen, 30, message="the follower to see the change after the restart")
        # a request that is never repeated (sign-off) also finds a fresh connection
        assert op4.sign(study_id, hub.dentist, PIN)["signed_by"] == "Dr Ada"
    finally:
        follower.stop(10)

    status = {r["id"]: r["status"] for r in hub.db.query("SELECT id, status FROM findings WHERE study_id=?",
                                                         (study_id,))}
    assert (status[first["id"]], status[second["id"]]) == ("accepted", "rejected")
    assert _review_rows(hub, study_id) == 2 == _review_audits(hub, study_id)
    assert hub.db.one("SELECT status FROM studies WHERE id=?", (study_id,))[0] in ("signed", "exported")
    assert _chain_intact(hub)


def test_waiting_long_polls_hold_no_thread_of_the_hub(hub, clients):
    """More long-polls than the hub's four database threads wait at once; the hub still answers
    the queue and an accept, and that accept wakes them all."""
    op3, op4 = clients
    study_id = op3.queue()[0]["id"]
    since = op4.version()
    results: list[str] = []
    pollers = [threading.Thread(target=lambda: results.append(op4.changes(since))) for _ in range(8)]
    for t in pollers:
        t.start()
    time.sleep(0.5)
    assert results == [] and op3.queue()  # they wait; the queue is answered meanwhile
    op3.accept(_findings(op3.study(study_id))[0]["id"])
    for t in pollers:
        t.join(30)
    assert len(results) == 8 and since not in results
