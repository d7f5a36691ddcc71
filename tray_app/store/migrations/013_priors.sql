-- Priors (issue 20): what the comparison of an analysed image with the same patient's earlier
-- image of the same view found. Derived data, written again when the image is compared again.
CREATE TABLE image_comparisons (
    image_id        INTEGER PRIMARY KEY REFERENCES images(id),
    study_id        INTEGER NOT NULL REFERENCES studies(id),
    prior_image_id  INTEGER NOT NULL REFERENCES images(id),
    prior_study_id  INTEGER NOT NULL REFERENCES studies(id),
    prior_date      TEXT NOT NULL DEFAULT '',      -- YYYY-MM-DD of the prior study
    view            TEXT NOT NULL DEFAULT '',      -- FMX view or image type both share
    registered      INTEGER NOT NULL DEFAULT 0,    -- 1 when the alignment can be trusted
    matrix          TEXT NOT NULL DEFAULT '[]',    -- 2×3, prior pixel -> current pixel
    correlation     REAL NOT NULL DEFAULT 0,
    changes         TEXT NOT NULL DEFAULT '[]',    -- findings new / gone / grown (clinical/change.py)
    bone            TEXT NOT NULL DEFAULT '[]',    -- bone level per tooth surface, now and then
    reason          TEXT NOT NULL DEFAULT '',      -- why there is no comparison, in words
    computed_at     TEXT NOT NULL
);
CREATE INDEX image_comparisons_study ON image_comparisons(study_id);
