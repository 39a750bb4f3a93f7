-- Account security: re-authentication, single-use MFA challenges, pending email
-- changes, and one-time things bound to the account's state.

-- When a session last proved its password or second factor again.
ALTER TABLE sessions ADD COLUMN reauthenticated_at timestamptz;

-- A login's MFA challenge, kept only as a keyed hash; deleted when used.
CREATE TABLE mfa_challenges (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);

-- A requested email change, taken once the code mailed to the new address is confirmed.
CREATE TABLE email_changes (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email      text NOT NULL CHECK (email = lower(email)),
    code_hash  bytea NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX email_changes_expires_at_idx ON email_changes (expires_at);

-- Reset tokens and MFA challenges were issued for the account as it was: any change of
-- its password, email, status or second factor deletes them in the same transaction,
-- whichever statement made the change. The argument names the column holding the
-- user's id; the tables are those of the schema of the table that fired, whatever the
-- session's search_path.
CREATE FUNCTION drop_one_time_tokens() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    uid uuid := (to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END) ->> TG_ARGV[0])::uuid;
BEGIN
    EXECUTE format('DELETE FROM %I.password_resets WHERE user_id = $1', TG_TABLE_SCHEMA) USING uid;
    EXECUTE format('DELETE FROM %I.mfa_challenges WHERE user_id = $1', TG_TABLE_SCHEMA) USING uid;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_drop_one_time_tokens AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
                    OR OLD.email IS DISTINCT FROM NEW.email
                    OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION drop_one_time_tokens('id');
CREATE TRIGGER totp_factors_drop_one_time_tokens_insert AFTER INSERT ON totp_factors
    FOR EACH ROW EXECUTE FUNCTION drop_one_time_tokens('user_id');
CREATE TRIGGER totp_factors_drop_one_time_tokens_update AFTER UPDATE ON totp_factors
    FOR EACH ROW WHEN (OLD.secret IS DISTINCT FROM NEW.secret OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION drop_one_time_tokens('user_id');
CREATE TRIGGER totp_factors_drop_one_time_tokens_delete AFTER DELETE ON totp_factors
    FOR EACH ROW EXECUTE FUNCTION drop_one_time_tokens('user_id');
