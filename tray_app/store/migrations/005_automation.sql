-- Targeted automation: the unsigned subset of a study's findings (configured low-risk labels
-- above a confidence) exported marked "AI-generated, not yet verified". One decision per
-- study, kept like a signed report: it is the record of what went to the chart unreviewed.
CREATE TABLE automated_reports (
    id          INTEGER PRIMARY KEY,
    study_id    INTEGER NOT NULL UNIQUE REFERENCES studies(id),
    decided_at  TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('exported','skipped','nothing')),
    reason      TEXT NOT NULL DEFAULT '',
    snapshot    TEXT NOT NULL DEFAULT '',
    sha256      TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER automated_reports_immutable BEFORE UPDATE ON automated_reports BEGIN
    SELECT RAISE(ABORT, 'an automated export record cannot be changed');
END;
CREATE TRIGGER automated_reports_undeletable BEFORE DELETE ON automated_reports BEGIN
    SELECT RAISE(ABORT, 'an automated export record cannot be deleted');
END;
-- the outbox gains the report kind: a study may go out once automated and later once signed
CREATE TABLE outbox_v5 (
    id           INTEGER PRIMARY KEY,
    study_id     INTEGER NOT NULL REFERENCES studies(id),
    destination  TEXT NOT NULL,
    report_kind  TEXT NOT NULL DEFAULT 'signed' CHECK (report_kind IN ('signed','automated')),
    state        TEXT NOT NULL DEFAULT 'queued',  -- queued | sending | done | failed | needs_attention
                                                  -- | superseded | cancelled (automated rows)
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    reason       TEXT NOT NULL DEFAULT '',
    marker       TEXT NOT NULL DEFAULT '',
    remote_id    TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (study_id, destination, report_kind)
);
INSERT INTO outbox_v5(id, study_id, destination, state, attempts, next_attempt_at, reason, marker, remote_id,
                      payload, created_at, updated_at)
    SELECT id, study_id, destination, state, attempts, next_attempt_at, reason, marker, remote_id, payload,
           created_at, updated_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
