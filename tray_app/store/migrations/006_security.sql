-- Security hardening (issue 22): the database's identity for its audit key record (kept in
-- the OS keyring, see audit_seal.py), and PINs to be checked against the longer minimum for
-- dentists and admins at their next use (the PIN itself is only known then).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta(key, value) VALUES ('database_id', lower(hex(randomblob(16))));
ALTER TABLE clinicians ADD COLUMN pin_weak INTEGER NOT NULL DEFAULT 0;
UPDATE clinicians SET pin_weak = 1 WHERE role IN ('dentist', 'admin');
