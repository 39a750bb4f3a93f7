-- Passkeys (WebAuthn credentials) and the single-use state of their ceremonies; and
-- how a session signed in, now that a passkey can be the second factor or the only
-- one (auth-core's `SignIn`, by its stable code: 0 password, 1 password and one-time
-- code, 2/3 password and hardware/software key, 4/5 hardware/software key alone).
ALTER TABLE sessions ADD COLUMN sign_in smallint NOT NULL DEFAULT 0;
UPDATE sessions SET sign_in = 1 WHERE second_factor;
ALTER TABLE sessions DROP COLUMN second_factor;

CREATE TABLE passkeys (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Unique across users: an authenticator's credential names one account.
    credential_id   bytea NOT NULL UNIQUE,
    name            text NOT NULL,
    -- The credential as auth-core writes it: versioned, public material only.
    credential      bytea NOT NULL,
    counter         bigint NOT NULL CHECK (counter >= 0),
    backup_eligible boolean NOT NULL,
    backup_state    boolean NOT NULL,
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

CREATE TABLE passkey_ceremonies (
    id         uuid PRIMARY KEY,
    kind       text NOT NULL,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    state      bytea NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);
