-- E-mail intake: why a message was refused or quarantined in more detail than the reason code
-- (e.g. the authentication results), for staff looking into it.
ALTER TABLE mail_intake ADD COLUMN detail TEXT;

-- Answers the intake sent (refusals and acknowledgments), per address: at most a few an hour,
-- so that two robots never keep answering each other.
CREATE TABLE mail_answers (
    address    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_us INTEGER NOT NULL
);
CREATE INDEX mail_answers_by_address ON mail_answers (address, created_us);
