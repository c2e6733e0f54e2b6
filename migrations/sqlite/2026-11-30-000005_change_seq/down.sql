DROP INDEX assets_change_seq;
ALTER TABLE assets DROP COLUMN change_seq;
