ALTER TABLE assets DROP COLUMN location_precision;
DROP TABLE postcodes;
