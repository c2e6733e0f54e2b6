DROP INDEX audit_log_account;
ALTER TABLE audit_log DROP COLUMN account;
