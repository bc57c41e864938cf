-- Issue 22, e-mail and the details.
--
-- The IANA time zone of the times in a customer's e-mails, as the app sends it from the browser;
-- none until then (the server writes Europe/Rome).
ALTER TABLE accounts ADD COLUMN time_zone TEXT;

-- Sessions carry the time zone too: a change moves the auth epoch (0013), so that every process
-- that keeps sessions in memory reads the account again.
DROP TRIGGER auth_epoch_account_update;

CREATE TRIGGER auth_epoch_account_update AFTER UPDATE ON accounts
WHEN OLD.password_hash IS NOT NEW.password_hash OR OLD.role IS NOT NEW.role
  OR OLD.name IS NOT NEW.name OR OLD.language IS NOT NEW.language OR OLD.email IS NOT NEW.email
  OR OLD.time_zone IS NOT NEW.time_zone
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1;
END;

-- A staff reply is written in the helpdesk's own tools (the staff API, `helpdesk-server staff
-- reply`), not on the customers' website: its messages say so with the channel `staff`. The
-- triggers of 0009 take the new value.
DROP TRIGGER messages_channel_check_insert;
DROP TRIGGER messages_channel_check_update;

CREATE TRIGGER messages_channel_check_insert BEFORE INSERT ON messages
WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('web', 'email', 'staff') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.channel');
END;

CREATE TRIGGER messages_channel_check_update BEFORE UPDATE OF channel ON messages
WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('web', 'email', 'staff') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.channel');
END;

-- Staff never wrote on the website nor, until now, by e-mail: what staff wrote as `web` came
-- from those tools.
UPDATE messages SET channel = 'staff' WHERE author_kind = 'staff' AND channel = 'web';
