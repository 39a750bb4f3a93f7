-- Failed-attempt counters for throttling, keyed by login or client address, shared by
-- every server instance.
CREATE TABLE auth_attempts (
    key          text PRIMARY KEY,
    failures     integer NOT NULL CHECK (failures >= 0),
    window_start timestamptz NOT NULL,
    last_failure timestamptz NOT NULL
);
CREATE INDEX auth_attempts_last_failure_idx ON auth_attempts (last_failure);
