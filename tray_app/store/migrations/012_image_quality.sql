-- Image-quality advice (issue 20): what the checks of tray_app/quality/ found on each image, seconds
-- after it arrived. One row per checked image (a re-check replaces it, with a new id, so the tray
-- announces it again); `set_issue` is the study-level advice (a missing bitewing) as of this image.
CREATE TABLE image_quality (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a re-check is a new id the tray and windows notice
    image_id INTEGER NOT NULL UNIQUE REFERENCES images(id),
    study_id INTEGER REFERENCES studies(id),
    checked_at TEXT NOT NULL,
    issues TEXT NOT NULL DEFAULT '[]',
    set_issue TEXT
);
CREATE INDEX image_quality_study ON image_quality(study_id);
