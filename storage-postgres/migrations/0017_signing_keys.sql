-- Signing keys kept in the store: every instance signs with the current key and
-- publishes the next and retired ones. The private halves are sealed by auth-core.
CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,
    algorithm    text NOT NULL,
    state        text NOT NULL CHECK (state IN ('next', 'current', 'retired')),
    sealed_key   bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    activated_at timestamptz,
    retire_after timestamptz
);

-- One current key at a time, whatever a writer does.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';

-- The version of the set: every write of the set is a compare-and-set on it.
CREATE TABLE signing_key_generation (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL
);
INSERT INTO signing_key_generation (generation) VALUES (0);

-- Every write of the set tells the other instances (their session-status listener) to
-- read the keys again now rather than at their next poll.
CREATE FUNCTION signing_keys_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('storage_postgres_session_status', 'signing-keys');
    RETURN NULL;
END
$$;
CREATE TRIGGER signing_key_generation_changed AFTER UPDATE ON signing_key_generation
    FOR EACH ROW EXECUTE FUNCTION signing_keys_notify();
