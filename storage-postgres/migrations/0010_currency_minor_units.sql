-- Currencies know their minor units: the digits after the point of their smallest
-- unit (JPY 0, USD 2, KWD 3, CLF 4), to which converted amounts are rounded. Existing
-- rows take the ISO 4217 figure of their code, and 2 when the code is not listed
-- with another one (also the default of rows inserted without going through the store).
ALTER TABLE currencies ADD COLUMN minor_units smallint NOT NULL DEFAULT 2
    CHECK (minor_units BETWEEN 0 AND 18);
UPDATE currencies c SET minor_units = iso.minor_units
FROM (VALUES ('BHD', 3), ('BIF', 0), ('CLF', 4), ('CLP', 0), ('DJF', 0), ('GNF', 0),
             ('IQD', 3), ('ISK', 0), ('JOD', 3), ('JPY', 0), ('KMF', 0), ('KRW', 0),
             ('KWD', 3), ('LYD', 3), ('OMR', 3), ('PYG', 0), ('RWF', 0), ('TND', 3),
             ('UGX', 0), ('UYI', 0), ('UYW', 4), ('VND', 0), ('VUV', 0), ('XAF', 0),
             ('XOF', 0), ('XPF', 0)) AS iso (code, minor_units)
WHERE c.code = iso.code;
