-- Postcode positions (OS Code-Point Open), for placing import rows without coordinates
-- and for searching near a postcode. `postcode` is normalised: upper case, one space
-- before the inward code (`SW1A 2AA`).
CREATE TABLE postcodes (
    postcode TEXT PRIMARY KEY NOT NULL,
    lat      DOUBLE PRECISION NOT NULL,
    lon      DOUBLE PRECISION NOT NULL
);

-- `postcode` when an asset was placed at its postcode's position; `exact` otherwise.
ALTER TABLE assets ADD COLUMN location_precision TEXT NOT NULL DEFAULT 'exact';
