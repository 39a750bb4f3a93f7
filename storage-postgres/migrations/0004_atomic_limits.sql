-- Limits are reserved before the work they guard (auth_core::AuthStore::reserve_attempt):
-- a counter holds granted attempts, not only failures. Wrong verification codes count
-- against the login's budget there, so a code no longer carries its own count.
ALTER TABLE auth_attempts RENAME COLUMN failures TO attempts;
ALTER TABLE auth_attempts RENAME COLUMN last_failure TO last_attempt;
ALTER INDEX auth_attempts_last_failure_idx RENAME TO auth_attempts_last_attempt_idx;
ALTER TABLE verification_codes DROP COLUMN attempts;
-- Live sessions of a user, oldest first: the per-user cap revokes from the front.
CREATE INDEX sessions_user_live_idx ON sessions (user_id, created_at, id) WHERE NOT revoked;
