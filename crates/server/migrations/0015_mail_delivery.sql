-- Accounts whose reference address sends our e-mails back (issue 21): since the first bounce of
-- one of our notifications, why (a reason code) and the bounce's status and diagnostic. Cleared
-- when the customer writes again or asks for a new try.
CREATE TABLE mail_delivery (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    since_us   INTEGER NOT NULL,
    reason     TEXT NOT NULL
        CHECK (reason IN ('mailbox_full', 'unknown_user', 'rejected', 'other')),
    detail     TEXT
) WITHOUT ROWID;
