//! The backend the server runs on, chosen by `HELPDESK_DATABASE_URL`: `sqlite://` (the embedded
//! default) or `postgres://` (several instances on one database). Every caller holds a [`Store`]
//! and reaches the backend through the storage traits; each method is one `match` that hands the
//! call to the backend, so the two share every rule and none of their SQL.

use super::delivery::Undeliverable;
use super::mail::{Claim, IntakeClaim, IntakeFinish, IntakeRecord, RefusedMail};
use super::pg::PgStore;
use super::*;
use crate::texts::Language;
use helpdesk_core::api::{MailDelivery, StaffMailList};

pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Runs `$body` with `$s` bound to whichever backend this is.
macro_rules! each {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            Store::Sqlite($s) => $body,
            Store::Postgres($s) => $body,
        }
    };
}

impl Store {
    /// Opens (and migrates) the database at `url`: `postgres://` or `postgresql://` for
    /// PostgreSQL, with at most `pool` connections; anything else is SQLite's.
    pub async fn open_with(url: &str, pool: u32) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PgStore::open(url, pool).await?))
        } else {
            Ok(Store::Sqlite(SqliteStore::open(url).await?))
        }
    }

    /// [`Store::open_with`] with the default pool.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, crate::config::DEFAULT_DATABASE_POOL).await
    }

    pub async fn close(&self) {
        each!(self, s => s.close().await)
    }

    /// For benchmarks and health checks: is the database answering?
    pub async fn ping(&self) -> StoreResult<()> {
        each!(self, s => s.ping().await)
    }

    /// The SQLite backend, for tests and tools that read its file directly.
    pub fn sqlite(&self) -> Option<&SqliteStore> {
        match self {
            Store::Sqlite(s) => Some(s),
            Store::Postgres(_) => None,
        }
    }

    /// The PostgreSQL backend, for tests and tools that read it directly.
    pub fn postgres(&self) -> Option<&PgStore> {
        match self {
            Store::Postgres(s) => Some(s),
            Store::Sqlite(_) => None,
        }
    }

    /// `sqlite` or `postgres`, for logs and the README's figures.
    pub fn engine(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}

impl Storage for Store {}

impl AccountStore for Store {
    async fn upsert_account(&self, a: &ImportAccount) -> StoreResult<String> {
        each!(self, s => s.upsert_account(a).await)
    }
    async fn set_language(
        &self,
        account_id: &str,
        language: Option<Language>,
    ) -> StoreResult<Option<Customer>> {
        each!(self, s => s.set_language(account_id, language).await)
    }
    async fn set_time_zone(
        &self,
        account_id: &str,
        time_zone: Option<&str>,
    ) -> StoreResult<Option<Customer>> {
        each!(self, s => s.set_time_zone(account_id, time_zone).await)
    }
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountRow>> {
        each!(self, s => s.account_by_email(email).await)
    }
    async fn account(&self, id: &str) -> StoreResult<Option<Customer>> {
        each!(self, s => s.account(id).await)
    }
    async fn services(&self, account_id: &str) -> StoreResult<Vec<Service>> {
        each!(self, s => s.services(account_id).await)
    }
}

impl LoginStore for Store {
    async fn known_device(
        &self,
        token_hash: &str,
        account_id: &str,
        now: i64,
        ttl_us: i64,
    ) -> StoreResult<bool> {
        each!(self, s => s.known_device(token_hash, account_id, now, ttl_us).await)
    }
    async fn remember_device(
        &self,
        token_hash: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        each!(self, s => s.remember_device(token_hash, account_id, now).await)
    }
    async fn forget_device(&self, token_hash: &str) -> StoreResult<()> {
        each!(self, s => s.forget_device(token_hash).await)
    }
    async fn use_sso_jti(&self, jti: &str, expires_us: i64, now: i64) -> StoreResult<bool> {
        each!(self, s => s.use_sso_jti(jti, expires_us, now).await)
    }
}

impl SessionStore for Store {
    async fn create_session(
        &self,
        token_hash: &str,
        account_id: &str,
        expires_us: i64,
    ) -> StoreResult<()> {
        each!(self, s => s.create_session(token_hash, account_id, expires_us).await)
    }
    async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_us: i64,
    ) -> StoreResult<Option<(Customer, i64)>> {
        each!(self, s => s.session(token_hash, now, idle_us).await)
    }
    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        each!(self, s => s.touch_session(token_hash, now).await)
    }
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        each!(self, s => s.delete_session(token_hash).await)
    }
    async fn delete_all_sessions(&self) -> StoreResult<()> {
        each!(self, s => s.delete_all_sessions().await)
    }
}

impl OutboxStore for Store {
    async fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        each!(self, s => s.due_notifications(now, limit).await)
    }
    async fn mark_sent(&self, id: i64, now: i64) -> StoreResult<()> {
        each!(self, s => s.mark_sent(id, now).await)
    }
    async fn mark_failed(&self, id: i64, next_try_us: i64, error: &str) -> StoreResult<()> {
        each!(self, s => s.mark_failed(id, next_try_us, error).await)
    }
    async fn next_notification_due(&self) -> StoreResult<Option<i64>> {
        each!(self, s => s.next_notification_due().await)
    }
}

impl UploadStore for Store {
    async fn insert_upload(
        &self,
        account_id: &str,
        f: &StoredFile,
        charge: Charge,
    ) -> StoreResult<()> {
        each!(self, s => s.insert_upload(account_id, f, charge).await)
    }
    async fn file_for(&self, viewer: Viewer<'_>, id: &str) -> StoreResult<Option<FileRow>> {
        each!(self, s => s.file_for(viewer, id).await)
    }
    async fn expire_uploads(&self, now: i64) -> StoreResult<Vec<String>> {
        each!(self, s => s.expire_uploads(now).await)
    }
    async fn pending_uploads(&self, account_id: &str, now: i64) -> StoreResult<i64> {
        each!(self, s => s.pending_uploads(account_id, now).await)
    }
}

impl UsageStore for Store {
    async fn usage_in_window(
        &self,
        account_id: &str,
        kind: UsageKind,
        window_us: i64,
        now: i64,
    ) -> StoreResult<(i64, i64)> {
        each!(self, s => s.usage_in_window(account_id, kind, window_us, now).await)
    }
    async fn stored_bytes(&self, account_id: &str) -> StoreResult<i64> {
        each!(self, s => s.stored_bytes(account_id).await)
    }
}

impl TicketStore for Store {
    async fn list_tickets(&self, account_id: &str, q: &ListQuery) -> StoreResult<TicketList> {
        each!(self, s => s.list_tickets(account_id, q).await)
    }
    async fn create_ticket(
        &self,
        rec: NewTicketRecord<'_>,
        ack: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> StoreResult<Recorded> {
        each!(self, s => s.create_ticket(rec, ack).await)
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
        each!(self, s => s.add_message(viewer, code, msg, idempotency, effect, notify).await)
    }
    async fn set_status(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        by: (AuthorKind, Option<&str>, &str),
        change: impl FnOnce(Status) -> Option<Status> + Send + 'static,
    ) -> StoreResult<Ticket> {
        each!(self, s => s.set_status(viewer, code, by, change).await)
    }
    async fn ticket(&self, viewer: Viewer<'_>, code: &str) -> StoreResult<Option<Ticket>> {
        each!(self, s => s.ticket(viewer, code).await)
    }
    async fn open_tickets_on_service(
        &self,
        account_id: &str,
        service_id: &str,
    ) -> StoreResult<Vec<TicketSummary>> {
        each!(self, s => s.open_tickets_on_service(account_id, service_id).await)
    }
    async fn last_message_seq(&self, created_before_us: i64) -> StoreResult<i64> {
        each!(self, s => s.last_message_seq(created_before_us).await)
    }
    async fn message_events(
        &self,
        after: i64,
        up_to: i64,
        account_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MessageEvent>> {
        each!(self, s => s.message_events(after, up_to, account_id, limit).await)
    }
}

impl IntakeStore for Store {
    async fn claim_intake(&self, c: &IntakeClaim<'_>) -> StoreResult<Claim> {
        each!(self, s => s.claim_intake(c).await)
    }
    async fn finish_intake(&self, id: &str, f: &IntakeFinish<'_>) -> StoreResult<bool> {
        each!(self, s => s.finish_intake(id, f).await)
    }
    async fn refused_raw_before(&self, cutoff_us: i64) -> StoreResult<Vec<(String, String)>> {
        each!(self, s => s.refused_raw_before(cutoff_us).await)
    }
    async fn forget_raw(&self, ids: &[String]) -> StoreResult<()> {
        each!(self, s => s.forget_raw(ids).await)
    }
    async fn abandon_intake(&self, id: &str) -> StoreResult<()> {
        each!(self, s => s.abandon_intake(id).await)
    }
    async fn recent_acknowledgments(&self, address: &str) -> StoreResult<i64> {
        each!(self, s => s.recent_acknowledgments(address).await)
    }
    async fn ticket_for_references(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> StoreResult<Option<String>> {
        each!(self, s => s.ticket_for_references(account_id, ids).await)
    }
    async fn ticket_with_email(
        &self,
        account_id: &str,
        email_message_id: &str,
    ) -> StoreResult<Option<String>> {
        each!(self, s => s.ticket_with_email(account_id, email_message_id).await)
    }
    async fn insert_raw_email_file(&self, account_id: &str, f: &StoredFile) -> StoreResult<()> {
        each!(self, s => s.insert_raw_email_file(account_id, f).await)
    }
    async fn delete_file_row(&self, id: &str) -> StoreResult<()> {
        each!(self, s => s.delete_file_row(id).await)
    }
    async fn intake_record(&self, id: &str) -> StoreResult<Option<IntakeRecord>> {
        each!(self, s => s.intake_record(id).await)
    }
    async fn mail_rejections(
        &self,
        account_id: &str,
        lang: Language,
    ) -> StoreResult<Vec<RefusedMail>> {
        each!(self, s => s.mail_rejections(account_id, lang).await)
    }
}

impl DeliveryStore for Store {
    async fn outbox_recipient(&self, ids: &[String]) -> StoreResult<Option<String>> {
        each!(self, s => s.outbox_recipient(ids).await)
    }
    async fn mark_undeliverable(&self, u: &Undeliverable<'_>) -> StoreResult<Option<String>> {
        each!(self, s => s.mark_undeliverable(u).await)
    }
    async fn mail_delivery(&self, account_id: &str) -> StoreResult<Option<MailDelivery>> {
        each!(self, s => s.mail_delivery(account_id).await)
    }
    async fn clear_mail_delivery(
        &self,
        account_id: &str,
        then: Option<Notification>,
    ) -> StoreResult<bool> {
        each!(self, s => s.clear_mail_delivery(account_id, then).await)
    }
    async fn staff_mail(&self, address: Option<&str>, limit: i64) -> StoreResult<StaffMailList> {
        each!(self, s => s.staff_mail(address, limit).await)
    }
}
