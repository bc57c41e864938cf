//! All SQL of the server, behind one small interface (`Store`) that handlers call.
//!
//! Handlers never write SQL: a PostgreSQL backend for several instances replaces this module only.

mod files;
mod logins;
mod writer;

use crate::util::{now_us, random_id, random_u64, rfc3339};
use anyhow::Context;
use futures_util::future::BoxFuture;
use helpdesk_core::api::{
    Attachment, Author, AuthorKind, Channel, Customer, Department, MailRejection, Message,
    MessageKind, Priority, Role, Service, ServiceFamily, ServiceStatus, ServiceSummary, Status,
    StatusCounts, Ticket, TicketList, TicketSummary,
};
use helpdesk_core::TicketCode;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

pub mod mail;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The same idempotency key came with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    /// An upload id that is not this account's, already used, or expired.
    #[error("upload {0} cannot be attached")]
    UploadUnavailable(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<StoreError> for crate::error::ApiError {
    fn from(e: StoreError) -> Self {
        use crate::error::ApiError;
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::IdempotencyMismatch => ApiError::Conflict(
                "idempotency_key_reused",
                "Questa chiave di idempotenza è già stata usata per una richiesta diversa.".into(),
            ),
            StoreError::UploadUnavailable(_) => ApiError::field(
                "upload_ids",
                "upload_unavailable",
                "Un allegato non è più disponibile (scaduto o già usato): caricalo di nuovo.",
            ),
            StoreError::Db(e) => ApiError::Internal(e.into()),
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

/// An account with what is needed to check its password.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub customer: Customer,
    pub password_hash: String,
}

/// One account as the control panel exports it (or as the demo seeds it).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportAccount {
    pub email: String,
    pub name: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_role")]
    pub role: Role,
    /// argon2id (PHC string) or bcrypt (`$2y$…`), as the panel stores it.
    pub password_hash: String,
    #[serde(default)]
    pub services: Vec<ImportService>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportService {
    /// The panel's own id for this service: the key for a repeated import.
    pub id: String,
    pub family: ServiceFamily,
    pub product: String,
    pub identifier: String,
    #[serde(default = "default_service_status")]
    pub status: ServiceStatus,
}

fn default_language() -> String {
    "it".into()
}
fn default_role() -> Role {
    Role::Customer
}
fn default_service_status() -> ServiceStatus {
    ServiceStatus::Active
}

/// Which tickets a reader may see.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    Customer(&'a str),
    Staff,
}

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
    pub email_message_id: Option<&'a str>,
    pub raw_email_id: Option<&'a str>,
    /// Uploads of `author_account_id` to attach (each once).
    pub upload_ids: &'a [String],
    /// Files already stored for this message (e.g. e-mail attachments), owned by the ticket's account.
    pub files: &'a [StoredFile],
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
            email_message_id: None,
            raw_email_id: None,
            upload_ids: &[],
            files: &[],
        }
    }
}

/// A [`NewMessage`] the writer can keep after the request that made it is gone.
#[derive(Debug, Clone)]
struct OwnedMessage {
    author_kind: AuthorKind,
    author_account_id: Option<String>,
    author_name: String,
    channel: Channel,
    body: String,
    automatic: bool,
    email_message_id: Option<String>,
    raw_email_id: Option<String>,
    upload_ids: Vec<String>,
    files: Vec<StoredFile>,
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
            email_message_id: m.email_message_id.map(String::from),
            raw_email_id: m.raw_email_id.map(String::from),
            upload_ids: m.upload_ids.to_vec(),
            files: m.files.to_vec(),
        }
    }
}

/// A [`Viewer`] the writer can keep.
enum OwnedViewer {
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
    fn as_viewer(&self) -> Viewer<'_> {
        match self {
            OwnedViewer::Customer(a) => Viewer::Customer(a),
            OwnedViewer::Staff => Viewer::Staff,
        }
    }
}

/// An enum column read back: a value this code does not know is an error, never a default.
fn column<T>(
    r: &sqlx::sqlite::SqliteRow,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> StoreResult<T> {
    let v: String = r.try_get(name)?;
    parse(&v).ok_or_else(|| anyhow::anyhow!("unknown {name} {v:?} in the database").into())
}

fn parse_status(s: &str) -> StoreResult<Status> {
    Status::parse(s)
        .ok_or_else(|| anyhow::anyhow!("unknown ticket status {s:?} in the database").into())
}

fn parse_department(s: &str) -> StoreResult<Department> {
    Department::parse(s)
        .ok_or_else(|| anyhow::anyhow!("unknown department {s:?} in the database").into())
}

/// A file already on disk under `id`, to be recorded with a message.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

/// An e-mail to queue with the message it announces; sent later by the outbox worker.
#[derive(Debug, Clone)]
pub struct Notification {
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The HTML alternative, when there is one.
    pub html: Option<String>,
}

/// What the notification is composed from, once the ticket's code is known.
pub struct NotifyContext<'a> {
    pub code: &'a TicketCode,
    pub subject: &'a str,
    pub department: Department,
    pub customer_email: &'a str,
    pub customer_name: &'a str,
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
const RECENT_IN_NOTIFICATION: i64 = 3;

async fn recent_messages(
    c: &mut SqliteConnection,
    ticket_id: i64,
) -> StoreResult<Vec<RecentMessage>> {
    let rows = sqlx::query(
        "SELECT author_name, author_kind, created_us, body FROM messages
         WHERE ticket_id = ? AND kind = 'message' AND automatic = 0
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(ticket_id)
    .bind(RECENT_IN_NOTIFICATION)
    .fetch_all(&mut *c)
    .await?;
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

pub struct NewTicketRecord<'a> {
    pub account_id: &'a str,
    pub department: Department,
    pub service_id: Option<&'a str>,
    pub subject: &'a str,
    pub priority: Priority,
    pub channel: Channel,
    pub first: NewMessage<'a>,
    /// (key, hash of the request): a retry with the same key returns the same ticket.
    pub idempotency: Option<(&'a str, &'a str)>,
}

pub enum Created {
    New(Ticket),
    Replayed(Ticket),
}

#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub attempts: i64,
}

/// A stored file with who may read it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: String,
    pub account_id: String,
    pub message_id: Option<String>,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    pub created_us: i64,
}

pub struct Store {
    /// Reads.
    pool: SqlitePool,
    /// Every write: one connection, group commit (see `writer`).
    writer: writer::Writer,
    /// Live sessions seen in the last few seconds: most requests then need no session query.
    /// Logout clears the entry here at once; on another instance it lasts at most `SESSION_CACHE`.
    sessions: std::sync::Mutex<std::collections::HashMap<String, CachedSession>>,
}

#[derive(Clone)]
struct CachedSession {
    account: Customer,
    last_seen_us: i64,
    /// The absolute expiry is checked on a hit too: a cached token must not outlive it.
    expires_us: i64,
    cached: std::time::Instant,
}

const SESSION_CACHE: Duration = Duration::from_secs(5);

const PAGE_DEFAULT: u32 = 25;
const PAGE_MAX: u32 = 100;
/// Unattached uploads older than this are gone.
pub const UPLOAD_TTL_US: i64 = 24 * 3600 * 1_000_000;

impl Store {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("database URL {url:?}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Reads of the database file through the page cache of the OS, without a copy per
            // page: each write resets the page cache of every other connection.
            .pragma("mmap_size", "268435456");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(opts.clone())
            .await
            .with_context(|| format!("opening {url}"))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .context("running migrations")?;
        let conn = SqliteConnection::connect_with(&opts)
            .await
            .with_context(|| format!("opening {url} for writing"))?;
        Ok(Store {
            pool,
            writer: writer::Writer::start(conn),
            sessions: Default::default(),
        })
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Runs `f` on the writer's connection, inside a transaction it may share with other writes;
    /// answers once that transaction has committed. `f` owns what it needs: it may outlive the
    /// caller's request.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.writer.write(Box::new(f)).await
    }

    // ----- accounts -----

    /// Inserts or updates an account by e-mail, and its services by the panel's id.
    pub async fn upsert_account(&self, a: &ImportAccount) -> StoreResult<String> {
        let email = crate::util::normalise_email(&a.email);
        let a = a.clone();
        let id = self
            .write(move |tx| {
                Box::pin(async move {
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT id, password_hash FROM accounts WHERE email = ?")
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?;
        let id = match existing {
            Some((id, old_hash)) => {
                // A new password ends every session and forgets every browser of the account:
                // a panel resets a password because it may be known to someone else.
                if old_hash != a.password_hash {
                    for table in ["sessions", "login_devices"] {
                        sqlx::query(&format!("DELETE FROM {table} WHERE account_id = ?"))
                            .bind(&id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                sqlx::query(
                    "UPDATE accounts SET name = ?, language = ?, role = ?, password_hash = ? WHERE id = ?",
                )
                .bind(&a.name)
                .bind(&a.language)
                .bind(role_str(a.role))
                .bind(&a.password_hash)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                let id = random_id();
                sqlx::query(
                    "INSERT INTO accounts (id, email, name, language, role, password_hash, created_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(&email)
                .bind(&a.name)
                .bind(&a.language)
                .bind(role_str(a.role))
                .bind(&a.password_hash)
                .bind(now_us())
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        for s in &a.services {
            sqlx::query(
                "INSERT INTO services (id, account_id, external_id, family, product, identifier, status)
                 VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (account_id, external_id) DO UPDATE SET
                   family = excluded.family, product = excluded.product,
                   identifier = excluded.identifier, status = excluded.status",
            )
            .bind(random_id())
            .bind(&id)
            .bind(&s.id)
            .bind(s.family.as_str())
            .bind(&s.product)
            .bind(&s.identifier)
            .bind(s.status.as_str())
            .execute(&mut *tx)
            .await?;
        }
        Ok(id)
                })
            })
            .await?;
        // Cached sessions carry the account's name and role: an import changes them at once.
        self.session_cache().retain(|_, c| c.account.id != id);
        Ok(id)
    }

    pub async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountRow>> {
        let row = sqlx::query(
            "SELECT id, email, name, language, role, password_hash FROM accounts WHERE email = ?",
        )
        .bind(crate::util::normalise_email(email))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(AccountRow {
                customer: customer_from_row(&r)?,
                password_hash: r.get("password_hash"),
            })
        })
        .transpose()
    }

    pub async fn account(&self, id: &str) -> StoreResult<Option<Customer>> {
        let row = sqlx::query("SELECT id, email, name, language, role FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| customer_from_row(&r)).transpose()
    }

    // ----- sessions -----

    pub async fn create_session(
        &self,
        token_hash: &str,
        account_id: &str,
        expires_us: i64,
    ) -> StoreResult<()> {
        let now = now_us();
        let (token_hash, account_id) = (token_hash.to_string(), account_id.to_string());
        self.write(move |c| {
            Box::pin(async move {
                // Expired sessions of anyone are swept here, where writes happen anyway.
                sqlx::query("DELETE FROM sessions WHERE expires_us < ?")
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                sqlx::query(
                    "INSERT INTO sessions (token_hash, account_id, created_us, last_seen_us, expires_us) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(&token_hash)
                .bind(&account_id)
                .bind(now)
                .bind(now)
                .bind(expires_us)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The account behind a live session, and when the session was last seen.
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_us: i64,
    ) -> StoreResult<Option<(Customer, i64)>> {
        if let Some(hit) = self.cached_session(token_hash) {
            if hit.last_seen_us > now - idle_us && hit.expires_us > now {
                return Ok(Some((hit.account, hit.last_seen_us)));
            }
        }
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.language, a.role, s.last_seen_us, s.expires_us
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = ? AND s.expires_us > ? AND s.last_seen_us > ?",
        )
        .bind(token_hash)
        .bind(now)
        .bind(now - idle_us)
        .fetch_optional(&self.pool)
        .await?;
        let found = row
            .map(|r| {
                StoreResult::Ok((
                    customer_from_row(&r)?,
                    r.get::<i64, _>("last_seen_us"),
                    r.get::<i64, _>("expires_us"),
                ))
            })
            .transpose()?;
        if let Some((account, last_seen_us, expires_us)) = &found {
            let mut cache = self.session_cache();
            if cache.len() > 50_000 {
                cache.retain(|_, c| c.cached.elapsed() < SESSION_CACHE);
            }
            cache.insert(
                token_hash.to_string(),
                CachedSession {
                    account: account.clone(),
                    last_seen_us: *last_seen_us,
                    expires_us: *expires_us,
                    cached: std::time::Instant::now(),
                },
            );
        }
        Ok(found.map(|(account, last_seen_us, _)| (account, last_seen_us)))
    }

    fn session_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, CachedSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached_session(&self, token_hash: &str) -> Option<CachedSession> {
        let cache = self.session_cache();
        cache
            .get(token_hash)
            .filter(|c| c.cached.elapsed() < SESSION_CACHE)
            .cloned()
    }

    pub async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        if let Some(c) = self.session_cache().get_mut(token_hash) {
            c.last_seen_us = now;
        }
        let token_hash = token_hash.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?")
                    .bind(now)
                    .bind(&token_hash)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.session_cache().remove(token_hash);
        let token_hash = token_hash.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
                    .bind(&token_hash)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Ends every session (an operator's emergency switch; tests use it to simulate expiry).
    pub async fn delete_all_sessions(&self) -> StoreResult<()> {
        self.session_cache().clear();
        self.write(|c| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions").execute(&mut *c).await?;
                Ok(())
            })
        })
        .await
    }

    // ----- services -----

    pub async fn services(&self, account_id: &str) -> StoreResult<Vec<Service>> {
        let rows = sqlx::query(
            "SELECT id, family, product, identifier, status FROM services WHERE account_id = ?
             ORDER BY family, product, identifier",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        let mut items: Vec<Service> = rows
            .iter()
            .map(|r| {
                Ok(Service {
                    id: r.get("id"),
                    family: column(r, "family", ServiceFamily::parse)?,
                    product: r.get("product"),
                    identifier: r.get("identifier"),
                    status: column(r, "status", ServiceStatus::parse)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        items.sort_by(|a, b| {
            (a.family, &a.product, &a.identifier).cmp(&(b.family, &b.product, &b.identifier))
        });
        Ok(items)
    }

    // ----- tickets -----

    pub async fn list_tickets(&self, account_id: &str, q: &ListQuery) -> StoreResult<TicketList> {
        let limit = if q.limit == 0 {
            PAGE_DEFAULT
        } else {
            q.limit.min(PAGE_MAX)
        };
        let words: Vec<String> =
            q.q.as_deref()
                .unwrap_or("")
                .split_whitespace()
                .take(8)
                .map(like_pattern)
                .collect();

        let mut sql = QueryBuilder::<Sqlite>::new(
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

        // Without search words the counts are kept up to date by the writes (migration 0008);
        // a search counts what it matches.
        let counts_rows = if words.is_empty() {
            sqlx::query("SELECT status, n FROM ticket_counts WHERE account_id = ?")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?
        } else {
            let mut counts_sql = QueryBuilder::<Sqlite>::new(
                "SELECT t.status, COUNT(*) AS n FROM tickets t WHERE t.account_id = ",
            );
            counts_sql.push_bind(account_id);
            push_word_filter(&mut counts_sql, &words);
            counts_sql.push(" GROUP BY t.status");
            counts_sql.build().fetch_all(&self.pool).await?
        };
        let mut counts = StatusCounts::default();
        for r in counts_rows {
            let n = r.get::<i64, _>("n").max(0) as u64;
            match parse_status(r.get("status"))? {
                Status::Open => counts.open = n,
                Status::AwaitingCustomer => counts.awaiting_customer = n,
                Status::Closed => counts.closed = n,
            }
        }
        Ok(TicketList {
            items,
            next_cursor,
            counts,
        })
    }

    /// Opens a ticket with its first message (and its acknowledgment, queued) in one transaction.
    pub async fn create_ticket(
        &self,
        rec: NewTicketRecord<'_>,
        ack: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> StoreResult<Created> {
        enum Made {
            New(String),
            Prior { same_request: bool, code: String },
        }
        let account_id = rec.account_id.to_string();
        let (department, priority, channel) = (rec.department, rec.priority, rec.channel);
        let service_id = rec.service_id.map(String::from);
        let subject = rec.subject.to_string();
        let first = OwnedMessage::from(&rec.first);
        let idempotency = rec.idempotency.map(|(k, h)| (k.to_string(), h.to_string()));
        let made = self
            .write(move |c| {
                Box::pin(async move {
                    if let Some((key, hash)) = &idempotency {
                        let prior = sqlx::query(
                            "SELECT request_hash, result FROM idempotency WHERE account_id = ? AND key = ?",
                        )
                        .bind(&account_id)
                        .bind(key)
                        .fetch_optional(&mut *c)
                        .await?;
                        if let Some(prior) = prior {
                            return Ok(Made::Prior {
                                same_request: prior.get::<String, _>("request_hash") == *hash,
                                code: prior.get("result"),
                            });
                        }
                    }
                    let now = now_us();
                    // Codes are random; a collision with an existing one just draws again.
                    let mut code = None;
                    for _ in 0..32 {
                        let Some(candidate) = TicketCode::from_random(random_u64()) else {
                            continue;
                        };
                        let taken: Option<i64> =
                            sqlx::query_scalar("SELECT id FROM tickets WHERE code = ?")
                                .bind(candidate.as_str())
                                .fetch_optional(&mut *c)
                                .await?;
                        if taken.is_none() {
                            code = Some(candidate);
                            break;
                        }
                    }
                    let code =
                        code.ok_or_else(|| anyhow::anyhow!("no free ticket code after 32 draws"))?;
                    let ticket_id: i64 = sqlx::query_scalar(
                        "INSERT INTO tickets (code, account_id, department, service_id, subject, status, priority, channel, created_us, activity_us)
                         VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id",
                    )
                    .bind(code.as_str())
                    .bind(&account_id)
                    .bind(department.as_str())
                    .bind(&service_id)
                    .bind(&subject)
                    .bind(priority.as_str())
                    .bind(channel.as_str())
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *c)
                    .await?;
                    insert_message(c, ticket_id, &account_id, &first, now).await?;
                    if let Some((key, hash)) = &idempotency {
                        sqlx::query("INSERT INTO idempotency (account_id, key, request_hash, result, created_us) VALUES (?, ?, ?, ?, ?)")
                            .bind(&account_id)
                            .bind(key)
                            .bind(hash)
                            .bind(code.as_str())
                            .bind(now)
                            .execute(&mut *c)
                            .await?;
                    }
                    let (email, name): (String, String) =
                        sqlx::query_as("SELECT email, name FROM accounts WHERE id = ?")
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
                        status: Status::Open,
                        recent,
                    };
                    if let Some(n) = ack(&ctx) {
                        queue_notification(c, ticket_id, &n, now).await?;
                    }
                    Ok(Made::New(code.as_str().to_string()))
                })
            })
            .await?;
        let viewer = Viewer::Customer(rec.account_id);
        match made {
            Made::Prior {
                same_request: false,
                ..
            } => Err(StoreError::IdempotencyMismatch),
            Made::Prior { code, .. } => Ok(Created::Replayed(
                self.ticket(viewer, &code)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            )),
            Made::New(code) => Ok(Created::New(
                self.ticket(viewer, &code)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            )),
        }
    }

    /// Appends a message to a ticket the viewer may see, applies the status rules, and queues
    /// the notification the composer returns (staff replies notify; customers' do not).
    /// Answers with the ticket's own fields and, in `messages`, only what this request added
    /// (the message, and the status events it caused); a replay answers what the first added.
    pub async fn add_message(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        msg: NewMessage<'_>,
        next_status: Option<Status>,
        idempotency: Option<(&str, &str)>,
        notify: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> StoreResult<(Ticket, bool)> {
        enum Added {
            New(Added2),
            Prior(String),
            Mismatch,
        }
        type Added2 = (String, i64, i64);
        let owned_viewer = OwnedViewer::from(viewer);
        let code = code.to_string();
        let msg = OwnedMessage::from(&msg);
        let idempotency = idempotency.map(|(k, h)| (k.to_string(), h.to_string()));
        let added = self
            .write(move |c| {
                Box::pin(async move {
                    let row = ticket_row_for(c, owned_viewer.as_viewer(), &code)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let now = now_us();
                    let scoped = idempotency
                        .as_ref()
                        .map(|(key, hash)| (format!("reply:{}:{key}", row.code), hash));
                    let owner = msg.author_account_id.clone().unwrap_or_default();
                    if let Some((scoped, hash)) = &scoped {
                        let prior = sqlx::query(
                            "SELECT request_hash, result FROM idempotency WHERE account_id = ? AND key = ?",
                        )
                        .bind(&owner)
                        .bind(scoped)
                        .fetch_optional(&mut *c)
                        .await?;
                        if let Some(prior) = prior {
                            if prior.get::<String, _>("request_hash") != **hash {
                                return Ok(Added::Mismatch);
                            }
                            return Ok(Added::Prior(prior.get("result")));
                        }
                    }
                    let current = parse_status(&row.status)?;
                    let target = if msg.automatic {
                        current
                    } else {
                        next_status.unwrap_or(match msg.author_kind {
                            AuthorKind::Customer => Status::Open,
                            AuthorKind::Staff => Status::AwaitingCustomer,
                        })
                    };
                    let mut seqs = Vec::with_capacity(3);
                    // A customer's reply to a closed ticket reopens it: the thread shows that as an event.
                    if current == Status::Closed && target != Status::Closed {
                        seqs.push(insert_event(c, row.id, &msg, Status::Open, now).await?);
                    }
                    let (_, seq) = insert_message(c, row.id, &row.account_id, &msg, now + 1).await?;
                    seqs.push(seq);
                    if target == Status::Closed && current != Status::Closed {
                        seqs.push(insert_event(c, row.id, &msg, Status::Closed, now + 2).await?);
                    }
                    sqlx::query("UPDATE tickets SET status = ?, activity_us = ? WHERE id = ?")
                        .bind(target.as_str())
                        .bind(now)
                        .bind(row.id)
                        .execute(&mut *c)
                        .await?;
                    let (first, last) = (seqs[0], seqs[seqs.len() - 1]);
                    if let Some((scoped, hash)) = &scoped {
                        sqlx::query("INSERT INTO idempotency (account_id, key, request_hash, result, created_us) VALUES (?, ?, ?, ?, ?)")
                            .bind(&owner)
                            .bind(scoped)
                            .bind(*hash)
                            .bind(format!("{} {first} {last}", row.code))
                            .bind(now)
                            .execute(&mut *c)
                            .await?;
                    }
                    if !msg.automatic {
                        let code = TicketCode::parse(&row.code)
                            .ok_or_else(|| anyhow::anyhow!("bad stored code"))?;
                        let recent = recent_messages(c, row.id).await?;
                        let ctx = NotifyContext {
                            code: &code,
                            subject: &row.subject,
                            department: parse_department(&row.department)?,
                            customer_email: &row.email,
                            customer_name: &row.name,
                            status: target,
                            recent: &recent,
                        };
                        if let Some(n) = notify(&ctx) {
                            queue_notification(c, row.id, &n, now).await?;
                        }
                    }
                    Ok(Added::New((row.code, first, last)))
                })
            })
            .await?;
        match added {
            Added::Mismatch => Err(StoreError::IdempotencyMismatch),
            Added::New((code, first, last)) => Ok((
                self.ticket_part(viewer, &code, Some((first, last)))
                    .await?
                    .ok_or(StoreError::NotFound)?,
                false,
            )),
            Added::Prior(result) => {
                // "CODE FIRST LAST"; a key recorded before answers carried only what was added
                // holds the code alone, and its replay shows the ticket without messages.
                let mut parts = result.split(' ');
                let code = parts.next().unwrap_or_default().to_string();
                let range = match (parts.next(), parts.next()) {
                    (Some(a), Some(b)) => a.parse().ok().zip(b.parse().ok()),
                    _ => None,
                };
                let t = self
                    .ticket_part(viewer, &code, Some(range.unwrap_or((1, 0))))
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Ok((t, true))
            }
        }
    }

    /// Closes or reopens a ticket; the change shows in the thread as an event. Answers with the
    /// ticket's own fields and, in `messages`, the event (none when the status was already so).
    pub async fn set_status(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        status: Status,
        by: (AuthorKind, Option<&str>, &str),
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
            email_message_id: None,
            raw_email_id: None,
            upload_ids: Vec::new(),
            files: Vec::new(),
        };
        let (code, seq) = self
            .write(move |c| {
                Box::pin(async move {
                    let row = ticket_row_for(c, owned_viewer.as_viewer(), &code)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    if row.status == status.as_str() {
                        return Ok((row.code, None));
                    }
                    let now = now_us();
                    let seq = insert_event(c, row.id, &who, status, now).await?;
                    sqlx::query("UPDATE tickets SET status = ?, activity_us = ? WHERE id = ?")
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

    /// One ticket with its whole thread, or `None` when it is missing or not the viewer's.
    pub async fn ticket(&self, viewer: Viewer<'_>, code: &str) -> StoreResult<Option<Ticket>> {
        self.ticket_part(viewer, code, None).await
    }

    /// One ticket with the messages whose `seq` lies in `range` (all of them without one).
    async fn ticket_part(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        range: Option<(i64, i64)>,
    ) -> StoreResult<Option<Ticket>> {
        let (from, to) = range.unwrap_or((i64::MIN, i64::MAX));
        let mut conn = self.pool.acquire().await?;
        let mut sql = QueryBuilder::<Sqlite>::new(
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
        let ticket_id: i64 = t.get("id");
        let summary = summary_from_row(&t)?;

        let files = sqlx::query(
            "SELECT f.id, f.message_id, f.name, f.size, f.content_type
             FROM files f JOIN messages m ON m.id = f.message_id
             WHERE m.ticket_id = ? AND m.seq BETWEEN ? AND ? ORDER BY f.created_us, f.id",
        )
        .bind(ticket_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let raw = sqlx::query(
            "SELECT f.id, f.name, f.size, f.content_type FROM files f
             JOIN messages m ON m.raw_email_id = f.id WHERE m.ticket_id = ? AND m.seq BETWEEN ? AND ?",
        )
        .bind(ticket_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let rows = sqlx::query(
            "SELECT id, kind, author_kind, author_name, channel, body, status, automatic, raw_email_id, created_us
             FROM messages WHERE ticket_id = ? AND seq BETWEEN ? AND ? ORDER BY seq",
        )
        .bind(ticket_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;

        let mut by_message: std::collections::HashMap<String, Vec<Attachment>> = Default::default();
        for f in &files {
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
                    automatic: r.get::<i64, _>("automatic") != 0,
                })
            })
            .collect::<StoreResult<_>>()?;

        Ok(Some(Ticket {
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
        }))
    }

    /// Open tickets of this account on a service (the wizard warns before a duplicate).
    pub async fn open_tickets_on_service(
        &self,
        account_id: &str,
        service_id: &str,
    ) -> StoreResult<Vec<TicketSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, t.code, t.subject, t.department, t.status, t.priority, t.channel, t.created_us, t.activity_us,
                    s.id AS sid, s.family, s.product, s.identifier
             FROM tickets t LEFT JOIN services s ON s.id = t.service_id
             WHERE t.account_id = ? AND t.service_id = ? AND t.status != 'closed'
             ORDER BY t.activity_us DESC LIMIT 5",
        )
        .bind(account_id)
        .bind(service_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    // ----- files -----

    pub async fn insert_upload(&self, account_id: &str, f: &StoredFile) -> StoreResult<()> {
        let (account_id, f) = (account_id.to_string(), f.clone());
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO files (id, account_id, message_id, name, size, content_type, created_us) VALUES (?, ?, NULL, ?, ?, ?, ?)",
                )
                .bind(&f.id)
                .bind(&account_id)
                .bind(&f.name)
                .bind(f.size as i64)
                .bind(&f.content_type)
                .bind(now_us())
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// A file the viewer may download: attached to one of their tickets, or their own upload.
    pub async fn file_for(&self, viewer: Viewer<'_>, id: &str) -> StoreResult<Option<FileRow>> {
        let row = sqlx::query(
            "SELECT f.id, f.account_id, f.message_id, f.name, f.size, f.content_type, f.created_us,
                    (SELECT t.account_id FROM messages m JOIN tickets t ON t.id = m.ticket_id
                      WHERE m.id = f.message_id OR m.raw_email_id = f.id LIMIT 1) AS ticket_account
             FROM files f WHERE f.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let owner: String = r.get("account_id");
        let ticket_account: Option<String> = r.get("ticket_account");
        let visible = match viewer {
            Viewer::Staff => true,
            Viewer::Customer(acc) => {
                ticket_account.as_deref() == Some(acc) || (ticket_account.is_none() && owner == acc)
            }
        };
        if !visible {
            return Ok(None);
        }
        Ok(Some(FileRow {
            id: r.get("id"),
            account_id: owner,
            message_id: r.get("message_id"),
            name: r.get("name"),
            size: r.get::<i64, _>("size").max(0) as u64,
            content_type: r.get("content_type"),
            created_us: r.get("created_us"),
        }))
    }

    /// Unattached uploads older than the TTL: removed from the table; the caller removes the files.
    pub async fn expire_uploads(&self, now: i64) -> StoreResult<Vec<String>> {
        self.write(move |c| {
            Box::pin(async move {
                Ok(sqlx::query_scalar(
                    "DELETE FROM files WHERE message_id IS NULL AND created_us < ?
                       AND id NOT IN (SELECT raw_email_id FROM messages WHERE raw_email_id IS NOT NULL)
                       AND id NOT IN (SELECT raw_path FROM mail_intake)
                     RETURNING id",
                )
                .bind(now - UPLOAD_TTL_US)
                .fetch_all(&mut *c)
                .await?)
            })
        })
        .await
    }

    // ----- outbox -----

    pub async fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        let rows = sqlx::query(
            "SELECT id, message_id, from_addr, to_addr, subject, body, html, in_reply_to, references_, attempts
             FROM outbox WHERE sent_us IS NULL AND next_try_us <= ? ORDER BY id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| OutboxItem {
                id: r.get("id"),
                message_id: r.get("message_id"),
                from: r.get("from_addr"),
                to: r.get("to_addr"),
                subject: r.get("subject"),
                body: r.get("body"),
                html: r.get("html"),
                in_reply_to: r.get("in_reply_to"),
                references: r.get("references_"),
                attempts: r.get("attempts"),
            })
            .collect())
    }

    pub async fn mark_sent(&self, id: i64, now: i64) -> StoreResult<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("UPDATE outbox SET sent_us = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn mark_failed(&self, id: i64, next_try_us: i64, error: &str) -> StoreResult<()> {
        let error = error.to_string();
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_try_us = ?, last_error = ? WHERE id = ?")
                    .bind(next_try_us)
                    .bind(&error)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// The soonest time a pending notification is due, if any.
    pub async fn next_notification_due(&self) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_try_us) FROM outbox WHERE sent_us IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    // ----- refused e-mails -----

    pub async fn mail_rejections(&self, account_id: &str) -> StoreResult<Vec<MailRejection>> {
        let rows = sqlx::query(
            "SELECT id, subject, reason, received_us FROM mail_intake
             WHERE account_id = ? AND outcome = 'refused' ORDER BY received_us DESC LIMIT 100",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let reason: Option<String> = r.get("reason");
                let reason = reason.unwrap_or_default();
                MailRejection {
                    id: r.get("id"),
                    received_at: rfc3339(r.get("received_us")),
                    subject: r.get("subject"),
                    message: crate::texts::rejection_explanation(&reason).to_string(),
                    reason,
                }
            })
            .collect())
    }

    /// For benchmarks and health checks: is the database answering?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Direct pool access for the e-mail intake's own records (same module family).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

struct TicketRow {
    id: i64,
    code: String,
    account_id: String,
    subject: String,
    department: String,
    status: String,
    email: String,
    name: String,
}

async fn ticket_row_for(
    c: &mut SqliteConnection,
    viewer: Viewer<'_>,
    code: &str,
) -> StoreResult<Option<TicketRow>> {
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT t.id, t.code, t.account_id, t.subject, t.department, t.status, a.email, a.name
         FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.code = ",
    );
    sql.push_bind(code.trim().to_ascii_uppercase());
    if let Viewer::Customer(account) = viewer {
        sql.push(" AND t.account_id = ").push_bind(account);
    }
    let row = sql.build().fetch_optional(&mut *c).await?;
    Ok(row.map(|r| TicketRow {
        id: r.get("id"),
        code: r.get("code"),
        account_id: r.get("account_id"),
        subject: r.get("subject"),
        department: r.get("department"),
        status: r.get("status"),
        email: r.get("email"),
        name: r.get("name"),
    }))
}

/// Inserts a message; answers its id and its place in the thread (`seq`).
async fn insert_message(
    c: &mut SqliteConnection,
    ticket_id: i64,
    ticket_account: &str,
    m: &OwnedMessage,
    now: i64,
) -> StoreResult<(String, i64)> {
    let id = random_id();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO messages (id, ticket_id, kind, author_kind, author_account_id, author_name, channel, body, automatic, raw_email_id, email_message_id, created_us)
         VALUES (?, ?, 'message', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
    )
    .bind(&id)
    .bind(ticket_id)
    .bind(author_kind_str(m.author_kind))
    .bind(&m.author_account_id)
    .bind(&m.author_name)
    .bind(m.channel.as_str())
    .bind(&m.body)
    .bind(i64::from(m.automatic))
    .bind(&m.raw_email_id)
    .bind(&m.email_message_id)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    if let Some(owner) = &m.author_account_id {
        for up in &m.upload_ids {
            let done = sqlx::query(
                "UPDATE files SET message_id = ? WHERE id = ? AND account_id = ? AND message_id IS NULL AND created_us > ?",
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
            "INSERT INTO files (id, account_id, message_id, name, size, content_type, created_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
    Ok((id, seq))
}

/// Inserts a status-change event; answers its `seq`.
async fn insert_event(
    c: &mut SqliteConnection,
    ticket_id: i64,
    by: &OwnedMessage,
    status: Status,
    now: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO messages (id, ticket_id, kind, author_kind, author_account_id, author_name, channel, body, status, created_us)
         VALUES (?, ?, 'event', ?, ?, ?, ?, '', ?, ?) RETURNING seq",
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

/// Queues an e-mail chained to the ticket's earlier mail (In-Reply-To / References).
async fn queue_notification(
    c: &mut SqliteConnection,
    ticket_id: i64,
    n: &Notification,
    now: i64,
) -> StoreResult<()> {
    let earlier: Vec<String> = sqlx::query_scalar(
        "SELECT mid FROM (
            SELECT email_message_id AS mid, created_us AS at FROM messages WHERE ticket_id = ?1 AND email_message_id IS NOT NULL
            UNION ALL
            SELECT message_id AS mid, created_us AS at FROM outbox WHERE ticket_id = ?1
         ) ORDER BY at",
    )
    .bind(ticket_id)
    .fetch_all(&mut *c)
    .await?;
    let in_reply_to = earlier.last().cloned();
    // The first and the latest few are enough for every mailer to thread.
    let refs: Vec<&String> = if earlier.len() > 10 {
        std::iter::once(&earlier[0])
            .chain(earlier[earlier.len() - 9..].iter())
            .collect()
    } else {
        earlier.iter().collect()
    };
    let references = if refs.is_empty() {
        None
    } else {
        Some(
            refs.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        )
    };
    sqlx::query(
        "INSERT INTO outbox (ticket_id, message_id, from_addr, to_addr, subject, body, html, in_reply_to, references_, next_try_us, created_us)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ticket_id)
    .bind(&n.message_id)
    .bind(&n.from)
    .bind(&n.to)
    .bind(&n.subject)
    .bind(&n.body)
    .bind(&n.html)
    .bind(in_reply_to)
    .bind(references)
    .bind(now)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

fn push_word_filter(sql: &mut QueryBuilder<'_, Sqlite>, words: &[String]) {
    for w in words {
        sql.push(" AND (t.code LIKE ")
            .push_bind(w.clone())
            .push(" ESCAPE '\\' OR t.subject LIKE ")
            .push_bind(w.clone())
            .push(" ESCAPE '\\')");
    }
}

/// `%word%` with LIKE's wildcards escaped, so a search for "100%" finds just that.
fn like_pattern(word: &str) -> String {
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

fn parse_cursor(c: &str) -> Option<(i64, i64)> {
    let (a, b) = c.split_once('_')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn role_str(r: Role) -> &'static str {
    match r {
        Role::Customer => "customer",
        Role::Staff => "staff",
    }
}

fn author_kind_str(k: AuthorKind) -> &'static str {
    match k {
        AuthorKind::Customer => "customer",
        AuthorKind::Staff => "staff",
    }
}

fn customer_from_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<Customer> {
    Ok(Customer {
        id: r.get("id"),
        email: r.get("email"),
        name: r.get("name"),
        language: r.get("language"),
        role: column(r, "role", Role::parse)?,
    })
}

fn attachment_from_row(r: &sqlx::sqlite::SqliteRow) -> Attachment {
    Attachment {
        id: r.get("id"),
        name: r.get("name"),
        size: r.get::<i64, _>("size").max(0) as u64,
        content_type: r.get("content_type"),
    }
}

fn summary_from_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<TicketSummary> {
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
