-- Rates as observations over time: what a source published for a pair and a day, and
-- when it was recorded. Codes are plain text: an imported feed may name currencies
-- that have no record. The primary key makes a recording idempotent (pair, day,
-- source) and serves "the latest observation on or before a day" per pair.
CREATE TABLE rate_observations (
    base        text NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    target      text NOT NULL CHECK (target ~ '^[A-Z]{3}$'),
    as_of       date NOT NULL,
    source      text NOT NULL,
    rate        numeric NOT NULL CHECK (rate > 0),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (base, target, as_of, source)
);
