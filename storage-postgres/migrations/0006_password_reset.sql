-- Password reset tokens: at most one per user, kept only as a keyed hash.
CREATE TABLE password_resets (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL
);
CREATE INDEX password_resets_expires_at_idx ON password_resets (expires_at);
