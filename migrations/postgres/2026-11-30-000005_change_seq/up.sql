-- Incremental snapshots: every write sets its rows' change_seq to the data_version it bumped
-- (in the same transaction), so an instance holding a snapshot of version N reads only the
-- rows with change_seq > N. Rows written before this migration keep 0: an instance that
-- starts reads everything anyway.
ALTER TABLE assets ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX assets_change_seq ON assets (change_seq);
