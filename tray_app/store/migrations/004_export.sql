-- Export: the parts of one outbox row (each annotated image, the PDF report, the chart note,
-- a popup) with their own state, so a retry writes only what is missing; `sending` means the
-- outcome is unknown and the remote is searched for the part's marker before writing again.
CREATE TABLE export_parts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id),
    part        TEXT NOT NULL,                   -- img<image id> | pdf | patient_pdf | note | popup | json
    marker      TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending', -- pending | sending | done
    remote_id   TEXT NOT NULL DEFAULT '',        -- DocNum / CommlogNum / PopupNum, or the file written
    target      TEXT NOT NULL DEFAULT '',        -- folder exports: the file name chosen before writing
    attempts    INTEGER NOT NULL DEFAULT 0,
    detail      TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL,
    UNIQUE (outbox_id, part)
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
