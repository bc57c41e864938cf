-- Limits per account (issue 19), kept in the database so that every process and instance on it
-- counts the same uses.

-- Uses in the current window of each kind ('tickets', 'replies', 'upload_bytes'): a window starts
-- at the first use after the previous one ended; `used` counts what it admitted.
CREATE TABLE account_usage (
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('tickets', 'replies', 'upload_bytes')),
    window_start_us INTEGER NOT NULL,
    used            INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (account_id, kind)
) WITHOUT ROWID;

-- Bytes each account keeps stored (uploads, attachments and raw e-mail: every row of `files`),
-- kept by these triggers in the transaction that adds or removes a file, whoever writes it.
CREATE TABLE account_storage (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    bytes      INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO account_storage (account_id, bytes)
    SELECT account_id, SUM(size) FROM files GROUP BY account_id;

CREATE TRIGGER account_storage_on_insert AFTER INSERT ON files BEGIN
    INSERT INTO account_storage (account_id, bytes) VALUES (NEW.account_id, NEW.size)
        ON CONFLICT (account_id) DO UPDATE SET bytes = bytes + NEW.size;
END;

CREATE TRIGGER account_storage_on_delete AFTER DELETE ON files BEGIN
    UPDATE account_storage SET bytes = bytes - OLD.size WHERE account_id = OLD.account_id;
END;

CREATE TRIGGER account_storage_on_update AFTER UPDATE OF size, account_id ON files
WHEN OLD.size IS NOT NEW.size OR OLD.account_id IS NOT NEW.account_id BEGIN
    UPDATE account_storage SET bytes = bytes - OLD.size WHERE account_id = OLD.account_id;
    INSERT INTO account_storage (account_id, bytes) VALUES (NEW.account_id, NEW.size)
        ON CONFLICT (account_id) DO UPDATE SET bytes = bytes + NEW.size;
END;
