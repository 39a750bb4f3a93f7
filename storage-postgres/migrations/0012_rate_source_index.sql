-- "The newest day a source published" (a rate feed's status) reads one index entry.
CREATE INDEX rate_observations_source_day ON rate_observations (source, as_of);
