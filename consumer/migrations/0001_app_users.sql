-- The application's own users table, in its default schema: the store's tables live
-- in their own schema, so the names do not clash.
CREATE TABLE users (id bigint PRIMARY KEY, nickname text NOT NULL);
