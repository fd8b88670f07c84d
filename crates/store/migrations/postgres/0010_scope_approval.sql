-- Management sign-off of the audit scope (who, when); a later change to the scope outdates it.

ALTER TABLE audits ADD COLUMN approved_by TEXT;
ALTER TABLE audits ADD COLUMN approved_at BIGINT;
