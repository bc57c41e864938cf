-- Sign-on tokens already used, by their `jti`, until they expire: a replay is refused, also when
-- it reaches another server instance sharing this database.
CREATE TABLE sso_tokens_used (
    jti        TEXT PRIMARY KEY,
    expires_us INTEGER NOT NULL
);
