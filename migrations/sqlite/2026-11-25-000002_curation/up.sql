-- Accounts of the people who curate the listings. No account exists until an admin is
-- created with `community-assets users add`.
CREATE TABLE users (
    username      TEXT PRIMARY KEY NOT NULL,
    -- argon2id, PHC string format
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    -- Part of every token; bumping it (disable, password change) revokes them all at once.
    token_version BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    CHECK (role IN ('admin', 'editor'))
);

-- Every write to an asset: who, when, what, and the record before and after (JSON).
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at       BIGINT NOT NULL,
    username TEXT NOT NULL,
    action   TEXT NOT NULL,
    asset_id TEXT,
    before   TEXT,
    after    TEXT
);
CREATE INDEX audit_log_asset ON audit_log (asset_id, id);
CREATE INDEX audit_log_user ON audit_log (username, id);
