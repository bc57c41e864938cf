-- Whether a customer's e-mail came signed (issue 21), as on SQLite
-- (migrations/0017_signed_messages.sql).
ALTER TABLE messages ADD COLUMN signed BOOLEAN NOT NULL DEFAULT FALSE;
