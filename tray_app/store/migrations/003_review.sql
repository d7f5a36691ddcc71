-- Review and sign-off: clinicians with slow-KDF PIN hashes, undoable review actions,
-- and the immutable report snapshot frozen at signature.
CREATE TABLE clinicians (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('dentist','hygienist','assistant','admin')),
    pin_hash        TEXT NOT NULL,
    pin_salt        TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);
ALTER TABLE reviews ADD COLUMN undone INTEGER NOT NULL DEFAULT 0;
CREATE INDEX reviews_study ON reviews(study_id, id);
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    study_id    INTEGER NOT NULL UNIQUE REFERENCES studies(id),
    signed_by   INTEGER NOT NULL REFERENCES clinicians(id),
    signer_name TEXT NOT NULL,
    signed_at   TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    sha256      TEXT NOT NULL
);
-- a signed report never changes
CREATE TRIGGER reports_immutable BEFORE UPDATE ON reports BEGIN
    SELECT RAISE(ABORT, 'a signed report cannot be changed');
END;
CREATE TRIGGER reports_undeletable BEFORE DELETE ON reports BEGIN
    SELECT RAISE(ABORT, 'a signed report cannot be deleted');
END;
