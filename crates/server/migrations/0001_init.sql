-- Accounts come from the control panel (customers) or are staff; e-mail is stored lower-case.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT 'it',
    role          TEXT NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'staff')),
    password_hash TEXT NOT NULL,
    created_us    INTEGER NOT NULL
);

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    external_id TEXT NOT NULL,
    family      TEXT NOT NULL,
    product     TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    status      TEXT NOT NULL,
    UNIQUE (account_id, external_id)
);

-- Only the SHA-256 of a token is kept: a stolen database opens no session.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    created_us   INTEGER NOT NULL,
    last_seen_us INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    department  TEXT NOT NULL,
    service_id  TEXT REFERENCES services(id),
    subject     TEXT NOT NULL,
    status      TEXT NOT NULL,
    priority    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    created_us  INTEGER NOT NULL,
    activity_us INTEGER NOT NULL
);
CREATE INDEX tickets_by_account_activity ON tickets (account_id, activity_us DESC, id DESC);
CREATE INDEX tickets_by_account_status ON tickets (account_id, status, activity_us DESC, id DESC);

-- Messages and status-change events, in the order they happened (seq).
CREATE TABLE messages (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    ticket_id         INTEGER NOT NULL REFERENCES tickets(id),
    kind              TEXT NOT NULL,
    author_kind       TEXT NOT NULL,
    author_account_id TEXT REFERENCES accounts(id),
    author_name       TEXT NOT NULL,
    channel           TEXT NOT NULL,
    body              TEXT NOT NULL,
    status            TEXT,
    automatic         INTEGER NOT NULL DEFAULT 0,
    raw_email_id      TEXT,
    email_message_id  TEXT,
    created_us        INTEGER NOT NULL
);
CREATE INDEX messages_by_ticket ON messages (ticket_id, seq);
CREATE INDEX messages_by_email_id ON messages (email_message_id);

-- Files: uploaded (message_id NULL until attached), attached, or received by e-mail.
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    message_id   TEXT REFERENCES messages(id),
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    created_us   INTEGER NOT NULL
);
CREATE INDEX files_by_message ON files (message_id);

-- A retried request with the same key returns what the first one made.
CREATE TABLE idempotency (
    account_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_us   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- Notifications, queued in the same transaction as the message they announce.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER REFERENCES tickets(id),
    message_id    TEXT NOT NULL UNIQUE,
    from_addr     TEXT NOT NULL,
    to_addr       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    in_reply_to   TEXT,
    references_   TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_try_us   INTEGER NOT NULL,
    sent_us       INTEGER,
    last_error    TEXT,
    created_us    INTEGER NOT NULL
);
CREATE INDEX outbox_pending ON outbox (sent_us, next_try_us);

-- Every e-mail that reached the intake, accepted or not, with why.
CREATE TABLE mail_intake (
    id            TEXT PRIMARY KEY,
    account_id    TEXT REFERENCES accounts(id),
    sender        TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    message_id    TEXT,
    outcome       TEXT NOT NULL,
    reason        TEXT,
    ticket_id     INTEGER REFERENCES tickets(id),
    raw_path      TEXT NOT NULL,
    received_us   INTEGER NOT NULL
);
CREATE INDEX mail_intake_by_account ON mail_intake (account_id, received_us DESC);
CREATE UNIQUE INDEX mail_intake_dedup ON mail_intake (sender, message_id) WHERE message_id IS NOT NULL;
