-- Portable schema: the same column types on SQLite and PostgreSQL so one diesel code path
-- serves both. UUIDs are TEXT, timestamps are BIGINT microseconds since the Unix epoch,
-- tags are a JSON array in TEXT.
CREATE TABLE categories (
    slug        TEXT PRIMARY KEY NOT NULL,
    label       TEXT NOT NULL,
    description TEXT NOT NULL
);

INSERT INTO categories (slug, label, description) VALUES
    ('museum', 'Museum', 'Museums and collections open to the public'),
    ('library', 'Library', 'Public libraries, including community-managed libraries'),
    ('gallery', 'Gallery', 'Art galleries and exhibition spaces'),
    ('theatre', 'Theatre', 'Theatres and performance venues'),
    ('cafe', 'Cafe', 'Cafes that host community, arts or social activity'),
    ('arts_centre', 'Arts centre', 'Arts centres offering classes, workshops and events'),
    ('heritage', 'Heritage', 'Historic buildings, monuments and heritage sites'),
    ('cinema', 'Cinema', 'Cinemas and community film venues'),
    ('community_centre', 'Community centre', 'Community centres and village halls');

CREATE TABLE assets (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    category         TEXT NOT NULL REFERENCES categories (slug),
    lat              DOUBLE PRECISION NOT NULL,
    lon              DOUBLE PRECISION NOT NULL,
    address          TEXT,
    town             TEXT,
    postcode         TEXT,
    website          TEXT,
    phone            TEXT,
    email            TEXT,
    description      TEXT,
    opening_hours    TEXT,
    wheelchair       TEXT NOT NULL,
    cost             TEXT NOT NULL,
    tags             TEXT NOT NULL,
    source           TEXT,
    source_id        TEXT,
    status           TEXT NOT NULL,
    last_verified_at BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    CHECK (wheelchair IN ('yes', 'limited', 'no', 'unknown')),
    CHECK (cost IN ('free', 'paid', 'donation', 'unknown')),
    CHECK (status IN ('published', 'draft', 'archived')),
    CHECK (lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180)
);

CREATE UNIQUE INDEX assets_source_key ON assets (source, source_id);
CREATE INDEX assets_status ON assets (status);

-- A single counter bumped by every write transaction: instances poll it to know when to
-- rebuild their in-memory snapshot.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
