-- The review hub (issue 18): operatory PCs paired with a one-time code, each with its own
-- revocable token. Codes and tokens are stored as SHA-256 hashes only (they are random and
-- long, or short-lived and single use), so a copied database lets nobody in.
CREATE TABLE hub_pairing_codes (
    code_hash  TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE TABLE hub_clients (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at   TEXT
);
-- one active client per name (a revoked name may pair again)
CREATE UNIQUE INDEX hub_clients_active_name ON hub_clients(name) WHERE revoked_at IS NULL;
