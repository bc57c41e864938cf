-- Whether a customer's e-mail came signed, S/MIME (`multipart/signed`) or PGP/MIME (issue 21):
-- the thread says so. The signature itself is no attachment; only the original e-mail holds it.
ALTER TABLE messages ADD COLUMN signed INTEGER NOT NULL DEFAULT 0;
