-- An application's own table, named as one of the store's is.
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
);
