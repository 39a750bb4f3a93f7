-- The key-value resource of server-example. Numbered from 1001 so it never collides
-- with storage-postgres's migrations, which share the same history table.
CREATE TABLE kv_entries (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key     text NOT NULL CHECK (key <> '' AND octet_length(key) <= 256),
    value   jsonb NOT NULL,
    PRIMARY KEY (user_id, key)
);
