-- The outage storm (issue 12): what the hot paths read stays cheap however many tickets there are.

-- The status counts of each customer's ticket list, kept up to date by the same transaction that
-- opens a ticket or changes its status (these triggers), instead of a COUNT(*) over every ticket
-- of the customer on every request. Every writer (server, pipe intake, staff command) keeps them.
CREATE TABLE ticket_counts (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    status     TEXT NOT NULL CHECK (status IN ('open', 'awaiting_customer', 'closed')),
    n          INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (account_id, status)
) WITHOUT ROWID;

INSERT INTO ticket_counts (account_id, status, n)
    SELECT account_id, status, COUNT(*) FROM tickets
    WHERE status IN ('open', 'awaiting_customer', 'closed')
    GROUP BY account_id, status;

CREATE TRIGGER ticket_counts_on_insert AFTER INSERT ON tickets BEGIN
    INSERT OR IGNORE INTO ticket_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 0);
    UPDATE ticket_counts SET n = n + 1 WHERE account_id = NEW.account_id AND status = NEW.status;
END;

CREATE TRIGGER ticket_counts_on_update AFTER UPDATE OF status, account_id ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.account_id IS NOT NEW.account_id BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
    INSERT OR IGNORE INTO ticket_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 0);
    UPDATE ticket_counts SET n = n + 1 WHERE account_id = NEW.account_id AND status = NEW.status;
END;

CREATE TRIGGER ticket_counts_on_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
END;

-- Queuing a notification reads the ticket's earlier mail: without this, every new ticket's
-- acknowledgment scanned the whole outbox.
CREATE INDEX outbox_by_ticket ON outbox (ticket_id);

-- The wizard's warning (a service's open tickets, newest first, five at most) walks one
-- customer's tickets on one service, not every ticket of the customer.
CREATE INDEX tickets_by_service ON tickets (account_id, service_id, activity_us DESC);
