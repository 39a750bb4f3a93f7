-- Accounts, roles, sessions, login history and email verification codes.

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    login          text NOT NULL CHECK (login ~ '^[A-Za-z0-9]{2,64}$'),
    email          text CHECK (email = lower(email)),
    first_name     text,
    last_name      text,
    password_hash  text NOT NULL,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    email_verified boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL
);
-- Logins and emails are unique ignoring case.
CREATE UNIQUE INDEX users_login_key ON users (lower(login));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE roles (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    description text
);
INSERT INTO roles (name, description)
VALUES ('admin', 'Administrators: manage users, roles and currencies');

CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id                uuid PRIMARY KEY,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    counter           bigint NOT NULL CHECK (counter >= 0),
    created_at        timestamptz NOT NULL,
    last_refreshed_at timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    revoked           boolean NOT NULL DEFAULT false,
    ip                inet,
    user_agent        text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE login_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    ip         inet,
    user_agent text,
    success    boolean NOT NULL
);
CREATE INDEX login_events_user_at_idx ON login_events (user_id, at DESC, id DESC);

CREATE TABLE verification_codes (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
