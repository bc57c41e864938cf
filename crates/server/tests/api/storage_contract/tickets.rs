//! Tickets: storage records what the rules in `tickets/` decide and decides nothing itself: a
//! ticket keeps the code and status it is given, a message the effect it is given. Uniqueness is
//! the database's: a taken code or key writes nothing, whichever instance races for it.

use super::*;
use helpdesk_server::storage::{Allowance, Charge, MessageEffect, UsageKind, Viewer};
use std::sync::Mutex;

pub(super) async fn a_ticket_is_recorded_as_given(db: &impl Database) {
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

pub(super) async fn a_taken_code_writes_nothing(db: &impl Database) {
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

pub(super) async fn a_taken_key_writes_nothing_and_answers_the_first_write(db: &impl Database) {
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

pub(super) async fn a_failed_write_leaves_its_key_free(db: &impl Database) {
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

pub(super) async fn a_message_records_the_effect_decided_on_the_status_it_read(db: &impl Database) {
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

pub(super) async fn a_message_key_answers_what_the_first_message_added(db: &impl Database) {
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

pub(super) async fn a_status_change_records_what_the_rule_answers(db: &impl Database) {
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
pub(super) async fn instances_racing_on_one_key_make_one_ticket(db: &impl Database) {
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
pub(super) async fn instances_racing_on_one_code_make_one_ticket(db: &impl Database) {
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

/// A customer reads their own tickets, staff every ticket, by code as typed; another customer
/// reads nothing, and cannot write to it either.
pub(super) async fn a_ticket_is_read_only_by_its_customer_and_staff(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    ticket(&store, &ana, 1, Status::Open, "Di Ana").await;
    let read = |viewer, code: &'static str| store.ticket(viewer, code);
    let own = read(Viewer::Customer(&ana.id), " qzx-101-00001 ")
        .await
        .expect("read")
        .expect("her own ticket, by the code as typed");
    assert_eq!(
        (own.code.as_str(), own.subject.as_str()),
        ("QZX-101-00001", "Di Ana")
    );
    assert!(read(Viewer::Staff, "QZX-101-00001")
        .await
        .expect("read")
        .is_some());
    assert!(read(Viewer::Customer(&bea.id), "QZX-101-00001")
        .await
        .expect("read")
        .is_none());
    assert!(read(Viewer::Staff, "QZX-101-00002")
        .await
        .expect("read")
        .is_none());
    let by = (
        AuthorKind::Customer,
        Some(bea.id.as_str()),
        bea.name.as_str(),
    );
    let r = store
        .set_status(Viewer::Customer(&bea.id), "QZX-101-00001", by, |_| {
            Some(Status::Closed)
        })
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    // A staff reply, replayed by its key: one message, the first one answered.
    let staff = NewMessage {
        author_account_id: None,
        author_name: "Supporto",
        ..NewMessage::text(&ana, AuthorKind::Staff, Channel::Web, "Risposta.")
    };
    let k = IdempotencyRecord {
        account_id: "staff",
        key: "r1",
        request_hash: "hr",
    };
    let reply = || {
        store.add_message(
            Viewer::Staff,
            "QZX-101-00001",
            staff.clone(),
            Some(k),
            |_| MessageEffect::new(None, Status::AwaitingCustomer, None, false),
            silent,
        )
    };
    let first = new(reply().await);
    assert_eq!(first.status, Status::AwaitingCustomer);
    match reply().await {
        Ok(Recorded::Prior { ticket, .. }) => assert_eq!(ticket.messages, first.messages),
        other => panic!("expected the first reply, got {other:?}"),
    }
    let whole = read(Viewer::Customer(&ana.id), "QZX-101-00001")
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(whole.messages.len(), 2);
    assert_eq!(whole.messages[1].author.name, "Supporto");
}

/// The list: newest activity first, counts per status (of the search when there is one), a
/// search in code and subject with wildcards taken literally, a status filter, pages by cursor.
pub(super) async fn the_list_counts_searches_filters_and_pages(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    ticket(&store, &ana, 1, Status::Open, "Sconto 50% subito").await;
    ticket(&store, &ana, 2, Status::Closed, "Sconto 50 euro").await;
    ticket(
        &store,
        &ana,
        3,
        Status::AwaitingCustomer,
        "Stampante guasta",
    )
    .await;
    ticket(&store, &bea, 4, Status::Open, "Sconto di Bea").await;
    let list = |q: ListQuery| {
        let store = &store;
        let id = ana.id.clone();
        async move { store.list_tickets(&id, &q).await.expect("list") }
    };
    let codes = |l: &helpdesk_core::api::TicketList| {
        l.items.iter().map(|t| t.code.clone()).collect::<Vec<_>>()
    };
    let search = |q: &str| ListQuery {
        q: Some(q.into()),
        ..Default::default()
    };

    let all = list(ListQuery::default()).await;
    assert_eq!(
        codes(&all),
        ["QZX-101-00003", "QZX-101-00002", "QZX-101-00001"],
        "hers only, newest first"
    );
    let c = all.counts;
    assert_eq!((c.open, c.awaiting_customer, c.closed), (1, 1, 1));

    let found = list(search("SCONTO")).await;
    assert_eq!(codes(&found), ["QZX-101-00002", "QZX-101-00001"]);
    assert_eq!(
        (
            found.counts.open,
            found.counts.closed,
            found.counts.awaiting_customer
        ),
        (1, 1, 0)
    );
    assert_eq!(
        codes(&list(search("50%")).await),
        ["QZX-101-00001"],
        "% is itself"
    );
    assert_eq!(
        codes(&list(search("sconto 00002")).await),
        ["QZX-101-00002"],
        "every word"
    );
    assert_eq!(
        codes(&list(search("qzx-101-00003")).await),
        ["QZX-101-00003"]
    );
    assert!(list(search("Bea")).await.items.is_empty());

    let closed = list(ListQuery {
        status: Some(Status::Closed),
        ..Default::default()
    })
    .await;
    assert_eq!(codes(&closed), ["QZX-101-00002"]);
    assert_eq!(closed.counts.open, 1, "the counts are of every status");

    let page = list(ListQuery {
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(codes(&page), ["QZX-101-00003", "QZX-101-00002"]);
    let rest = list(ListQuery {
        limit: 2,
        cursor: page.next_cursor.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(codes(&rest), ["QZX-101-00001"]);
    assert!(rest.next_cursor.is_none());

    // A reply is activity: its ticket comes first again, and the counts follow its status.
    new(store
        .add_message(
            Viewer::Staff,
            "QZX-101-00001",
            NewMessage::text(&ana, AuthorKind::Staff, Channel::Web, "Risposta."),
            None,
            |_| MessageEffect::new(None, Status::AwaitingCustomer, None, false),
            silent,
        )
        .await);
    let all = list(ListQuery::default()).await;
    assert_eq!(codes(&all)[0], "QZX-101-00001");
    assert_eq!((all.counts.open, all.counts.awaiting_customer), (0, 2));
}

/// The tickets of a customer's service that are not closed, and none of another's.
pub(super) async fn open_tickets_on_a_service_leave_out_closed_ones(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let svc = service_of(&store, &ana).await;
    for (n, status) in [
        (1, Status::Open),
        (2, Status::Closed),
        (3, Status::AwaitingCustomer),
    ] {
        let mut d = draft(&ana, "Sul dominio");
        d.service_id = Some(&svc);
        new(store
            .create_ticket(record(code(n), status, d, None), silent)
            .await);
    }
    ticket(&store, &ana, 4, Status::Open, "Senza servizio").await;
    let mut on: Vec<_> = store
        .open_tickets_on_service(&ana.id, &svc)
        .await
        .expect("on service")
        .into_iter()
        .map(|t| t.code)
        .collect();
    on.sort();
    assert_eq!(on, ["QZX-101-00001", "QZX-101-00003"]);
    assert!(store
        .open_tickets_on_service(&bea.id, &svc)
        .await
        .expect("on service")
        .is_empty());
    let list = store
        .list_tickets(&ana.id, &ListQuery::default())
        .await
        .expect("list");
    let with: Vec<_> = list.items.iter().filter(|t| t.service.is_some()).collect();
    assert_eq!(with.len(), 3);
    assert_eq!(
        with[0].service.as_ref().map(|s| s.id.as_str()),
        Some(svc.as_str())
    );
}

/// A charge on the first message is counted in the same write: the allowance's last ticket
/// passes, the next is refused with nothing written.
pub(super) async fn the_tickets_allowance_is_counted_with_the_write(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    let charged = |n: u32| {
        let mut d = draft(&ana, "A pagamento");
        d.first.charge = Charge {
            rate: Some(Allowance {
                kind: UsageKind::Tickets,
                amount: 1,
                max: 2,
                window_us: HOUR,
            }),
            quota_bytes: None,
        };
        record(code(n), Status::Open, d, None)
    };
    new(store.create_ticket(charged(1), composer(&asked)).await);
    new(store.create_ticket(charged(2), composer(&asked)).await);
    let r = store.create_ticket(charged(3), composer(&asked)).await;
    assert!(
        matches!(
            r,
            Err(StoreError::RateLimited {
                kind: UsageKind::Tickets,
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(
        (tickets_of(&store, &ana).await, queued(&store).await),
        (2, 2)
    );
    let (used, _) = store
        .usage_in_window(
            &ana.id,
            UsageKind::Tickets,
            HOUR,
            helpdesk_server::util::now_us(),
        )
        .await
        .expect("usage");
    assert_eq!(used, 2);
}

/// A staff reply that moves an open ticket to awaiting the customer, and any other back to open.
async fn flip(store: &impl Storage, who: &Customer, code: &str) -> Result<Recorded, StoreError> {
    store
        .add_message(
            Viewer::Staff,
            code,
            NewMessage::text(who, AuthorKind::Staff, Channel::Web, "Risposta."),
            None,
            |now| {
                let next = if now == Status::Open {
                    Status::AwaitingCustomer
                } else {
                    Status::Open
                };
                MessageEffect::new(None, next, None, true)
            },
            silent,
        )
        .await
}

/// Replies on two tickets from two instances at once, each reading the other's ticket state,
/// never deadlock: both commit.
pub(super) async fn replies_racing_on_two_tickets_both_commit(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    ticket(&a, &ana, 1, Status::Open, "Uno").await;
    ticket(&a, &ana, 2, Status::Open, "Due").await;
    for round in 0..5 {
        let (ra, rb, rc, rd) = tokio::join!(
            flip(&a, &ana, "QZX-101-00001"),
            flip(&b, &ana, "QZX-101-00002"),
            flip(&b, &ana, "QZX-101-00001"),
            flip(&a, &ana, "QZX-101-00002"),
        );
        for r in [ra, rb, rc, rd] {
            new(r);
        }
        let t = a
            .ticket(Viewer::Staff, "QZX-101-00001")
            .await
            .expect("read")
            .expect("ticket");
        assert_eq!(t.messages.len(), 1 + 2 * (round + 1));
        assert_eq!(
            t.status,
            Status::Open,
            "two replies, each on the other's status"
        );
    }
}
