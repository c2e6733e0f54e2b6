-- Account changes are audited too: the account an entry is about (NULL for entries about
-- assets and API keys), so that one account's history can be listed.
ALTER TABLE audit_log ADD COLUMN account TEXT;
CREATE INDEX audit_log_account ON audit_log (account, id);
