-- Sources and provenance: the lists records come from, which records link which asset,
-- what each source last gave, who set each field last, and the matches waiting for a
-- person.

-- The lists the directory is built from. `licence` NULL means unknown (a source first
-- named by an import). A higher priority wins a field; `field_priorities` (JSON
-- {"field": priority}) overrides it per field.
CREATE TABLE sources (
    name             TEXT PRIMARY KEY NOT NULL,
    title            TEXT,
    licence          TEXT,
    attribution      TEXT,
    url              TEXT,
    priority         INTEGER NOT NULL,
    field_priorities TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

INSERT INTO sources (name, priority, field_priorities, created_at, updated_at)
    SELECT DISTINCT source, 0, '{}', 0, 0 FROM assets WHERE source IS NOT NULL;

-- One record of one source, linked to the asset it describes; an asset links any number.
-- `fields` is what the source last gave (JSON asset fields), `source_status` its status.
CREATE TABLE source_records (
    source        TEXT NOT NULL REFERENCES sources (name),
    source_id     TEXT NOT NULL,
    asset_id      TEXT NOT NULL REFERENCES assets (id),
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    fields        TEXT NOT NULL,
    PRIMARY KEY (source, source_id)
);
CREATE INDEX source_records_asset ON source_records (asset_id);

INSERT INTO source_records (source, source_id, asset_id, first_seen_at, last_seen_at, fields)
    SELECT source, source_id, id, created_at, updated_at, '{}' FROM assets
    WHERE source IS NOT NULL AND source_id IS NOT NULL;

-- A record is now found through source_records; the asset keeps the source and source_id
-- it was created from, as history (a key may come back after its asset was archived).
DROP INDEX assets_source_key;
CREATE INDEX assets_source ON assets (source, source_id);

-- Who set each field last: JSON {"field": {"source": name} | {"by": username}, "at": µs}.
ALTER TABLE assets ADD COLUMN field_origins TEXT NOT NULL DEFAULT '{}';

-- Rows an import could not decide alone (kind `match`), and assets that a complete list
-- no longer names while another source still does (kind `closure`).
CREATE TABLE match_reviews (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    -- JSON asset fields of the row (kind `match`); the record's last fields (`closure`).
    row_fields  TEXT NOT NULL,
    location    TEXT,
    -- JSON: the candidates with their scores and reasons, best first.
    candidates  TEXT NOT NULL,
    -- The asset a closure is about, or the asset a decision linked or created.
    asset_id    TEXT,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    decided_by  TEXT,
    decided_at  BIGINT,
    CHECK (kind IN ('match', 'closure')),
    CHECK (status IN ('pending', 'linked', 'created', 'skipped', 'archived', 'kept'))
);
CREATE INDEX match_reviews_status ON match_reviews (status, created_at);
CREATE INDEX match_reviews_key ON match_reviews (source, source_id);

-- Why a write was made, where the action alone does not say (e.g. the source whose list
-- closed an asset).
ALTER TABLE audit_log ADD COLUMN reason TEXT;
