-- What the official files give beyond the IMD and the domain ranks and deciles: the domain
-- scores (File 7) and the supplementary indices IDACI and IDAOPI (File 3), as one JSON
-- object, e.g. {"scores":{"income":0.101},"idaci":{"rank":33304,"decile":10}}; null when
-- none was imported. One column rather than thirteen: they are read whole, never queried.
ALTER TABLE areas ADD COLUMN indices TEXT;
