-- Currencies and exchange rates.

CREATE TABLE currencies (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL CHECK (code ~ '^[A-Z]{3}$'),
    name text NOT NULL CHECK (btrim(name) <> ''),
    sign text NOT NULL CHECK (btrim(sign) <> ''),
    CONSTRAINT currencies_code_key UNIQUE (code)
);

CREATE TABLE exchange_rates (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base_currency_id   bigint NOT NULL REFERENCES currencies (id) ON DELETE RESTRICT,
    target_currency_id bigint NOT NULL REFERENCES currencies (id) ON DELETE RESTRICT,
    rate               numeric NOT NULL CHECK (rate > 0 AND rate <= 1000000000000 AND scale(rate) <= 12),
    CONSTRAINT exchange_rates_pair_key UNIQUE (base_currency_id, target_currency_id),
    CONSTRAINT exchange_rates_distinct_currencies CHECK (base_currency_id <> target_currency_id)
);
CREATE INDEX exchange_rates_target_idx ON exchange_rates (target_currency_id);
