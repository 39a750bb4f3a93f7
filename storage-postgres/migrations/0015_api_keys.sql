-- API keys of machine clients: the secret is kept only as auth-core's keyed digest.
-- A revoked key is deleted; the delete notifies the owner's id, so every instance's
-- session-status cache (which keeps key statuses too) drops the key at once.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    secret_hash  bytea NOT NULL,
    -- The roles the key may use; at use, only those the owner still holds count.
    roles        text[] NOT NULL,
    -- Requests per minute with this key; NULL: no limit of its own.
    rate_limit   integer CHECK (rate_limit > 0),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    UNIQUE (user_id, name)
);

CREATE TRIGGER api_keys_session_status_revoked AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION session_status_notify('user_id');
