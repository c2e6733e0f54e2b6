-- Places and corrections proposed by the public, waiting for an editor.
CREATE TABLE suggestions (
    id             TEXT PRIMARY KEY NOT NULL,
    kind           TEXT NOT NULL,
    -- The asset a correction is for.
    asset_id       TEXT,
    -- JSON: the proposed fields (a new place), or the fields to change (a correction).
    fields         TEXT NOT NULL,
    contact_email  TEXT,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    decided_by     TEXT,
    decided_at     BIGINT,
    reason         TEXT,
    CHECK (kind IN ('new', 'correction')),
    CHECK (status IN ('pending', 'approved', 'rejected'))
);
CREATE INDEX suggestions_status ON suggestions (status, created_at);
