-- Accounts whose reference address sends our e-mails back (issue 21), as on SQLite
-- (migrations/0015_mail_delivery.sql).
CREATE TABLE mail_delivery (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    since_us   BIGINT NOT NULL,
    reason     TEXT NOT NULL
        CHECK (reason IN ('mailbox_full', 'unknown_user', 'rejected', 'other')),
    detail     TEXT
);
