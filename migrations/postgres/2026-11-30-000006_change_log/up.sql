-- The lineage of versions: every data_version a write reaches, with a random tag. An
-- instance at version N checks that the database's tag for N is the one it saw: after a
-- restore, new writes can take the data version past N again, but with other tags.
CREATE TABLE change_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    tag BIGINT NOT NULL
);
