-- Keys for third-party apps. A key is shown once, when it is issued; only its SHA-256 is
-- kept (keys are 256-bit random, so a fast hash is enough: nothing to brute-force).
CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY NOT NULL,
    name                  TEXT NOT NULL,
    -- The key's first characters, to tell keys apart in lists and logs.
    prefix                TEXT NOT NULL,
    hash                  TEXT NOT NULL UNIQUE,
    -- Requests a minute for this key; NULL means the server's default for keys.
    rate_limit_per_minute INTEGER,
    created_by            TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    revoked_at            BIGINT,
    -- Counted in memory by each instance and added here every refresh interval.
    request_count         BIGINT NOT NULL DEFAULT 0,
    last_used_at          BIGINT
);
