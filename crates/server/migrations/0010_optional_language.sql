-- A customer's language becomes optional (issue "two languages"): imported and demo customers
-- start with none (the server then writes Italian) until they choose one; saved values are kept.
--
-- SQLite drops a NOT NULL only by rebuilding the table (https://www.sqlite.org/lang_altertable.html#otheralter).
-- Every other table has a foreign key onto accounts. With foreign keys on, dropping the old table
-- would first delete its rows (and login_devices would cascade), and renaming would rewrite the
-- other tables' references; foreign keys cannot be switched off inside the transaction sqlx runs
-- a migration in, so `Store::open` runs the migrations with them off and checks every reference
-- (PRAGMA foreign_key_check) before it opens the store.

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
