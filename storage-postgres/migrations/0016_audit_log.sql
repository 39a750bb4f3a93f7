-- The audit log: one row per security event, kept apart from the rows it is about
-- (no foreign keys), so an account's events outlive the account until the retention
-- purges them. The login history is its login events; `login_events` moves into it.
CREATE TABLE audit_events (
    id           uuid PRIMARY KEY,
    at           timestamptz NOT NULL,
    kind         text NOT NULL,
    -- The actor: a user (with a session, or through the key `actor_key`), the
    -- service itself (`actor_system`), or nobody known yet (a login attempt).
    actor_user   uuid,
    actor_key    uuid,
    actor_system boolean NOT NULL DEFAULT false,
    target       uuid,
    ip           inet,
    user_agent   text,
    success      boolean NOT NULL,
    detail       text
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_target ON audit_events (target, at, id);
CREATE INDEX audit_events_actor ON audit_events (actor_user, at, id);

INSERT INTO audit_events (id, at, kind, target, ip, user_agent, success)
    SELECT gen_random_uuid(), at,
           CASE WHEN success THEN 'login_succeeded' ELSE 'login_failed' END,
           user_id, ip, user_agent, success
    FROM login_events;
DROP TABLE login_events;
