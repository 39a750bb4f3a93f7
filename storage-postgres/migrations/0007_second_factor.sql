-- Second factors: a TOTP secret per user (encrypted by auth-core), single-use
-- recovery codes (hashed), and whether a session's login passed a second factor.
CREATE TABLE totp_factors (
    user_id   uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret    bytea NOT NULL,
    active    boolean NOT NULL DEFAULT false,
    last_step bigint NOT NULL
);
CREATE TABLE recovery_codes (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE sessions ADD COLUMN second_factor boolean NOT NULL DEFAULT false;
