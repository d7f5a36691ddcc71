-- Next steps (issue 19): one alert per study that analysis flagged urgent, sent to Open Dental
-- (a task or a popup) with the outbox's exactly-once rules: `sending` is committed before the
-- write, and a row that may have been written is looked for by its marker before a retry.
CREATE TABLE study_alerts (
    id              INTEGER PRIMARY KEY,
    study_id        INTEGER NOT NULL UNIQUE REFERENCES studies(id),
    via             TEXT NOT NULL,                   -- task | popup | none (the tray alone)
    text            TEXT NOT NULL,                   -- as written: the finding and tooth, never the patient
    marker          TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued',  -- queued | sending | done | failed | needs_attention | not_sent
    maybe_written   INTEGER NOT NULL DEFAULT 0,      -- an attempt's outcome is unknown: look before writing
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    remote_id       TEXT NOT NULL DEFAULT '',        -- TaskNum / PopupNum
    reason          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX study_alerts_due ON study_alerts(state, next_attempt_at);
