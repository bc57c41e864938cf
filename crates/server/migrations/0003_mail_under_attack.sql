-- E-mail intake under attack.
-- A message that failed sender authentication was not sent by the account it names: it is kept
-- for staff under the account it claims, and never listed among that customer's refused e-mails.
ALTER TABLE mail_intake ADD COLUMN claimed_account_id TEXT REFERENCES accounts(id);

-- The hourly cleanup deletes the raw mail of refusals past their retention (raw_path becomes '').
CREATE INDEX mail_intake_refused_raw ON mail_intake (received_us)
    WHERE outcome = 'refused' AND raw_path <> '';
