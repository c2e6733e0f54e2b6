ALTER TABLE audit_log DROP COLUMN reason;
DROP TABLE match_reviews;
ALTER TABLE assets DROP COLUMN field_origins;
DROP TABLE source_records;
DROP TABLE sources;
DROP INDEX assets_source;
CREATE UNIQUE INDEX assets_source_key ON assets (source, source_id);
