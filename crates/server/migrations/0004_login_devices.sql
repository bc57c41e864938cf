-- Browsers that logged in to an account before (OWASP device cookies): an attempt from one of
-- them is not locked out by failures from elsewhere. Only the token's SHA-256 is kept.
CREATE TABLE login_devices (
    token_hash   TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_us   INTEGER NOT NULL,
    last_used_us INTEGER NOT NULL
);
CREATE INDEX login_devices_by_account ON login_devices (account_id);
