ALTER TABLE suggestions DROP COLUMN activity_id;
DELETE FROM suggestions WHERE kind IN ('new-activity', 'activity-correction');
ALTER TABLE suggestions DROP CONSTRAINT suggestions_kind_check;
ALTER TABLE suggestions ADD CONSTRAINT suggestions_kind_check CHECK (kind IN ('new', 'correction'));
DROP TABLE activities;
DROP TABLE audiences;
DROP TABLE activity_kinds;
