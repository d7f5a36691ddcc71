-- Every image moves through explicit states before any work on it starts, so a crash
-- at any point resumes without loss or duplication.
CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL DEFAULT 'auto',
    status      TEXT NOT NULL DEFAULT 'starting',   -- watching | waiting_for_folder | paused | starting
    status_detail TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL
);

CREATE TABLE studies (
    id              INTEGER PRIMARY KEY,
    study_uid       TEXT,
    group_key       TEXT NOT NULL,        -- StudyInstanceUID, else patient + folder (+ window)
    patient_key     TEXT NOT NULL DEFAULT '',
    patient_id      TEXT NOT NULL DEFAULT '',
    patient_id_kind TEXT NOT NULL DEFAULT '',
    patient_name    TEXT NOT NULL DEFAULT '',
    birth_date      TEXT NOT NULL DEFAULT '',
    source_id       INTEGER REFERENCES sources(id),
    study_date      TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'new', -- new | in_review | signed | exported | export_failed
    priority        REAL NOT NULL DEFAULT 0,
    tags            TEXT NOT NULL DEFAULT '[]',
    first_seen_at   TEXT NOT NULL,
    last_image_at   TEXT NOT NULL
);
CREATE INDEX studies_group ON studies(group_key, last_image_at);
CREATE UNIQUE INDEX studies_uid ON studies(study_uid) WHERE study_uid IS NOT NULL;

CREATE TABLE images (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER REFERENCES sources(id),
    path          TEXT NOT NULL,
    size          INTEGER,
    mtime_ns      INTEGER,
    sha256        TEXT,
    sop_uid       TEXT,
    state         TEXT NOT NULL CHECK (state IN
                    ('discovered','ready','decoded','analyzed','in_review','signed','exported',
                     'quarantined','duplicate')),
    reason        TEXT NOT NULL DEFAULT '',
    duplicate_of  INTEGER REFERENCES images(id),
    study_id      INTEGER REFERENCES studies(id),
    kind          TEXT NOT NULL DEFAULT '',
    width         INTEGER,
    height        INTEGER,
    meta          TEXT NOT NULL DEFAULT '{}',
    cache_path    TEXT NOT NULL DEFAULT '',
    model_name    TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    discovered_at TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
-- one pending row per path; a later version of the same path is a new row
CREATE UNIQUE INDEX images_pending_path ON images(path) WHERE state = 'discovered';
CREATE INDEX images_version ON images(path, size, mtime_ns);
CREATE INDEX images_state ON images(state);
CREATE INDEX images_sha ON images(sha256);
CREATE INDEX images_sop ON images(sop_uid);
CREATE INDEX images_study ON images(study_id);

CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    image_id      INTEGER NOT NULL REFERENCES images(id),
    study_id      INTEGER REFERENCES studies(id),
    label         TEXT NOT NULL,
    code          TEXT NOT NULL DEFAULT '',
    confidence    REAL NOT NULL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    tooth_universal TEXT NOT NULL DEFAULT '',
    tooth_fdi     INTEGER,
    surfaces      TEXT NOT NULL DEFAULT '',
    severity      INTEGER NOT NULL DEFAULT 0,
    source        TEXT NOT NULL DEFAULT 'model',  -- model | clinician
    status        TEXT NOT NULL DEFAULT 'proposed', -- proposed | accepted | rejected | edited | added
    model_name    TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL
);
CREATE INDEX findings_image ON findings(image_id);
CREATE INDEX findings_study ON findings(study_id);

CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY,
    study_id    INTEGER NOT NULL REFERENCES studies(id),
    finding_id  INTEGER REFERENCES findings(id),
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    before      TEXT NOT NULL DEFAULT '',
    after       TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL
);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    study_id     INTEGER NOT NULL REFERENCES studies(id),
    destination  TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'queued',  -- queued | sending | done | failed | needs_attention
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    reason       TEXT NOT NULL DEFAULT '',
    marker       TEXT NOT NULL DEFAULT '',
    remote_id    TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (study_id, destination)
);

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL DEFAULT '{}',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
