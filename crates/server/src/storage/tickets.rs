//! Tickets and their threads: the list, opening, messages, status changes, one ticket read back.
//!
//! One text of the operations serves SQLite and PostgreSQL (`ticket_store!`, instantiated here and
//! in `pg/tickets.rs`); what varies by backend (the row locks and the search operator) is named at
//! the macro.

use super::*;
use crate::texts::Language;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// A message about to be written, by whoever and however it came.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub author_kind: AuthorKind,
    pub author_account_id: Option<&'a str>,
    pub author_name: &'a str,
    pub channel: Channel,
    pub body: &'a str,
    /// Automatic mail (out-of-office): recorded, changes no status, sends nothing.
    pub automatic: bool,
    /// E-mail that came signed (S/MIME or PGP/MIME): the thread says so.
    pub signed: bool,
    pub email_message_id: Option<&'a str>,
    pub raw_email_id: Option<&'a str>,
    /// Uploads of `author_account_id` to attach (each once).
    pub upload_ids: &'a [String],
    /// Files already stored for this message (e.g. e-mail attachments), owned by the ticket's account.
    pub files: &'a [StoredFile],
    /// What the message counts against the ticket's account (none for staff).
    pub charge: Charge,
}

impl<'a> NewMessage<'a> {
    /// Plain text by an account, with no files and nothing from e-mail; set the rest as needed.
    pub fn text(author: &'a Customer, kind: AuthorKind, channel: Channel, body: &'a str) -> Self {
        NewMessage {
            author_kind: kind,
            author_account_id: Some(&author.id),
            author_name: &author.name,
            channel,
            body,
            automatic: false,
            signed: false,
            email_message_id: None,
            raw_email_id: None,
            upload_ids: &[],
            files: &[],
            charge: Charge::default(),
        }
    }
}

/// A [`NewMessage`] the writer can keep after the request that made it is gone.
#[derive(Debug, Clone)]
pub(super) struct OwnedMessage {
    pub(super) author_kind: AuthorKind,
    pub(super) author_account_id: Option<String>,
    pub(super) author_name: String,
    pub(super) channel: Channel,
    pub(super) body: String,
    pub(super) automatic: bool,
    pub(super) signed: bool,
    pub(super) email_message_id: Option<String>,
    pub(super) raw_email_id: Option<String>,
    pub(super) upload_ids: Vec<String>,
    pub(super) files: Vec<StoredFile>,
    pub(super) charge: Charge,
}

impl From<&NewMessage<'_>> for OwnedMessage {
    fn from(m: &NewMessage<'_>) -> Self {
        OwnedMessage {
            author_kind: m.author_kind,
            author_account_id: m.author_account_id.map(String::from),
            author_name: m.author_name.to_string(),
            channel: m.channel,
            body: m.body.to_string(),
            automatic: m.automatic,
            signed: m.signed,
            email_message_id: m.email_message_id.map(String::from),
            raw_email_id: m.raw_email_id.map(String::from),
            upload_ids: m.upload_ids.to_vec(),
            files: m.files.to_vec(),
            charge: m.charge,
        }
    }
}

/// A [`Viewer`] the writer can keep.
pub(super) enum OwnedViewer {
    Customer(String),
    Staff,
}

impl From<Viewer<'_>> for OwnedViewer {
    fn from(v: Viewer<'_>) -> Self {
        match v {
            Viewer::Customer(a) => OwnedViewer::Customer(a.to_string()),
            Viewer::Staff => OwnedViewer::Staff,
        }
    }
}

impl OwnedViewer {
    pub(super) fn as_viewer(&self) -> Viewer<'_> {
        match self {
            OwnedViewer::Customer(a) => Viewer::Customer(a),
            OwnedViewer::Staff => Viewer::Staff,
        }
    }
}

/// What the notification is composed from, once the ticket's code is known.
pub struct NotifyContext<'a> {
    pub code: &'a TicketCode,
    pub subject: &'a str,
    pub department: Department,
    pub customer_email: &'a str,
    pub customer_name: &'a str,
    /// The language the customer chose (Italian when none), read in the same transaction.
    pub language: Language,
    /// The IANA time zone of the customer's e-mails (`DEFAULT_TIME_ZONE` when none is saved).
    pub time_zone: &'a str,
    /// The ticket's status once this write is done.
    pub status: Status,
    /// The ticket's latest messages (not events), oldest first, this write's included.
    pub recent: &'a [RecentMessage],
}

/// A message as a notification quotes it.
#[derive(Debug, Clone)]
pub struct RecentMessage {
    pub author_name: String,
    pub author_kind: AuthorKind,
    pub created_us: i64,
    pub body: String,
}

/// How many of the latest messages a notification shows.
pub(super) const RECENT_IN_NOTIFICATION: i64 = 3;

/// The latest messages read newest first, turned oldest first.
pub(super) fn recent_from_rows<R>(rows: &[R]) -> StoreResult<Vec<RecentMessage>>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut recent = rows
        .iter()
        .map(|r| {
            let kind: String = r.get("author_kind");
            Ok(RecentMessage {
                author_name: r.get("author_name"),
                author_kind: AuthorKind::parse(&kind)
                    .ok_or_else(|| anyhow::anyhow!("unknown author kind {kind:?} in messages"))?,
                created_us: r.get("created_us"),
                body: r.get("body"),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    recent.reverse();
    Ok(recent)
}

/// What the opener of a ticket asked for, before the rules give it a code and a status.
#[derive(Debug, Clone)]
pub struct TicketDraft<'a> {
    pub account_id: &'a str,
    pub department: Department,
    pub service_id: Option<&'a str>,
    pub subject: &'a str,
    pub priority: Priority,
    pub channel: Channel,
    pub first: NewMessage<'a>,
}

/// A new ticket as the rules in `crate::tickets` made it: its code drawn and its first status
/// chosen there. Storage writes it as it is.
#[derive(Debug, Clone)]
pub struct NewTicketRecord<'a> {
    pub code: TicketCode,
    pub status: Status,
    pub draft: TicketDraft<'a>,
    /// The key reserved in the same transaction: one write per key ever records anything.
    pub idempotency: Option<IdempotencyRecord<'a>>,
}

/// An idempotency key as storage keeps it: unique per account, written in the same transaction as
/// what it makes, with the hash of the request that made it. The key's scope (a ticket, a reply
/// to one ticket) is the rules' to build.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyRecord<'a> {
    pub account_id: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
}

/// What a write under an idempotency key did.
#[derive(Debug)]
pub enum Recorded {
    /// This write recorded the ticket (or the message): here as it answers the write.
    New(Ticket),
    /// The key was taken already; nothing was written. What the first write made, as it answered
    /// it, and the hash of the first write's request, for the rules to compare.
    Prior {
        request_hash: String,
        ticket: Ticket,
    },
}

/// What a new message does to its ticket, as `crate::tickets` decides it from the ticket's status
/// read in the write's own transaction. Storage records exactly this, in this order: the event
/// before the message, the message, the event after it; then the ticket takes `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageEffect {
    /// A status-change event shown before the message (a reopening).
    pub event_before: Option<Status>,
    /// A status-change event shown after the message (a closing).
    pub event_after: Option<Status>,
    /// The ticket's status once the write is done.
    pub status: Status,
    /// Whether the notification composer is asked for a notification at all.
    pub notify: bool,
}

impl MessageEffect {
    /// An event before the message (or none), the status after, an event after, a notification.
    pub fn new(
        event_before: Option<Status>,
        status: Status,
        event_after: Option<Status>,
        notify: bool,
    ) -> Self {
        MessageEffect {
            event_before,
            event_after,
            status,
            notify,
        }
    }
}

/// Opened tickets, as the rules answer them.
pub enum Created {
    New(Ticket),
    Replayed(Ticket),
}

const PAGE_DEFAULT: u32 = 25;

const PAGE_MAX: u32 = 100;

/// A ticket as a write reads it first, with its customer.
#[derive(sqlx::FromRow)]
pub(super) struct TicketRow {
    pub(super) id: i64,
    pub(super) code: String,
    pub(super) account_id: String,
    pub(super) subject: String,
    pub(super) department: String,
    pub(super) status: String,
    pub(super) email: String,
    pub(super) language: Option<String>,
    pub(super) time_zone: Option<String>,
    pub(super) name: String,
}

/// An [`IdempotencyRecord`] the writer can keep.
pub(super) struct OwnedKey {
    pub(super) account_id: String,
    pub(super) key: String,
    pub(super) request_hash: String,
}

impl From<&IdempotencyRecord<'_>> for OwnedKey {
    fn from(k: &IdempotencyRecord<'_>) -> Self {
        OwnedKey {
            account_id: k.account_id.to_string(),
            key: k.key.to_string(),
            request_hash: k.request_hash.to_string(),
        }
    }
}

/// The code a ticket's key recorded; a reservation without one cannot outlive its transaction.
pub(super) fn recorded_code(result: &str) -> StoreResult<&str> {
    let code = result.split(' ').next().unwrap_or_default();
    if code.is_empty() {
        return Err(anyhow::anyhow!("an idempotency key without its result").into());
    }
    Ok(code)
}

/// A reply's result, "CODE FIRST LAST": the ticket and the `seq` range of what the reply added.
/// A key recorded before answers carried only what was added holds the code alone: its replay
/// shows the ticket without messages.
pub(super) fn reply_result(result: &str) -> StoreResult<(&str, (i64, i64))> {
    let code = recorded_code(result)?;
    let mut parts = result.split(' ').skip(1);
    let range = match (parts.next(), parts.next()) {
        (Some(a), Some(b)) => a.parse().ok().zip(b.parse().ok()),
        _ => None,
    };
    Ok((code, range.unwrap_or((1, 0))))
}

/// `%word%` with LIKE's wildcards escaped, so a search for "100%" finds just that.
pub(super) fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

pub(super) fn parse_cursor(c: &str) -> Option<(i64, i64)> {
    let (a, b) = c.split_once('_')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub(super) fn author_kind_str(k: AuthorKind) -> &'static str {
    match k {
        AuthorKind::Customer => "customer",
        AuthorKind::Staff => "staff",
    }
}

pub(super) fn attachment_from_row<R>(r: &R) -> Attachment
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Attachment {
        id: r.get("id"),
        name: r.get("name"),
        size: r.get::<i64, _>("size").max(0) as u64,
        content_type: r.get("content_type"),
    }
}

pub(super) fn summary_from_row<R>(r: &R) -> StoreResult<TicketSummary>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let sid: Option<String> = r.get("sid");
    Ok(TicketSummary {
        code: r.get("code"),
        subject: r.get("subject"),
        department: column(r, "department", Department::parse)?,
        service: match sid {
            Some(id) => Some(ServiceSummary {
                id,
                family: column(r, "family", ServiceFamily::parse)?,
                product: r.get("product"),
                identifier: r.get("identifier"),
            }),
            None => None,
        },
        status: column(r, "status", Status::parse)?,
        priority: column(r, "priority", Priority::parse)?,
        channel: column(r, "channel", Channel::parse)?,
        created_at: rfc3339(r.get("created_us")),
        last_activity_at: rfc3339(r.get("activity_us")),
    })
}

/// A message or status-change event as the live event streams see it (see `crate::events`).
#[derive(Debug, Clone)]
pub struct MessageEvent {
    /// The message's `seq`: global, and the stream's event id.
    pub seq: i64,
    /// Whose ticket it is: the customer whose streams get it.
    pub account_id: String,
    pub code: String,
    pub message_id: String,
    pub kind: MessageKind,
    pub author_kind: AuthorKind,
    /// The status an event set (none on a message).
    pub status: Option<Status>,
    /// The ticket's status when the row was read.
    pub ticket_status: Status,
}

/// Columns shared by both backends' queries of message events.
pub(super) const MESSAGE_EVENT_COLUMNS: &str =
    "m.seq, m.id, m.kind, m.author_kind, m.status, t.code, t.account_id, t.status AS ticket_status";

pub(super) fn message_event_from_row<R>(r: &R) -> StoreResult<MessageEvent>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(MessageEvent {
        seq: r.try_get("seq")?,
        account_id: r.try_get("account_id")?,
        code: r.try_get("code")?,
        message_id: r.try_get("id")?,
        kind: column(r, "kind", MessageKind::parse)?,
        author_kind: column(r, "author_kind", AuthorKind::parse)?,
        status: r
            .try_get::<Option<String>, _>("status")?
            .as_deref()
            .map(parse_status)
            .transpose()?,
        ticket_status: parse_status(&r.try_get::<String, _>("ticket_status")?)?,
    })
}

/// Tickets and their messages: the storage side of `crate::tickets`.
pub trait TicketStore {
    /// One page of the account's tickets, newest activity first, with the counts per status.
    fn list_tickets(
        &self,
        account_id: &str,
        q: &ListQuery,
    ) -> impl Future<Output = StoreResult<TicketList>> + Send;
    /// Records a ticket with its first message, its key and its acknowledgment (queued when the
    /// composer returns one) in one transaction. [`StoreError::CodeTaken`] when the code is another
    /// ticket's, [`Recorded::Prior`] when the key is taken: nothing written in either case.
    fn create_ticket(
        &self,
        rec: NewTicketRecord<'_>,
        ack: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> impl Future<Output = StoreResult<Recorded>> + Send;
    /// Appends a message to a ticket the viewer may see, in one transaction: reads the ticket's
    /// status, asks `effect` what the message does to it, records exactly that, and queues the
    /// notification the composer returns (asked only when the effect says to notify).
    /// Answers with the ticket's own fields and, in `messages`, only what this write added (the
    /// message and its events); [`Recorded::Prior`] answers what the key's first write added.
    fn add_message(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        msg: NewMessage<'_>,
        idempotency: Option<IdempotencyRecord<'_>>,
        effect: impl FnOnce(Status) -> MessageEffect + Send + 'static,
        notify: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> impl Future<Output = StoreResult<Recorded>> + Send;
    /// Changes a ticket's status, in one transaction: reads it, asks `change` for the new one
    /// (`None`: nothing to record) and records it with its event, by `by`. Answers with the
    /// ticket's own fields and, in `messages`, the event (none when nothing changed).
    fn set_status(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        by: (AuthorKind, Option<&str>, &str),
        change: impl FnOnce(Status) -> Option<Status> + Send + 'static,
    ) -> impl Future<Output = StoreResult<Ticket>> + Send;
    /// One ticket with its whole thread, or `None` when it is missing or not the viewer's.
    fn ticket(
        &self,
        viewer: Viewer<'_>,
        code: &str,
    ) -> impl Future<Output = StoreResult<Option<Ticket>>> + Send;
    /// Open tickets of this account on a service (the wizard warns before a duplicate).
    fn open_tickets_on_service(
        &self,
        account_id: &str,
        service_id: &str,
    ) -> impl Future<Output = StoreResult<Vec<TicketSummary>>> + Send;
    /// The highest `seq` of the messages created before `created_before_us` (0 without any):
    /// where live events start (see `crate::events::GAP_WAIT`).
    fn last_message_seq(
        &self,
        created_before_us: i64,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Messages and events with `after < seq <= up_to`, of one account's tickets or of all, in
    /// `seq` order, at most `limit`: the poller of live events reads all accounts' (one query
    /// on the primary key, however many streams are open), a reconnecting stream its own.
    fn message_events(
        &self,
        after: i64,
        up_to: i64,
        account_id: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<MessageEvent>>> + Send;
}

/// The shared operations, one text for both backends (`ticket_store!(SqliteStore,
/// SqliteConnection, Sqlite)` here, the same with PostgreSQL's types in `pg/tickets.rs`). What
/// varies by backend are items each backend's module defines and this text names:
/// - `lock_account(c, account_id)`: PostgreSQL locks the account's row, so that two writes of one
///   account take the rows they share in one order; SQLite's single writer keeps writes apart, a
///   no-op there.
/// - `TICKET_ROW_LOCK`, appended to the read of the ticket a write changes: PostgreSQL locks that
///   row until commit, SQLite needs nothing.
/// - `LIKE`: the search's operator, `ILIKE` on PostgreSQL (SQLite's `LIKE` already ignores case).
///
/// SQL uses `$n` placeholders, which both drivers accept, and binds booleans (SQLite stores 0/1).
macro_rules! ticket_store {
    ($Store:ty, $Conn:ty, $Db:ty) => {
        impl TicketStore for $Store {
            async fn last_message_seq(&self, created_before_us: i64) -> StoreResult<i64> {
                let seq: Option<i64> = sqlx::query_scalar(
                    "SELECT seq FROM messages WHERE created_us < $1 ORDER BY seq DESC LIMIT 1",
                )
                .bind(created_before_us)
                .fetch_optional(&self.pool)
                .await?;
                Ok(seq.unwrap_or(0))
            }

            async fn message_events(
                &self,
                after: i64,
                up_to: i64,
                account_id: Option<&str>,
                limit: u32,
            ) -> StoreResult<Vec<MessageEvent>> {
                let mut sql = QueryBuilder::<$Db>::new("SELECT ");
                sql.push(MESSAGE_EVENT_COLUMNS)
                    .push(" FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.seq > ")
                    .push_bind(after)
                    .push(" AND m.seq <= ")
                    .push_bind(up_to);
                if let Some(account_id) = account_id {
                    sql.push(" AND t.account_id = ").push_bind(account_id);
                }
                sql.push(" ORDER BY m.seq LIMIT ").push_bind(i64::from(limit));
                let rows = sql.build().fetch_all(&self.pool).await?;
                rows.iter().map(message_event_from_row).collect()
            }

            async fn list_tickets(&self, account_id: &str, q: &ListQuery) -> StoreResult<TicketList> {
                let (limit, words) = (page_size(q), search_patterns(q));
                let mut sql = QueryBuilder::<$Db>::new(
                    "SELECT t.id, t.code, t.subject, t.department, t.status, t.priority, t.channel, t.created_us, t.activity_us,
                            s.id AS sid, s.family, s.product, s.identifier
                     FROM tickets t LEFT JOIN services s ON s.id = t.service_id WHERE t.account_id = ",
                );
                sql.push_bind(account_id);
                push_word_filter(&mut sql, &words);
                if let Some(status) = q.status {
                    sql.push(" AND t.status = ").push_bind(status.as_str());
                }
                if let Some((activity, id)) = q.cursor.as_deref().and_then(parse_cursor) {
                    sql.push(" AND (t.activity_us, t.id) < (")
                        .push_bind(activity)
                        .push(", ")
                        .push_bind(id)
                        .push(")");
                }
                sql.push(" ORDER BY t.activity_us DESC, t.id DESC LIMIT ")
                    .push_bind(i64::from(limit) + 1);
                let rows = sql.build().fetch_all(&self.pool).await?;
                let (items, next_cursor) = page_from_rows(&rows, limit)?;

                // Without search words the counts are kept up to date by a trigger; a search counts what
                // it matches.
                let counts_rows = if words.is_empty() {
                    sqlx::query("SELECT status, n FROM ticket_counts WHERE account_id = $1")
                        .bind(account_id)
                        .fetch_all(&self.pool)
                        .await?
                } else {
                    let mut counts_sql = QueryBuilder::<$Db>::new(
                        "SELECT t.status, COUNT(*) AS n FROM tickets t WHERE t.account_id = ",
                    );
                    counts_sql.push_bind(account_id);
                    push_word_filter(&mut counts_sql, &words);
                    counts_sql.push(" GROUP BY t.status");
                    counts_sql.build().fetch_all(&self.pool).await?
                };
                Ok(TicketList {
                    items,
                    next_cursor,
                    counts: counts_from_rows(&counts_rows)?,
                })
            }

            async fn create_ticket(
                &self,
                rec: NewTicketRecord<'_>,
                ack: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
            ) -> StoreResult<Recorded> {
                enum Made {
                    New,
                    Prior { request_hash: String, code: String },
                }
                let (code, status, draft) = (rec.code, rec.status, rec.draft);
                let account_id = draft.account_id.to_string();
                let (department, priority, channel) = (draft.department, draft.priority, draft.channel);
                let service_id = draft.service_id.map(String::from);
                let subject = draft.subject.to_string();
                let first = OwnedMessage::from(&draft.first);
                let key = rec.idempotency.as_ref().map(OwnedKey::from);
                let written = code.clone();
                let made = self
                    .write(move |c| {
                        Box::pin(async move {
                            let code = written;
                            lock_account(c, &account_id).await?;
                            let now = now_us();
                            if let Some(k) = &key {
                                if let Some((request_hash, result)) = reserve_key(c, k, now).await? {
                                    return Ok(Made::Prior {
                                        code: recorded_code(&result)?.to_string(),
                                        request_hash,
                                    });
                                }
                            }
                            // The code's unique constraint decides a race on it, here or on any
                            // instance; a taken code writes nothing and aborts nothing, and the
                            // error rolls back this write (the key's reservation with it).
                            let ticket_id: i64 = sqlx::query_scalar(
                                "INSERT INTO tickets (code, account_id, department, service_id, subject, status, priority, channel, created_us, activity_us)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (code) DO NOTHING RETURNING id",
                            )
                            .bind(code.as_str())
                            .bind(&account_id)
                            .bind(department.as_str())
                            .bind(&service_id)
                            .bind(&subject)
                            .bind(status.as_str())
                            .bind(priority.as_str())
                            .bind(channel.as_str())
                            .bind(now)
                            .bind(now)
                            .fetch_optional(&mut *c)
                            .await?
                            .ok_or(StoreError::CodeTaken)?;
                            insert_message(c, ticket_id, &account_id, &first, now).await?;
                            if let Some(k) = &key {
                                record_key_result(c, k, code.as_str()).await?;
                            }
                            let (email, name, language, time_zone): (String, String, Option<String>, Option<String>) =
                                sqlx::query_as("SELECT email, name, language, time_zone FROM accounts WHERE id = $1")
                                    .bind(&account_id)
                                    .fetch_one(&mut *c)
                                    .await?;
                            // The first message is the only one: no need to read it back.
                            let recent = [RecentMessage {
                                author_name: first.author_name.clone(),
                                author_kind: first.author_kind,
                                created_us: now,
                                body: first.body.clone(),
                            }];
                            let recent = if first.automatic { &recent[..0] } else { &recent[..] };
                            let ctx = NotifyContext {
                                code: &code,
                                subject: &subject,
                                department,
                                customer_email: &email,
                                customer_name: &name,
                                language: Language::of_saved(language.as_deref()),
                                time_zone: time_zone.as_deref().unwrap_or(helpdesk_core::api::DEFAULT_TIME_ZONE),
                                status,
                                recent,
                            };
                            if let Some(n) = ack(&ctx) {
                                queue_notification(c, ticket_id, &n, now).await?;
                            }
                            Ok(Made::New)
                        })
                    })
                    .await?;
                let viewer = Viewer::Customer(draft.account_id);
                match made {
                    Made::New => Ok(Recorded::New(
                        self.ticket(viewer, code.as_str())
                            .await?
                            .ok_or(StoreError::NotFound)?,
                    )),
                    Made::Prior { request_hash, code } => Ok(Recorded::Prior {
                        request_hash,
                        ticket: self
                            .ticket(viewer, &code)
                            .await?
                            .ok_or(StoreError::NotFound)?,
                    }),
                }
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
                enum Added {
                    /// The ticket's code and the `seq` range of what was added.
                    New(String, (i64, i64)),
                    Prior {
                        request_hash: String,
                        result: String,
                    },
                }
                let owned_viewer = OwnedViewer::from(viewer);
                let code = code.to_string();
                let msg = OwnedMessage::from(&msg);
                let key = idempotency.as_ref().map(OwnedKey::from);
                let added = self
                    .write(move |c| {
                        Box::pin(async move {
                            // No other write changes the ticket between this read and the writes
                            // below: SQLite's writer runs one at a time, PostgreSQL locks the row.
                            let row = ticket_row_for(c, owned_viewer.as_viewer(), &code)
                                .await?
                                .ok_or(StoreError::NotFound)?;
                            lock_account(c, &row.account_id).await?;
                            let now = now_us();
                            if let Some(k) = &key {
                                if let Some((request_hash, result)) = reserve_key(c, k, now).await? {
                                    return Ok(Added::Prior {
                                        request_hash,
                                        result,
                                    });
                                }
                            }
                            let effect = effect(parse_status(&row.status)?);
                            let mut seqs = Vec::with_capacity(3);
                            if let Some(s) = effect.event_before {
                                seqs.push(insert_event(c, row.id, &msg, s, now).await?);
                            }
                            let (_, seq) =
                                insert_message(c, row.id, &row.account_id, &msg, now + 1).await?;
                            seqs.push(seq);
                            if let Some(s) = effect.event_after {
                                seqs.push(insert_event(c, row.id, &msg, s, now + 2).await?);
                            }
                            sqlx::query("UPDATE tickets SET status = $1, activity_us = $2 WHERE id = $3")
                                .bind(effect.status.as_str())
                                .bind(now)
                                .bind(row.id)
                                .execute(&mut *c)
                                .await?;
                            let range = (seqs[0], seqs[seqs.len() - 1]);
                            if let Some(k) = &key {
                                let result = format!("{} {} {}", row.code, range.0, range.1);
                                record_key_result(c, k, &result).await?;
                            }
                            if effect.notify {
                                let code = TicketCode::parse(&row.code)
                                    .ok_or_else(|| anyhow::anyhow!("bad stored code"))?;
                                let recent = recent_messages(c, row.id).await?;
                                let ctx = NotifyContext {
                                    code: &code,
                                    subject: &row.subject,
                                    department: parse_department(&row.department)?,
                                    customer_email: &row.email,
                                    customer_name: &row.name,
                                    language: Language::of_saved(row.language.as_deref()),
                                    time_zone: row.time_zone.as_deref().unwrap_or(helpdesk_core::api::DEFAULT_TIME_ZONE),
                                    status: effect.status,
                                    recent: &recent,
                                };
                                if let Some(n) = notify(&ctx) {
                                    queue_notification(c, row.id, &n, now).await?;
                                }
                            }
                            Ok(Added::New(row.code, range))
                        })
                    })
                    .await?;
                match added {
                    Added::New(code, range) => Ok(Recorded::New(
                        self.ticket_part(viewer, &code, Some(range))
                            .await?
                            .ok_or(StoreError::NotFound)?,
                    )),
                    Added::Prior {
                        request_hash,
                        result,
                    } => {
                        let (code, range) = reply_result(&result)?;
                        let ticket = self
                            .ticket_part(viewer, code, Some(range))
                            .await?
                            .ok_or(StoreError::NotFound)?;
                        Ok(Recorded::Prior {
                            request_hash,
                            ticket,
                        })
                    }
                }
            }

            async fn set_status(
                &self,
                viewer: Viewer<'_>,
                code: &str,
                by: (AuthorKind, Option<&str>, &str),
                change: impl FnOnce(Status) -> Option<Status> + Send + 'static,
            ) -> StoreResult<Ticket> {
                let owned_viewer = OwnedViewer::from(viewer);
                let code = code.to_string();
                let who = OwnedMessage {
                    author_kind: by.0,
                    author_account_id: by.1.map(String::from),
                    author_name: by.2.to_string(),
                    channel: Channel::Web,
                    body: String::new(),
                    automatic: false,
                    signed: false,
                    email_message_id: None,
                    raw_email_id: None,
                    upload_ids: Vec::new(),
                    files: Vec::new(),
                    charge: Charge::default(),
                };
                let (code, seq) = self
                    .write(move |c| {
                        Box::pin(async move {
                            let row = ticket_row_for(c, owned_viewer.as_viewer(), &code)
                                .await?
                                .ok_or(StoreError::NotFound)?;
                            let Some(status) = change(parse_status(&row.status)?) else {
                                return Ok((row.code, None));
                            };
                            lock_account(c, &row.account_id).await?;
                            let now = now_us();
                            let seq = insert_event(c, row.id, &who, status, now).await?;
                            sqlx::query("UPDATE tickets SET status = $1, activity_us = $2 WHERE id = $3")
                                .bind(status.as_str())
                                .bind(now)
                                .bind(row.id)
                                .execute(&mut *c)
                                .await?;
                            Ok((row.code, Some(seq)))
                        })
                    })
                    .await?;
                self.ticket_part(viewer, &code, Some(seq.map_or((1, 0), |s| (s, s))))
                    .await?
                    .ok_or(StoreError::NotFound)
            }

            async fn ticket(&self, viewer: Viewer<'_>, code: &str) -> StoreResult<Option<Ticket>> {
                self.ticket_part(viewer, code, None).await
            }

            async fn open_tickets_on_service(
                &self,
                account_id: &str,
                service_id: &str,
            ) -> StoreResult<Vec<TicketSummary>> {
                let rows = sqlx::query(
                    "SELECT t.id, t.code, t.subject, t.department, t.status, t.priority, t.channel, t.created_us, t.activity_us,
                            s.id AS sid, s.family, s.product, s.identifier
                     FROM tickets t LEFT JOIN services s ON s.id = t.service_id
                     WHERE t.account_id = $1 AND t.service_id = $2 AND t.status != 'closed'
                     ORDER BY t.activity_us DESC LIMIT 5",
                )
                .bind(account_id)
                .bind(service_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(summary_from_row).collect()
            }
        }

        impl $Store {
            /// One ticket with the messages whose `seq` lies in `range` (all of them without one).
            async fn ticket_part(
                &self,
                viewer: Viewer<'_>,
                code: &str,
                range: Option<(i64, i64)>,
            ) -> StoreResult<Option<Ticket>> {
                let (from, to) = range.unwrap_or((i64::MIN, i64::MAX));
                let mut conn = self.pool.acquire().await?;
                let mut sql = QueryBuilder::<$Db>::new(
                    "SELECT t.id, t.code, t.subject, t.department, t.status, t.priority, t.channel, t.created_us, t.activity_us,
                            s.id AS sid, s.family, s.product, s.identifier
                     FROM tickets t LEFT JOIN services s ON s.id = t.service_id WHERE t.code = ",
                );
                sql.push_bind(code.trim().to_ascii_uppercase());
                if let Viewer::Customer(account) = viewer {
                    sql.push(" AND t.account_id = ").push_bind(account);
                }
                let Some(t) = sql.build().fetch_optional(&mut *conn).await? else {
                    return Ok(None);
                };
                let ticket_id: i64 = t.try_get("id")?;
                let files = sqlx::query(
                    "SELECT f.id, f.message_id, f.name, f.size, f.content_type
                     FROM files f JOIN messages m ON m.id = f.message_id
                     WHERE m.ticket_id = $1 AND m.seq BETWEEN $2 AND $3 ORDER BY f.created_us, f.id",
                )
                .bind(ticket_id)
                .bind(from)
                .bind(to)
                .fetch_all(&mut *conn)
                .await?;
                let raw = sqlx::query(
                    "SELECT f.id, f.name, f.size, f.content_type FROM files f
                     JOIN messages m ON m.raw_email_id = f.id WHERE m.ticket_id = $1 AND m.seq BETWEEN $2 AND $3",
                )
                .bind(ticket_id)
                .bind(from)
                .bind(to)
                .fetch_all(&mut *conn)
                .await?;
                let rows = sqlx::query(
                    "SELECT id, kind, author_kind, author_name, channel, body, status, automatic, signed, raw_email_id, created_us
                     FROM messages WHERE ticket_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
                )
                .bind(ticket_id)
                .bind(from)
                .bind(to)
                .fetch_all(&mut *conn)
                .await?;
                ticket_from_rows(&t, &files, &raw, &rows).map(Some)
            }
        }

        /// The ticket the viewer may see, its row locked until the transaction ends where the
        /// backend locks rows (`TICKET_ROW_LOCK`).
        async fn ticket_row_for(
            c: &mut $Conn,
            viewer: Viewer<'_>,
            code: &str,
        ) -> StoreResult<Option<TicketRow>> {
            let mut sql = QueryBuilder::<$Db>::new(
                "SELECT t.id, t.code, t.account_id, t.subject, t.department, t.status, a.email, a.name,
                        a.language, a.time_zone
                 FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.code = ",
            );
            sql.push_bind(code.trim().to_ascii_uppercase());
            if let Viewer::Customer(account) = viewer {
                sql.push(" AND t.account_id = ").push_bind(account);
            }
            sql.push(TICKET_ROW_LOCK);
            Ok(sql.build_query_as().fetch_optional(&mut *c).await?)
        }

        async fn recent_messages(c: &mut $Conn, ticket_id: i64) -> StoreResult<Vec<RecentMessage>> {
            let rows = sqlx::query(
                "SELECT author_name, author_kind, created_us, body FROM messages
                 WHERE ticket_id = $1 AND kind = 'message' AND NOT automatic
                 ORDER BY seq DESC LIMIT $2",
            )
            .bind(ticket_id)
            .bind(RECENT_IN_NOTIFICATION)
            .fetch_all(&mut *c)
            .await?;
            recent_from_rows(&rows)
        }

        /// Inserts a message; answers its id and its place in the thread (`seq`).
        async fn insert_message(
            c: &mut $Conn,
            ticket_id: i64,
            ticket_account: &str,
            m: &OwnedMessage,
            now: i64,
        ) -> StoreResult<(String, i64)> {
            if let Some(a) = m.charge.rate {
                usage::take(c, ticket_account, a, now).await?;
            }
            let id = random_id();
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO messages (id, ticket_id, kind, author_kind, author_account_id, author_name, channel, body, automatic, signed, raw_email_id, email_message_id, created_us)
                 VALUES ($1, $2, 'message', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
            )
            .bind(&id)
            .bind(ticket_id)
            .bind(author_kind_str(m.author_kind))
            .bind(&m.author_account_id)
            .bind(&m.author_name)
            .bind(m.channel.as_str())
            .bind(&m.body)
            .bind(m.automatic)
            .bind(m.signed)
            .bind(&m.raw_email_id)
            .bind(&m.email_message_id)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            if let Some(owner) = &m.author_account_id {
                for up in &m.upload_ids {
                    let done = sqlx::query(
                        "UPDATE files SET message_id = $1 WHERE id = $2 AND account_id = $3 AND message_id IS NULL AND created_us > $4",
                    )
                    .bind(&id)
                    .bind(up)
                    .bind(owner)
                    .bind(now - UPLOAD_TTL_US)
                    .execute(&mut *c)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::UploadUnavailable(up.clone()));
                    }
                }
            } else if !m.upload_ids.is_empty() {
                return Err(StoreError::UploadUnavailable(m.upload_ids[0].clone()));
            }
            for f in &m.files {
                sqlx::query(
                    "INSERT INTO files (id, account_id, message_id, name, size, content_type, created_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&f.id)
                .bind(ticket_account)
                .bind(&id)
                .bind(&f.name)
                .bind(f.size as i64)
                .bind(&f.content_type)
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
            if let Some(quota) = m.charge.quota_bytes {
                usage::within_quota(c, ticket_account, quota).await?;
            }
            Ok((id, seq))
        }

        /// Inserts a status-change event; answers its `seq`.
        async fn insert_event(
            c: &mut $Conn,
            ticket_id: i64,
            by: &OwnedMessage,
            status: Status,
            now: i64,
        ) -> StoreResult<i64> {
            Ok(sqlx::query_scalar(
                "INSERT INTO messages (id, ticket_id, kind, author_kind, author_account_id, author_name, channel, body, status, created_us)
                 VALUES ($1, $2, 'event', $3, $4, $5, $6, '', $7, $8) RETURNING seq",
            )
            .bind(random_id())
            .bind(ticket_id)
            .bind(author_kind_str(by.author_kind))
            .bind(&by.author_account_id)
            .bind(&by.author_name)
            .bind(by.channel.as_str())
            .bind(status.as_str())
            .bind(now)
            .fetch_one(&mut *c)
            .await?)
        }

        /// Reserves `k` for this write, in its transaction: the primary key `(account_id, key)` decides.
        /// A second writer of the same key waits on the first's uncommitted row, and once that commits
        /// finds the key taken (and reads what it made); once that rolls back, takes the key itself.
        async fn reserve_key(
            c: &mut $Conn,
            k: &OwnedKey,
            now: i64,
        ) -> StoreResult<Option<(String, String)>> {
            let done = sqlx::query(
                "INSERT INTO idempotency (account_id, key, request_hash, result, created_us)
                 VALUES ($1, $2, $3, '', $4) ON CONFLICT (account_id, key) DO NOTHING",
            )
            .bind(&k.account_id)
            .bind(&k.key)
            .bind(&k.request_hash)
            .bind(now)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 1 {
                return Ok(None);
            }
            let prior: (String, String) = sqlx::query_as(
                "SELECT request_hash, result FROM idempotency WHERE account_id = $1 AND key = $2",
            )
            .bind(&k.account_id)
            .bind(&k.key)
            .fetch_one(&mut *c)
            .await?;
            Ok(Some(prior))
        }

        /// Records what the write that reserved `k` made.
        async fn record_key_result(c: &mut $Conn, k: &OwnedKey, result: &str) -> StoreResult<()> {
            sqlx::query("UPDATE idempotency SET result = $1 WHERE account_id = $2 AND key = $3")
                .bind(result)
                .bind(&k.account_id)
                .bind(&k.key)
                .execute(&mut *c)
                .await?;
            Ok(())
        }

        /// Each search word must be in the code or the subject, whatever its case (`LIKE`).
        fn push_word_filter(sql: &mut QueryBuilder<'_, $Db>, words: &[String]) {
            for w in words {
                sql.push(" AND (t.code ")
                    .push(LIKE)
                    .push(" ")
                    .push_bind(w.clone())
                    .push(" ESCAPE '\\' OR t.subject ")
                    .push(LIKE)
                    .push(" ")
                    .push_bind(w.clone())
                    .push(" ESCAPE '\\')");
            }
        }
    };
}
pub(super) use ticket_store;

/// SQLite's single writer keeps writes apart: nothing to lock.
async fn lock_account(_: &mut SqliteConnection, _: &str) -> StoreResult<()> {
    Ok(())
}
const TICKET_ROW_LOCK: &str = "";
const LIKE: &str = "LIKE";

ticket_store!(SqliteStore, SqliteConnection, Sqlite);

/// The page size a list query asks for, within bounds.
pub(super) fn page_size(q: &ListQuery) -> u32 {
    if q.limit == 0 {
        PAGE_DEFAULT
    } else {
        q.limit.min(PAGE_MAX)
    }
}

/// The LIKE patterns of a list query's search words (at most 8).
pub(super) fn search_patterns(q: &ListQuery) -> Vec<String> {
    q.q.as_deref()
        .unwrap_or("")
        .split_whitespace()
        .take(8)
        .map(like_pattern)
        .collect()
}

/// A page of the list from up to `limit + 1` rows, newest activity first; the row past the page
/// only says that there is a next one.
pub(super) fn page_from_rows<R>(
    rows: &[R],
    limit: u32,
) -> StoreResult<(Vec<TicketSummary>, Option<String>)>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut items = Vec::with_capacity(rows.len());
    let mut last_key = None;
    for r in rows.iter().take(limit as usize) {
        last_key = Some((r.get::<i64, _>("activity_us"), r.get::<i64, _>("id")));
        items.push(summary_from_row(r)?);
    }
    let next_cursor = if rows.len() > limit as usize {
        last_key.map(|(a, id)| format!("{a}_{id}"))
    } else {
        None
    };
    Ok((items, next_cursor))
}

/// The counts per status from rows of (status, n).
pub(super) fn counts_from_rows<R>(rows: &[R]) -> StoreResult<StatusCounts>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut counts = StatusCounts::default();
    for r in rows {
        let n = r.get::<i64, _>("n").max(0) as u64;
        match parse_status(&r.get::<String, _>("status"))? {
            Status::Open => counts.open = n,
            Status::AwaitingCustomer => counts.awaiting_customer = n,
            Status::Closed => counts.closed = n,
        }
    }
    Ok(counts)
}

/// A ticket from its row (`t`), its messages' files, its messages' raw e-mails and its messages.
pub(super) fn ticket_from_rows<R>(t: &R, files: &[R], raw: &[R], rows: &[R]) -> StoreResult<Ticket>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let summary = summary_from_row(t)?;
    let mut by_message: std::collections::HashMap<String, Vec<Attachment>> = Default::default();
    for f in files {
        let mid: Option<String> = f.get("message_id");
        if let Some(mid) = mid {
            by_message
                .entry(mid)
                .or_default()
                .push(attachment_from_row(f));
        }
    }
    let raw_by_id: std::collections::HashMap<String, Attachment> = raw
        .iter()
        .map(|f| (f.get::<String, _>("id"), attachment_from_row(f)))
        .collect();

    let messages = rows
        .iter()
        .map(|r| {
            let id: String = r.get("id");
            let raw_id: Option<String> = r.get("raw_email_id");
            Ok(Message {
                attachments: by_message.remove(&id).unwrap_or_default(),
                raw_email: raw_id.and_then(|rid| raw_by_id.get(&rid).cloned()),
                id,
                kind: column(r, "kind", MessageKind::parse)?,
                author: Author {
                    kind: column(r, "author_kind", AuthorKind::parse)?,
                    name: r.get("author_name"),
                },
                channel: column(r, "channel", Channel::parse)?,
                body: r.get("body"),
                created_at: rfc3339(r.get("created_us")),
                status: r
                    .get::<Option<String>, _>("status")
                    .as_deref()
                    .map(parse_status)
                    .transpose()?,
                // An integer on SQLite, a boolean on PostgreSQL: both decode as one.
                automatic: r.get::<bool, _>("automatic"),
                signed: r.get::<bool, _>("signed"),
            })
        })
        .collect::<StoreResult<_>>()?;

    Ok(Ticket {
        code: summary.code,
        subject: summary.subject,
        department: summary.department,
        service: summary.service,
        status: summary.status,
        priority: summary.priority,
        channel: summary.channel,
        created_at: summary.created_at,
        last_activity_at: summary.last_activity_at,
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("100%"), "%100\\%%");
        assert_eq!(like_pattern("a_b"), "%a\\_b%");
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_ignored() {
        assert_eq!(parse_cursor("123_45"), Some((123, 45)));
        assert_eq!(parse_cursor("x_1"), None);
        assert_eq!(parse_cursor(""), None);
    }
}
