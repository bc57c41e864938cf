//! The storage contract: what every backend must do, tested through the storage traits only and
//! run against each backend: SQLite, and PostgreSQL when the tests have one. Every case is written
//! once over [`Database`] and instantiated per backend by `contract!`, so the two backends answer
//! the same questions the same way.
//!
//! "Two instances" are two stores opened on one database (for SQLite, the same file): what one
//! writes, the other must see at once, and a race between them must end as the database decides.

mod accounts;
mod mail;
mod outbox;
mod tickets;
mod uploads;

use helpdesk_core::api::{
    AuthorKind, Channel, Customer, Department, MessageKind, Priority, Role, ServiceFamily,
    ServiceStatus, Status, Ticket,
};
use helpdesk_core::TicketCode;
use helpdesk_server::storage::prelude::*;
use helpdesk_server::storage::{
    IdempotencyRecord, ImportAccount, ImportService, ListQuery, NewMessage, NewTicketRecord,
    Notification, NotifyContext, Recorded, Storage, StoreError, StoredFile, TicketDraft,
};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// An hour in microseconds, the storage's unit of time.
const HOUR: i64 = 3_600_000_000;

/// A fresh, migrated, empty database of one backend, which several stores (as several server
/// instances) may open at once.
pub trait Database {
    type Store: Storage + 'static;
    fn open(&self) -> impl Future<Output = Self::Store>;
}

/// SQLite: a file in a temporary folder.
pub struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    pub async fn fresh() -> Option<Self> {
        Some(Sqlite {
            dir: tempfile::tempdir().expect("tempdir"),
        })
    }
}

impl Database for Sqlite {
    type Store = helpdesk_server::storage::Store;
    async fn open(&self) -> Self::Store {
        let url = format!("sqlite://{}", self.dir.path().join("contract.db").display());
        helpdesk_server::storage::Store::open(&url)
            .await
            .expect("the store opens")
    }
}

/// PostgreSQL: a database of its own on the test PostgreSQL (`crate::pg`).
pub struct Postgres {
    url: String,
}

impl Postgres {
    pub async fn fresh() -> Option<Self> {
        Some(Postgres {
            url: crate::pg::fresh_database().await?,
        })
    }
}

impl Database for Postgres {
    type Store = helpdesk_server::storage::Store;
    async fn open(&self) -> Self::Store {
        helpdesk_server::storage::Store::open_with(&self.url, 4)
            .await
            .expect("the store opens")
    }
}

/// One `#[tokio::test]` per case and backend: `<backend>::<group>::<case>`, each calling
/// `<group>::<case>` with a fresh database of that backend.
macro_rules! contract {
    (@on $module:ident = $backend:ident; $($group:ident: [$($case:ident),*]),*) => {
        mod $module {
            $(
                mod $group {
                    $(
                        #[tokio::test]
                        async fn $case() {
                            let Some(db) = super::super::$backend::fresh().await else {
                                eprintln!("skipped: no test PostgreSQL (HELPDESK_TEST_PG_ADMIN unset)");
                                return;
                            };
                            super::super::$group::$case(&db).await;
                        }
                    )*
                }
            )*
        }
    };
    ($($group:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        contract!(@on sqlite = Sqlite; $($group: [$($case),*]),*);
        contract!(@on postgres = Postgres; $($group: [$($case),*]),*);
    };
}

contract! {
    tickets: [
        a_ticket_is_recorded_as_given,
        a_taken_code_writes_nothing,
        a_taken_key_writes_nothing_and_answers_the_first_write,
        a_failed_write_leaves_its_key_free,
        a_message_records_the_effect_decided_on_the_status_it_read,
        a_message_key_answers_what_the_first_message_added,
        a_status_change_records_what_the_rule_answers,
        a_ticket_is_read_only_by_its_customer_and_staff,
        the_list_counts_searches_filters_and_pages,
        open_tickets_on_a_service_leave_out_closed_ones,
        the_tickets_allowance_is_counted_with_the_write,
        instances_racing_on_one_key_make_one_ticket,
        instances_racing_on_one_code_make_one_ticket,
        replies_racing_on_two_tickets_both_commit,
    ],
    accounts: [
        an_import_is_read_back_and_updated_in_place,
        a_language_is_kept_until_cleared,
        a_time_zone_is_kept_until_cleared,
        a_session_lives_until_idle_or_expired,
        a_logout_is_seen_at_once_by_another_instance,
        a_new_password_ends_sessions_and_devices_on_every_instance,
        a_device_is_known_to_its_account_only_and_until_forgotten,
        a_sign_on_jti_is_used_once,
        instances_racing_on_one_jti_let_one_through,
        login_attempts_are_counted_per_key_in_a_window,
        instances_count_every_attempt,
    ],
    uploads: [
        an_upload_is_charged_its_rate_and_quota,
        an_upload_is_read_by_its_owner_and_staff_until_it_expires,
        an_attached_file_is_read_by_the_tickets_customer,
        a_usage_window_ends_and_starts_again,
        instances_racing_for_an_allowance_of_five_pass_five,
    ],
    mail: [
        a_message_is_claimed_once,
        instances_claiming_one_message_give_one_claim,
        refusal_answers_are_limited_per_address,
        refused_raw_mail_is_listed_until_forgotten,
        an_abandoned_claim_is_claimed_again,
        threading_finds_the_ticket_of_a_message_id,
        a_raw_email_is_a_file_of_its_customer,
    ],
    outbox: [
        a_claimed_notification_waits_for_its_lease,
        sent_is_never_again_and_failed_is_due_at_its_next_try,
        an_unmarked_claim_passes_to_another_instance_when_its_lease_ends,
    ],
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the cases

/// A customer with one service (panel id `svc-<email>`), as an import makes one.
async fn customer(store: &impl Storage, email: &str) -> Customer {
    let id = store
        .upsert_account(&import(email, "$argon2id$not-used"))
        .await
        .expect("account");
    store.account(&id).await.expect("read").expect("account")
}

/// An import of a customer with one domain.
fn import(email: &str, password_hash: &str) -> ImportAccount {
    ImportAccount {
        email: email.into(),
        name: format!("Cliente {email}"),
        language: None,
        role: Role::Customer,
        password_hash: password_hash.into(),
        services: vec![ImportService {
            id: format!("svc-{email}"),
            family: ServiceFamily::Domain,
            product: "Dominio".into(),
            identifier: "example.it".into(),
            status: ServiceStatus::Active,
        }],
    }
}

/// The storage id of the customer's (first) service.
async fn service_of(store: &impl Storage, who: &Customer) -> String {
    store
        .services(&who.id)
        .await
        .expect("services")
        .into_iter()
        .next()
        .expect("a service")
        .id
}

fn code(n: u32) -> TicketCode {
    TicketCode::parse(&format!("QZX-101-{n:05}")).expect("a code")
}

fn draft<'a>(who: &'a Customer, subject: &'a str) -> TicketDraft<'a> {
    TicketDraft {
        account_id: &who.id,
        department: Department::Sales,
        service_id: None,
        subject,
        priority: Priority::Normal,
        channel: Channel::Web,
        first: NewMessage::text(
            who,
            AuthorKind::Customer,
            Channel::Web,
            "Il primo messaggio.",
        ),
    }
}

fn record<'a>(
    code: TicketCode,
    status: Status,
    draft: TicketDraft<'a>,
    key: Option<IdempotencyRecord<'a>>,
) -> NewTicketRecord<'a> {
    NewTicketRecord {
        code,
        status,
        draft,
        idempotency: key,
    }
}

fn key<'a>(who: &'a Customer, key: &'a str, hash: &'a str) -> IdempotencyRecord<'a> {
    IdempotencyRecord {
        account_id: &who.id,
        key,
        request_hash: hash,
    }
}

/// A ticket of `who` with code `n`, status and subject as given, no notification.
async fn ticket(store: &impl Storage, who: &Customer, n: u32, status: Status, subject: &str) {
    new(store
        .create_ticket(record(code(n), status, draft(who, subject), None), silent)
        .await);
}

/// A composer that queues nothing.
fn silent(_: &NotifyContext<'_>) -> Option<Notification> {
    None
}

/// A composer that always queues a notification (Message-ID `<code-n-…@contract.test>`),
/// counting the times it is asked.
fn composer(
    asked: &Arc<AtomicUsize>,
) -> impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Clone + Send + 'static {
    let asked = asked.clone();
    move |ctx| {
        let n = asked.fetch_add(1, Ordering::SeqCst);
        Some(Notification {
            message_id: format!("<{}-{n}-{}@contract.test>", ctx.code.as_str(), rand_u64()),
            from: "helpdesk@example.it".into(),
            to: ctx.customer_email.into(),
            subject: ctx.subject.into(),
            body: "b".into(),
            html: None,
        })
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0u8)
}

/// Notifications waiting in the outbox (claiming them, far in the future, for good).
async fn queued(store: &impl Storage) -> usize {
    store
        .due_notifications(i64::MAX, 1000)
        .await
        .expect("outbox")
        .len()
}

async fn tickets_of(store: &impl Storage, who: &Customer) -> usize {
    store
        .list_tickets(&who.id, &ListQuery::default())
        .await
        .expect("list")
        .items
        .len()
}

fn new(r: Result<Recorded, StoreError>) -> Ticket {
    match r {
        Ok(Recorded::New(t)) => t,
        Ok(Recorded::Prior { ticket, .. }) => panic!("a replay of {}", ticket.code),
        Err(e) => panic!("{e}"),
    }
}

/// A message's kind and, for an event, its status: what a thread shows, in order.
fn shape(t: &Ticket) -> Vec<(MessageKind, Option<Status>)> {
    t.messages.iter().map(|m| (m.kind, m.status)).collect()
}

/// A file already on disk, as the upload handler hands it over.
fn file(id: &str, size: u64) -> StoredFile {
    StoredFile {
        id: id.into(),
        name: format!("{id}.txt"),
        size,
        content_type: "text/plain".into(),
    }
}
