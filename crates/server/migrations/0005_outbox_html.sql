-- The HTML alternative of a notification (the text part stays the reference).
ALTER TABLE outbox ADD COLUMN html TEXT;
