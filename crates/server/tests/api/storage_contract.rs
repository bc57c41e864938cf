//! The storage contract: what every backend's `TicketStore` must do, tested through the traits
//! only, run against each backend: SQLite, and PostgreSQL when the tests have one.
//!
//! Storage records what the rules in `tickets/` decide and decides nothing itself: a ticket keeps
//! the code and status it is given, a message the effect it is given. Uniqueness is the
//! database's: a taken code or key writes nothing, whichever instance races for it.

use helpdesk_core::api::{
    AuthorKind, Channel, Customer, Department, MessageKind, Priority, Role, Status, Ticket,
};
use helpdesk_core::TicketCode;
use helpdesk_server::storage::prelude::*;
use helpdesk_server::storage::{
    IdempotencyRecord, ImportAccount, ListQuery, MessageEffect, NewMessage, NewTicketRecord,
    Notification, NotifyContext, Recorded, Storage, StoreError, TicketDraft, Viewer,
};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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

/// One `#[tokio::test]` per case and backend.
macro_rules! contract {
    ($module:ident = $backend:ident: $($case:ident),* $(,)?) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = super::$backend::fresh().await else {
                        eprintln!("skipped: no test PostgreSQL (HELPDESK_TEST_PG_ADMIN unset)");
                        return;
                    };
                    super::$case(&db).await;
                }
            )*
        }
    };
}

contract!(sqlite = Sqlite:
    a_ticket_is_recorded_as_given,
    a_taken_code_writes_nothing,
    a_taken_key_writes_nothing_and_answers_the_first_write,
    a_failed_write_leaves_its_key_free,
    a_message_records_the_effect_decided_on_the_status_it_read,
    a_message_key_answers_what_the_first_message_added,
    a_status_change_records_what_the_rule_answers,
    instances_racing_on_one_key_make_one_ticket,
    instances_racing_on_one_code_make_one_ticket,
);

contract!(postgres = Postgres:
    a_ticket_is_recorded_as_given,
    a_taken_code_writes_nothing,
    a_taken_key_writes_nothing_and_answers_the_first_write,
    a_failed_write_leaves_its_key_free,
    a_message_records_the_effect_decided_on_the_status_it_read,
    a_message_key_answers_what_the_first_message_added,
    a_status_change_records_what_the_rule_answers,
    instances_racing_on_one_key_make_one_ticket,
    instances_racing_on_one_code_make_one_ticket,
);

// ---------------------------------------------------------------------------------------------
// Helpers

async fn customer(store: &impl Storage, email: &str) -> Customer {
    let id = store
        .upsert_account(&ImportAccount {
            email: email.into(),
            name: format!("Cliente {email}"),
            language: None,
            role: Role::Customer,
            password_hash: "$argon2id$not-used".into(),
            services: Vec::new(),
        })
        .await
        .expect("account");
    store.account(&id).await.expect("read").expect("account")
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

/// A composer that always queues a notification, counting the times it is asked.
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

// ---------------------------------------------------------------------------------------------
// Cases

async fn a_ticket_is_recorded_as_given(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    let t = new(store
        .create_ticket(
            record(code(1), Status::Open, draft(&ana, "Dominio"), None),
            composer(&asked),
        )
        .await);
    assert_eq!(t.code, code(1).as_str());
    assert_eq!((t.status, t.subject.as_str()), (Status::Open, "Dominio"));
    assert_eq!(shape(&t), vec![(MessageKind::Message, None)]);
    assert_eq!(t.messages[0].body, "Il primo messaggio.");
    assert_eq!(
        queued(&store).await,
        1,
        "the acknowledgment, queued with it"
    );

    // The status is the rules' to choose: storage keeps whichever it is given.
    let t = new(store
        .create_ticket(
            record(
                code(2),
                Status::AwaitingCustomer,
                draft(&ana, "Altro"),
                None,
            ),
            |_: &NotifyContext<'_>| None,
        )
        .await);
    assert_eq!(t.status, Status::AwaitingCustomer);
    let list = store
        .list_tickets(&ana.id, &ListQuery::default())
        .await
        .expect("list");
    assert_eq!(list.items.len(), 2);
    assert_eq!((list.counts.open, list.counts.awaiting_customer), (1, 1));
    assert_eq!(
        queued(&store).await,
        1,
        "no notification when none is composed"
    );
}

async fn a_taken_code_writes_nothing(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    new(store
        .create_ticket(
            record(code(1), Status::Open, draft(&ana, "Primo"), None),
            composer(&asked),
        )
        .await);
    // Another account, a key, an acknowledgment: the code is taken, nothing of it is written.
    let again = store
        .create_ticket(
            record(
                code(1),
                Status::Open,
                draft(&bea, "Secondo"),
                Some(key(&bea, "k1", "h1")),
            ),
            composer(&asked),
        )
        .await;
    assert!(matches!(again, Err(StoreError::CodeTaken)), "{again:?}");
    assert_eq!(tickets_of(&store, &bea).await, 0);
    assert_eq!(queued(&store).await, 1);
    let first = store
        .ticket(Viewer::Staff, code(1).as_str())
        .await
        .expect("read")
        .expect("the first ticket");
    assert_eq!(first.subject, "Primo", "the first ticket is untouched");
    // The key was not left reserved: the next code makes the ticket.
    let t = new(store
        .create_ticket(
            record(
                code(2),
                Status::Open,
                draft(&bea, "Secondo"),
                Some(key(&bea, "k1", "h1")),
            ),
            composer(&asked),
        )
        .await);
    assert_eq!(t.code, code(2).as_str());
}

async fn a_taken_key_writes_nothing_and_answers_the_first_write(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    let first = new(store
        .create_ticket(
            record(
                code(1),
                Status::Open,
                draft(&ana, "Primo"),
                Some(key(&ana, "k", "h1")),
            ),
            composer(&asked),
        )
        .await);
    // The hash is only kept and given back: comparing it is the rules' business.
    let again = store
        .create_ticket(
            record(
                code(2),
                Status::Open,
                draft(&ana, "Diverso"),
                Some(key(&ana, "k", "h2")),
            ),
            composer(&asked),
        )
        .await;
    match again {
        Ok(Recorded::Prior {
            request_hash,
            ticket,
        }) => {
            assert_eq!(request_hash, "h1");
            assert_eq!(ticket, first);
        }
        other => panic!("expected the first write's answer, got {other:?}"),
    }
    assert_eq!(tickets_of(&store, &ana).await, 1);
    assert!(store
        .ticket(Viewer::Staff, code(2).as_str())
        .await
        .expect("read")
        .is_none());
    assert_eq!(
        (queued(&store).await, asked.load(Ordering::SeqCst)),
        (1, 1),
        "a replay composes and queues nothing"
    );
    // Keys are per account.
    let t = new(store
        .create_ticket(
            record(
                code(3),
                Status::Open,
                draft(&bea, "Di Bea"),
                Some(key(&bea, "k", "h2")),
            ),
            composer(&asked),
        )
        .await);
    assert_eq!(t.code, code(3).as_str());
}

async fn a_failed_write_leaves_its_key_free(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    let missing = ["no-such-upload".to_string()];
    let mut failing = draft(&ana, "Con allegato");
    failing.first.upload_ids = &missing;
    let r = store
        .create_ticket(
            record(code(1), Status::Open, failing, Some(key(&ana, "k", "h1"))),
            composer(&asked),
        )
        .await;
    assert!(matches!(r, Err(StoreError::UploadUnavailable(_))), "{r:?}");
    assert_eq!(
        (tickets_of(&store, &ana).await, queued(&store).await),
        (0, 0)
    );
    // A retry of the same key (as on another instance) makes the ticket, under the same code.
    let t = new(store
        .create_ticket(
            record(
                code(1),
                Status::Open,
                draft(&ana, "Con allegato"),
                Some(key(&ana, "k", "h1")),
            ),
            composer(&asked),
        )
        .await);
    assert_eq!(t.code, code(1).as_str());
}

async fn a_message_records_the_effect_decided_on_the_status_it_read(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    new(store
        .create_ticket(
            record(code(1), Status::Closed, draft(&ana, "Chiuso"), None),
            |_: &NotifyContext<'_>| None,
        )
        .await);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let decide = |e: MessageEffect| {
        let seen = seen.clone();
        move |current: Status| {
            seen.lock().expect("lock").push(current);
            e
        }
    };
    let reply =
        |body: &'static str| NewMessage::text(&ana, AuthorKind::Customer, Channel::Web, body);

    let t = new(store
        .add_message(
            Viewer::Customer(&ana.id),
            code(1).as_str(),
            reply("Riapro."),
            None,
            decide(MessageEffect::new(
                Some(Status::Open),
                Status::AwaitingCustomer,
                None,
                true,
            )),
            composer(&asked),
        )
        .await);
    assert_eq!(
        shape(&t),
        vec![
            (MessageKind::Event, Some(Status::Open)),
            (MessageKind::Message, None)
        ]
    );
    assert_eq!(t.status, Status::AwaitingCustomer);
    assert_eq!(
        queued(&store).await,
        1,
        "notify: the composer's notification is queued"
    );

    let t = new(store
        .add_message(
            Viewer::Customer(&ana.id),
            code(1).as_str(),
            reply("Chiudo."),
            None,
            decide(MessageEffect::new(
                None,
                Status::Closed,
                Some(Status::Closed),
                false,
            )),
            composer(&asked),
        )
        .await);
    assert_eq!(
        shape(&t),
        vec![
            (MessageKind::Message, None),
            (MessageKind::Event, Some(Status::Closed))
        ]
    );
    assert_eq!(t.status, Status::Closed);
    assert_eq!(
        (asked.load(Ordering::SeqCst), queued(&store).await),
        (1, 1),
        "no notify: the composer is not even asked"
    );
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![Status::Closed, Status::AwaitingCustomer],
        "each effect is decided on the status as the previous write left it"
    );
    let whole = store
        .ticket(Viewer::Customer(&ana.id), code(1).as_str())
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(whole.messages.len(), 5);

    // Another customer's ticket is not found, and the rule is not asked.
    let bea = customer(&store, "bea@example.it").await;
    let r = store
        .add_message(
            Viewer::Customer(&bea.id),
            code(1).as_str(),
            NewMessage::text(&bea, AuthorKind::Customer, Channel::Web, "Mio?"),
            None,
            decide(MessageEffect::new(None, Status::Open, None, false)),
            composer(&asked),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

async fn a_message_key_answers_what_the_first_message_added(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    new(store
        .create_ticket(
            record(code(1), Status::Closed, draft(&ana, "Chiuso"), None),
            |_: &NotifyContext<'_>| None,
        )
        .await);
    let one = code(1);
    let add = |body: &'static str, hash: &'static str| {
        store.add_message(
            Viewer::Customer(&ana.id),
            one.as_str(),
            NewMessage::text(&ana, AuthorKind::Customer, Channel::Web, body),
            Some(key(&ana, "reply:k", hash)),
            |_| MessageEffect::new(Some(Status::Open), Status::Open, None, false),
            |_: &NotifyContext<'_>| None,
        )
    };
    let first = new(add("Riapro.", "h1").await);
    assert_eq!(first.messages.len(), 2);
    match add("Un'altra cosa.", "h2").await {
        Ok(Recorded::Prior {
            request_hash,
            ticket,
        }) => {
            assert_eq!(request_hash, "h1");
            assert_eq!(
                ticket.messages, first.messages,
                "what the first write added"
            );
        }
        other => panic!("expected the first write's answer, got {other:?}"),
    }
    let whole = store
        .ticket(Viewer::Staff, code(1).as_str())
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(whole.messages.len(), 3, "the replay added nothing");
}

async fn a_status_change_records_what_the_rule_answers(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    new(store
        .create_ticket(
            record(code(1), Status::Open, draft(&ana, "Stato"), None),
            |_: &NotifyContext<'_>| None,
        )
        .await);
    let by = (
        AuthorKind::Customer,
        Some(ana.id.as_str()),
        ana.name.as_str(),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rule = |answer: Option<Status>| {
        let seen = seen.clone();
        move |current: Status| {
            seen.lock().expect("lock").push(current);
            answer
        }
    };
    let viewer = Viewer::Customer(&ana.id);
    let t = store
        .set_status(viewer, code(1).as_str(), by, rule(None))
        .await
        .expect("nothing to change");
    assert_eq!((t.status, t.messages.len()), (Status::Open, 0));
    let t = store
        .set_status(viewer, code(1).as_str(), by, rule(Some(Status::Closed)))
        .await
        .expect("closed");
    assert_eq!(t.status, Status::Closed);
    assert_eq!(shape(&t), vec![(MessageKind::Event, Some(Status::Closed))]);
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![Status::Open, Status::Open]
    );
    let t = store
        .ticket(viewer, code(1).as_str())
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(t.messages.len(), 2);
}

/// Two stores on one database, as two instances: many writes with the same key at the same
/// moment make one ticket; every other write answers it, none fails.
async fn instances_racing_on_one_key_make_one_ticket(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    let writes = (0..24u32).map(|i| {
        let (store, ana, asked) = (if i % 2 == 0 { &a } else { &b }, &ana, &asked);
        async move {
            store
                .create_ticket(
                    record(
                        code(i + 1),
                        Status::Open,
                        draft(ana, "Stessa chiave"),
                        Some(key(ana, "same", "h")),
                    ),
                    composer(asked),
                )
                .await
        }
    });
    let answers = futures_util::future::join_all(writes).await;
    let mut made = Vec::new();
    let mut replayed = Vec::new();
    for r in answers {
        match r {
            Ok(Recorded::New(t)) => made.push(t.code),
            Ok(Recorded::Prior { ticket, .. }) => replayed.push(ticket.code),
            Err(e) => panic!("a racing write failed: {e}"),
        }
    }
    assert_eq!(made.len(), 1, "one write makes the ticket");
    assert!(replayed.iter().all(|c| *c == made[0]), "{replayed:?}");
    assert_eq!(tickets_of(&b, &ana).await, 1);
    assert_eq!(queued(&a).await, 1);
}

/// Two stores on one database drawing the same code at the same moment: one ticket has it, every
/// other write is told the code is taken (and the rules draw again), none fails otherwise.
async fn instances_racing_on_one_code_make_one_ticket(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    let writes = (0..12u32).map(|i| {
        let (store, ana) = (if i % 2 == 0 { &a } else { &b }, &ana);
        async move {
            store
                .create_ticket(
                    record(code(7), Status::Open, draft(ana, "Stesso codice"), None),
                    |_: &NotifyContext<'_>| None,
                )
                .await
        }
    });
    let answers = futures_util::future::join_all(writes).await;
    let made = answers
        .iter()
        .filter(|r| matches!(r, Ok(Recorded::New(_))))
        .count();
    let taken = answers
        .iter()
        .filter(|r| matches!(r, Err(StoreError::CodeTaken)))
        .count();
    assert_eq!((made, taken), (1, 11), "{answers:?}");
    assert_eq!(tickets_of(&b, &ana).await, 1);
}
