-- Clinical tagging: the image-type decision per image, and the study's derived summary
-- (set completeness, CDT suggestions, drafted notes), recomputed whenever the study changes.
ALTER TABLE images ADD COLUMN kind_confidence REAL NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN kind_rule TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE studies ADD COLUMN clinical TEXT NOT NULL DEFAULT '{}';
