-- What several processes on one database must share (issue 20), as on PostgreSQL.

-- An outbox row claimed by a sender until this time: no other sender takes it meanwhile, and a
-- crashed sender's claims pass to another once the lease ends.
ALTER TABLE outbox ADD COLUMN lease_until_us INTEGER;

-- Login attempts per key (an account, a client address, a device) in a fixed window.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    window_start_us INTEGER NOT NULL
) WITHOUT ROWID;
