-- no-transaction
-- A customer's language becomes optional (issue "two languages"): imported and demo customers
-- start with none (the server then writes Italian) until they choose one; saved values are kept.
-- SQLite drops a NOT NULL only by rebuilding the table. Every other table has a foreign key onto
-- accounts, and foreign keys can be switched off only outside a transaction: hence
-- `no-transaction` above, and the rebuild in a transaction of its own (the documented procedure of
-- https://www.sqlite.org/lang_altertable.html#otheralter). With the keys off, dropping the old
-- table deletes nothing that refers to it (login_devices would cascade otherwise).
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

CREATE TABLE accounts_rebuilt (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    language      TEXT,
    role          TEXT NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'staff')),
    password_hash TEXT NOT NULL,
    created_us    INTEGER NOT NULL
);

INSERT INTO accounts_rebuilt (id, email, name, language, role, password_hash, created_us)
SELECT id, email, name, language, role, password_hash, created_us FROM accounts;

DROP TABLE accounts;

ALTER TABLE accounts_rebuilt RENAME TO accounts;

COMMIT;

PRAGMA foreign_keys = ON;
