DELETE FROM suggestions WHERE kind IN ('new-activity', 'activity-correction');
ALTER TABLE suggestions DROP COLUMN activity_id;
DROP TABLE activities;
DROP TABLE audiences;
DROP TABLE activity_kinds;
