-- One number that every change ending sessions, or changing what a session carries, moves on
-- (issue 19): a process keeps live sessions in memory for a few seconds and compares this number
-- before answering from memory, so a password changed by another process (the panel's import,
-- another instance) ends the old sessions at the very next request, not when the memory expires.
-- Triggers move it, so no writer can forget to. A migration that rebuilds `accounts` or `sessions`
-- must create their triggers again.

CREATE TABLE auth_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);

INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);

-- A password, a role, a name or a language changed (an import of the same values moves nothing).
CREATE TRIGGER auth_epoch_account_update AFTER UPDATE ON accounts
WHEN OLD.password_hash IS NOT NEW.password_hash OR OLD.role IS NOT NEW.role
  OR OLD.name IS NOT NEW.name OR OLD.language IS NOT NEW.language OR OLD.email IS NOT NEW.email
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER auth_epoch_account_delete AFTER DELETE ON accounts
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

-- A session ended before its expiry (a logout, a password change, the operator's switch); the
-- sweep of expired sessions moves nothing.
CREATE TRIGGER auth_epoch_session_delete AFTER DELETE ON sessions
WHEN OLD.expires_us > CAST(unixepoch('subsec') * 1000000 AS INTEGER)
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
