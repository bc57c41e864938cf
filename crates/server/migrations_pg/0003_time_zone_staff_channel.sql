-- Issue 22, as on SQLite (migrations/0016_time_zone_staff_channel.sql): the IANA time zone of a
-- customer's e-mails (none until the app sends one: Europe/Rome), and the channel `staff` of
-- messages written in the helpdesk's own tools (the staff API, `helpdesk-server staff reply`).
ALTER TABLE accounts ADD COLUMN time_zone TEXT;

ALTER TABLE messages DROP CONSTRAINT messages_channel_check;
ALTER TABLE messages ADD CONSTRAINT messages_channel_check
    CHECK (channel IN ('web', 'email', 'staff'));

UPDATE messages SET channel = 'staff' WHERE author_kind = 'staff' AND channel = 'web';
