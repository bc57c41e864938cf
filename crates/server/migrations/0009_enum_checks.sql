-- Enum columns take only the values the code knows (issue 12). SQLite adds a CHECK to an
-- existing table only by rebuilding it, which the foreign keys onto tickets and messages forbid
-- inside a migration; these triggers refuse the same rows a CHECK would, on every writer. New
-- tables (ticket_counts) carry real CHECK constraints. Reading back an unknown value is an error
-- in the code as well, never a default.

CREATE TRIGGER tickets_department_check_insert BEFORE INSERT ON tickets
WHEN NEW.department IS NULL OR NEW.department NOT IN ('helpdesk', 'sales') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.department');
END;

CREATE TRIGGER tickets_department_check_update BEFORE UPDATE OF department ON tickets
WHEN NEW.department IS NULL OR NEW.department NOT IN ('helpdesk', 'sales') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.department');
END;

CREATE TRIGGER tickets_status_check_insert BEFORE INSERT ON tickets
WHEN NEW.status IS NULL OR NEW.status NOT IN ('open', 'awaiting_customer', 'closed') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.status');
END;

CREATE TRIGGER tickets_status_check_update BEFORE UPDATE OF status ON tickets
WHEN NEW.status IS NULL OR NEW.status NOT IN ('open', 'awaiting_customer', 'closed') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.status');
END;

CREATE TRIGGER tickets_priority_check_insert BEFORE INSERT ON tickets
WHEN NEW.priority IS NULL OR NEW.priority NOT IN ('low', 'normal') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.priority');
END;

CREATE TRIGGER tickets_priority_check_update BEFORE UPDATE OF priority ON tickets
WHEN NEW.priority IS NULL OR NEW.priority NOT IN ('low', 'normal') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.priority');
END;

CREATE TRIGGER tickets_channel_check_insert BEFORE INSERT ON tickets
WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('web', 'email') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.channel');
END;

CREATE TRIGGER tickets_channel_check_update BEFORE UPDATE OF channel ON tickets
WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('web', 'email') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: tickets.channel');
END;

CREATE TRIGGER messages_kind_check_insert BEFORE INSERT ON messages
WHEN NEW.kind IS NULL OR NEW.kind NOT IN ('message', 'event') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.kind');
END;

CREATE TRIGGER messages_kind_check_update BEFORE UPDATE OF kind ON messages
WHEN NEW.kind IS NULL OR NEW.kind NOT IN ('message', 'event') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.kind');
END;

CREATE TRIGGER messages_author_kind_check_insert BEFORE INSERT ON messages
WHEN NEW.author_kind IS NULL OR NEW.author_kind NOT IN ('customer', 'staff') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.author_kind');
END;

CREATE TRIGGER messages_author_kind_check_update BEFORE UPDATE OF author_kind ON messages
WHEN NEW.author_kind IS NULL OR NEW.author_kind NOT IN ('customer', 'staff') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.author_kind');
END;

CREATE TRIGGER messages_channel_check_insert BEFORE INSERT ON messages
WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('web', 'email') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.channel');
END;

CREATE TRIGGER messages_channel_check_update BEFORE UPDATE OF channel ON messages
WHEN NEW.channel IS NULL OR NEW.channel NOT IN ('web', 'email') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.channel');
END;

CREATE TRIGGER messages_status_check_insert BEFORE INSERT ON messages
WHEN NEW.status IS NOT NULL AND NEW.status NOT IN ('open', 'awaiting_customer', 'closed') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.status');
END;

CREATE TRIGGER messages_status_check_update BEFORE UPDATE OF status ON messages
WHEN NEW.status IS NOT NULL AND NEW.status NOT IN ('open', 'awaiting_customer', 'closed') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: messages.status');
END;

CREATE TRIGGER services_family_check_insert BEFORE INSERT ON services
WHEN NEW.family IS NULL OR NEW.family NOT IN ('hosting_shared', 'cronuscloud', 'colocation', 'dedicated', 'domain') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: services.family');
END;

CREATE TRIGGER services_family_check_update BEFORE UPDATE OF family ON services
WHEN NEW.family IS NULL OR NEW.family NOT IN ('hosting_shared', 'cronuscloud', 'colocation', 'dedicated', 'domain') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: services.family');
END;

CREATE TRIGGER services_status_check_insert BEFORE INSERT ON services
WHEN NEW.status IS NULL OR NEW.status NOT IN ('active', 'suspended', 'expired') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: services.status');
END;

CREATE TRIGGER services_status_check_update BEFORE UPDATE OF status ON services
WHEN NEW.status IS NULL OR NEW.status NOT IN ('active', 'suspended', 'expired') BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: services.status');
END;
