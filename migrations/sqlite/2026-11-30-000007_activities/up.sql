-- Activities: what happens at a venue (a weekly singing group at the library). The fields
-- are one JSON document (`data`, as `ActivityFields` writes it: the schedule is nested);
-- the columns beside it are what queries filter or join on.
CREATE TABLE activity_kinds (
    slug        TEXT PRIMARY KEY NOT NULL,
    label       TEXT NOT NULL,
    description TEXT NOT NULL
);
INSERT INTO activity_kinds (slug, label, description) VALUES
    ('creative-arts', 'Creative arts', 'Painting, drawing, sculpture, photography and mixed-media sessions'),
    ('music-singing', 'Music and singing', 'Choirs, singing groups, music-making and listening sessions'),
    ('heritage', 'Heritage', 'Object handling, local history, reminiscence and heritage volunteering'),
    ('reading', 'Reading and writing', 'Reading groups, shared reading, creative writing and poetry'),
    ('film', 'Film', 'Screenings, including dementia-friendly and relaxed screenings'),
    ('crafts', 'Crafts', 'Knitting, sewing, pottery, woodwork and other making'),
    ('dance', 'Dance and movement', 'Dance classes, movement to music and seated dance'),
    ('nature', 'Nature', 'Gardening, walks, green and blue spaces');

CREATE TABLE audiences (
    slug        TEXT PRIMARY KEY NOT NULL,
    label       TEXT NOT NULL,
    description TEXT NOT NULL
);
INSERT INTO audiences (slug, label, description) VALUES
    ('dementia', 'People living with dementia', 'People living with dementia and those who care for them'),
    ('mental-health', 'Mental health', 'People living with anxiety, depression or other mental health conditions'),
    ('long-term-conditions', 'Long-term conditions', 'People living with long-term physical conditions (COPD, Parkinson''s, stroke, chronic pain)'),
    ('loneliness', 'Loneliness and isolation', 'People who are lonely or socially isolated'),
    ('young-people', 'Young people', 'Children and young people'),
    ('older-people', 'Older people', 'Older adults'),
    ('carers', 'Carers', 'Unpaid carers'),
    ('learning-disabilities', 'Learning disabilities', 'People with learning disabilities or autism');

CREATE TABLE activities (
    id          TEXT PRIMARY KEY NOT NULL,
    asset_id    TEXT NOT NULL REFERENCES assets (id),
    kind        TEXT NOT NULL REFERENCES activity_kinds (slug),
    status      TEXT NOT NULL,
    source      TEXT,
    source_id   TEXT,
    -- JSON: the ActivityFields.
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    -- The data version of the write that last wrote the row (as assets.change_seq).
    change_seq  BIGINT NOT NULL DEFAULT 0,
    CHECK (status IN ('published', 'draft', 'archived'))
);
CREATE UNIQUE INDEX activities_source_key ON activities (source, source_id);
CREATE INDEX activities_asset ON activities (asset_id);
CREATE INDEX activities_change_seq ON activities (change_seq);

-- Suggestions from the public may now propose an activity or correct one.
CREATE TABLE suggestions_new (
    id             TEXT PRIMARY KEY NOT NULL,
    kind           TEXT NOT NULL,
    asset_id       TEXT,
    fields         TEXT NOT NULL,
    contact_email  TEXT,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    decided_by     TEXT,
    decided_at     BIGINT,
    reason         TEXT,
    -- The activity an activity-correction is for.
    activity_id    TEXT,
    CHECK (kind IN ('new', 'correction', 'new-activity', 'activity-correction')),
    CHECK (status IN ('pending', 'approved', 'rejected'))
);
INSERT INTO suggestions_new (id, kind, asset_id, fields, contact_email, status, created_at, decided_by, decided_at, reason)
    SELECT id, kind, asset_id, fields, contact_email, status, created_at, decided_by, decided_at, reason FROM suggestions;
DROP TABLE suggestions;
ALTER TABLE suggestions_new RENAME TO suggestions;
CREATE INDEX suggestions_status ON suggestions (status, created_at);
