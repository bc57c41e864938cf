//! TicketStore on PostgreSQL.

use super::*;

impl TicketStore for PgStore {
    async fn list_tickets(&self, account_id: &str, q: &ListQuery) -> StoreResult<TicketList> {
        Err(not_yet())
    }
    async fn create_ticket(
        &self,
        rec: NewTicketRecord<'_>,
        ack: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> StoreResult<Recorded> {
        Err(not_yet())
    }
    async fn add_message(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        msg: NewMessage<'_>,
        idempotency: Option<IdempotencyRecord<'_>>,
        effect: impl FnOnce(Status) -> MessageEffect + Send + 'static,
        notify: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> StoreResult<Recorded> {
        Err(not_yet())
    }
    async fn set_status(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        by: (AuthorKind, Option<&str>, &str),
        change: impl FnOnce(Status) -> Option<Status> + Send + 'static,
    ) -> StoreResult<Ticket> {
        Err(not_yet())
    }
    async fn ticket(&self, viewer: Viewer<'_>, code: &str) -> StoreResult<Option<Ticket>> {
        Err(not_yet())
    }
    async fn open_tickets_on_service(
        &self,
        account_id: &str,
        service_id: &str,
    ) -> StoreResult<Vec<TicketSummary>> {
        Err(not_yet())
    }
}
