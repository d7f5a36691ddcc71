-- Study versions (issue 18): a counter bumped by every review action and the sign-off, so two
-- PCs reviewing one study through the hub notice each other's changes (a stale action is refused).
ALTER TABLE studies ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
