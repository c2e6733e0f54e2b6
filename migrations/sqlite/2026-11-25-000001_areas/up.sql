-- Statistical areas (LSOAs) of the active deprivation vintage. An import replaces every
-- row in one transaction, so readers see the old set or the new one, never a mix.
CREATE TABLE areas (
    code               TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    la_code            TEXT NOT NULL,
    la_name            TEXT NOT NULL,
    nation             TEXT NOT NULL,
    lat                DOUBLE PRECISION NOT NULL,
    lon                DOUBLE PRECISION NOT NULL,
    population         BIGINT,
    imd_score          DOUBLE PRECISION,
    imd_rank           INTEGER NOT NULL,
    imd_decile         INTEGER NOT NULL,
    income_rank        INTEGER,
    income_decile      INTEGER,
    employment_rank    INTEGER,
    employment_decile  INTEGER,
    education_rank     INTEGER,
    education_decile   INTEGER,
    health_rank        INTEGER,
    health_decile      INTEGER,
    crime_rank         INTEGER,
    crime_decile       INTEGER,
    housing_rank       INTEGER,
    housing_decile     INTEGER,
    environment_rank   INTEGER,
    environment_decile INTEGER,
    -- GeoJSON Polygon or MultiPolygon (WGS84), when a boundary file was imported.
    boundary           TEXT,
    CHECK (imd_decile BETWEEN 1 AND 10),
    CHECK (lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180)
);
CREATE INDEX areas_la ON areas (la_code);

-- The active vintage: one row, rewritten by every area import. Its version lets instances
-- reuse their parsed areas when only assets changed.
CREATE TABLE area_set (
    id          INTEGER PRIMARY KEY NOT NULL,
    version     BIGINT NOT NULL,
    index_name  TEXT,
    geography   TEXT,
    imported_at BIGINT
);
INSERT INTO area_set (id, version) VALUES (1, 0);
