-- The last TOTP time step accepted for each user: a code is good once, so a replayed code is
-- refused even when it reaches another server instance.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
-- A password handed over once (users add, reset-password, the first start) must be replaced at
-- the first sign-in and stops working at password_expires_at if it was never used.
ALTER TABLE users ADD COLUMN password_one_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_expires_at BIGINT;
