//! The PostgreSQL store's tickets and e-mail intake, against a real PostgreSQL: run when
//! `HELPDESK_TEST_PG_ADMIN` names a database on a server where fresh databases may be created
//! (e.g. `postgres://postgres@127.0.0.1:55432/postgres`), skipped otherwise. Accounts are written
//! with SQL, so that only the stores under test are used.

use helpdesk_core::api::{
    AuthorKind, Channel, Customer, Department, MessageKind, Priority, Role, Status,
};
use helpdesk_core::TicketCode;
use helpdesk_server::storage::mail::{Answer, Claim, IntakeClaim, IntakeFinish};
use helpdesk_server::storage::prelude::*;
use helpdesk_server::storage::{
    Allowance, Charge, IdempotencyRecord, ListQuery, MessageEffect, NewMessage, NewTicketRecord,
    Notification, NotifyContext, Recorded, Store, StoreError, TicketDraft, UsageKind, Viewer,
};

/// A fresh database named `name` (dropped first if a previous run left it), or `None` when no
/// PostgreSQL is configured.
async fn fresh(name: &str) -> Option<String> {
    let Ok(admin) = std::env::var("HELPDESK_TEST_PG_ADMIN") else {
        eprintln!("HELPDESK_TEST_PG_ADMIN not set: PostgreSQL smoke test {name} skipped");
        return None;
    };
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("admin connection");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("create");
    let base = admin.rsplit_once('/').expect("a database in the URL").0;
    Some(format!("{base}/{name}"))
}

async fn customer(store: &Store, id: &str, email: &str) -> Customer {
    let pool = store.postgres().expect("PostgreSQL").pool();
    sqlx::query(
        "INSERT INTO accounts (id, email, name, role, password_hash, created_us)
         VALUES ($1, $2, $3, 'customer', 'x', 0)",
    )
    .bind(id)
    .bind(email)
    .bind(format!("Cliente {id}"))
    .execute(pool)
    .await
    .expect("account");
    sqlx::query(
        "INSERT INTO services (id, account_id, external_id, family, product, identifier, status)
         VALUES ($1, $2, $1, 'domain', 'Dominio', 'example.it', 'active')",
    )
    .bind(format!("svc-{id}"))
    .bind(id)
    .execute(pool)
    .await
    .expect("service");
    Customer {
        id: id.into(),
        email: email.into(),
        name: format!("Cliente {id}"),
        role: Role::Customer,
        language: None,
    }
}

fn code(n: u32) -> TicketCode {
    TicketCode::parse(&format!("QZX-101-{n:05}")).expect("a code")
}

fn opening<'a>(
    who: &'a Customer,
    service: &'a str,
    n: u32,
    key: Option<&'a str>,
) -> NewTicketRecord<'a> {
    let mut first = NewMessage::text(
        who,
        AuthorKind::Customer,
        Channel::Web,
        "La stampante 100% rotta.",
    );
    first.charge = Charge {
        rate: Some(Allowance {
            kind: UsageKind::Tickets,
            amount: 1,
            max: 3,
            window_us: 3_600_000_000,
        }),
        quota_bytes: Some(1 << 20),
    };
    NewTicketRecord {
        code: code(n),
        status: Status::Open,
        draft: TicketDraft {
            account_id: &who.id,
            department: Department::Helpdesk,
            service_id: Some(service),
            subject: "Stampante guasta",
            priority: Priority::Normal,
            channel: Channel::Web,
            first,
        },
        idempotency: key.map(|key| IdempotencyRecord {
            account_id: &who.id,
            key,
            request_hash: "h1",
        }),
    }
}

fn composer(ctx: &NotifyContext<'_>) -> Option<Notification> {
    Some(Notification {
        message_id: format!("<{}-{}@pg.test>", ctx.code.as_str(), ctx.recent.len()),
        from: "helpdesk@example.it".into(),
        to: ctx.customer_email.into(),
        subject: ctx.subject.into(),
        body: format!("{:?}", ctx.status),
        html: None,
    })
}

async fn outbox(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(store.postgres().expect("PostgreSQL").pool())
        .await
        .expect("count")
}

fn kinds(t: &helpdesk_core::api::Ticket) -> Vec<(MessageKind, Option<Status>)> {
    t.messages.iter().map(|m| (m.kind, m.status)).collect()
}

#[tokio::test]
async fn pg_tickets_open_list_reply_close_reopen_replay() {
    let Some(url) = fresh("h_b_smoke_tickets").await else {
        return;
    };
    let store = Store::open(&url).await.expect("store");
    let ana = customer(&store, "ana", "ana@example.it").await;
    let svc = "svc-ana".to_string();

    let Recorded::New(t) = store
        .create_ticket(opening(&ana, &svc, 1, Some("k1")), composer)
        .await
        .expect("create")
    else {
        panic!("a replay")
    };
    assert_eq!(t.code, "QZX-101-00001");
    assert_eq!(t.status, Status::Open);
    assert_eq!(t.messages.len(), 1);
    assert!(!t.messages[0].automatic);
    assert_eq!(outbox(&store).await, 1);

    // The same key again: nothing written, the first ticket answered.
    match store
        .create_ticket(opening(&ana, &svc, 2, Some("k1")), composer)
        .await
        .expect("replay")
    {
        Recorded::Prior {
            request_hash,
            ticket,
        } => {
            assert_eq!(request_hash, "h1");
            assert_eq!(ticket.code, "QZX-101-00001");
        }
        Recorded::New(t) => panic!("a second ticket {}", t.code),
    }
    // A taken code: CodeTaken, nothing written.
    assert!(matches!(
        store
            .create_ticket(opening(&ana, &svc, 1, Some("k2")), composer)
            .await,
        Err(StoreError::CodeTaken)
    ));
    assert_eq!(outbox(&store).await, 1);

    // The list, its counts, its search and its filter.
    let list = store
        .list_tickets(&ana.id, &ListQuery::default())
        .await
        .expect("list");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.counts.open, 1);
    assert_eq!(
        list.items[0].service.as_ref().map(|s| s.id.as_str()),
        Some("svc-ana")
    );
    let q = |q: &str, status: Option<Status>| ListQuery {
        q: Some(q.into()),
        status,
        ..Default::default()
    };
    let found = store
        .list_tickets(&ana.id, &q("STAMPANTE 00001", None))
        .await
        .expect("search");
    assert_eq!((found.items.len(), found.counts.open), (1, 1));
    let none = store
        .list_tickets(&ana.id, &q("100%", None))
        .await
        .expect("search");
    assert_eq!(none.items.len(), 0, "a wildcard is searched as itself");
    let closed = store
        .list_tickets(
            &ana.id,
            &ListQuery {
                status: Some(Status::Closed),
                ..Default::default()
            },
        )
        .await
        .expect("filter");
    assert!(closed.items.is_empty());
    assert_eq!(
        store
            .open_tickets_on_service(&ana.id, &svc)
            .await
            .expect("on service")
            .len(),
        1
    );

    // A staff reply: awaiting the customer, notified, only the reply answered.
    let staff = NewMessage {
        author_account_id: None,
        author_name: "Supporto",
        ..NewMessage::text(
            &ana,
            AuthorKind::Staff,
            Channel::Web,
            "Proviamo a riavviare.",
        )
    };
    let key = IdempotencyRecord {
        account_id: "staff",
        key: "r1",
        request_hash: "hr",
    };
    let Recorded::New(t) = store
        .add_message(
            Viewer::Staff,
            "qzx-101-00001",
            staff.clone(),
            Some(key),
            |s| {
                assert_eq!(s, Status::Open);
                MessageEffect::new(None, Status::AwaitingCustomer, None, true)
            },
            composer,
        )
        .await
        .expect("reply")
    else {
        panic!("a replay")
    };
    assert_eq!(t.status, Status::AwaitingCustomer);
    assert_eq!(kinds(&t), vec![(MessageKind::Message, None)]);
    assert_eq!(outbox(&store).await, 2);
    let Recorded::Prior { ticket, .. } = store
        .add_message(
            Viewer::Staff,
            "QZX-101-00001",
            staff,
            Some(key),
            |_| unreachable!(),
            composer,
        )
        .await
        .expect("reply replay")
    else {
        panic!("a second reply")
    };
    assert_eq!(ticket.messages.len(), 1);
    assert_eq!(ticket.messages[0].id, t.messages[0].id);

    // Closed by the customer, then reopened by a reply of theirs.
    let t = store
        .set_status(
            Viewer::Customer(&ana.id),
            "QZX-101-00001",
            (AuthorKind::Customer, Some(&ana.id), "Ana"),
            |_| Some(Status::Closed),
        )
        .await
        .expect("close");
    assert_eq!(t.status, Status::Closed);
    assert_eq!(kinds(&t), vec![(MessageKind::Event, Some(Status::Closed))]);
    let t = store
        .set_status(
            Viewer::Customer(&ana.id),
            "QZX-101-00001",
            (AuthorKind::Customer, Some(&ana.id), "Ana"),
            |_| None,
        )
        .await
        .expect("no change");
    assert!(t.messages.is_empty());
    let Recorded::New(t) = store
        .add_message(
            Viewer::Customer(&ana.id),
            "QZX-101-00001",
            NewMessage::text(&ana, AuthorKind::Customer, Channel::Web, "Ancora guasta."),
            None,
            |s| {
                assert_eq!(s, Status::Closed);
                MessageEffect::new(Some(Status::Open), Status::Open, None, false)
            },
            composer,
        )
        .await
        .expect("reopen")
    else {
        panic!("a replay")
    };
    assert_eq!(
        kinds(&t),
        vec![
            (MessageKind::Event, Some(Status::Open)),
            (MessageKind::Message, None)
        ]
    );
    let whole = store
        .ticket(Viewer::Customer(&ana.id), "QZX-101-00001")
        .await
        .expect("read")
        .expect("the ticket");
    assert_eq!(whole.messages.len(), 5);
    assert!(store
        .ticket(Viewer::Customer("someone"), "QZX-101-00001")
        .await
        .expect("read")
        .is_none());
    let list = store
        .list_tickets(&ana.id, &ListQuery::default())
        .await
        .expect("list");
    assert_eq!((list.counts.open, list.counts.closed), (1, 0));

    // The tickets allowance (3 per hour) counted in the writes: the third ticket passes, the
    // fourth is refused with nothing written.
    store
        .create_ticket(opening(&ana, &svc, 3, None), composer)
        .await
        .expect("second");
    store
        .create_ticket(opening(&ana, &svc, 4, None), composer)
        .await
        .expect("third");
    assert!(matches!(
        store
            .create_ticket(opening(&ana, &svc, 5, None), composer)
            .await,
        Err(StoreError::RateLimited {
            kind: UsageKind::Tickets,
            ..
        })
    ));
    let page = store
        .list_tickets(
            &ana.id,
            &ListQuery {
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .expect("page");
    assert_eq!(page.items.len(), 2);
    let rest = store
        .list_tickets(
            &ana.id,
            &ListQuery {
                limit: 2,
                cursor: page.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("next page");
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next_cursor.is_none());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pg_instances_racing_on_one_key_or_code_make_one_ticket() {
    let Some(url) = fresh("h_b_smoke_race").await else {
        return;
    };
    let (a, b) = (
        Store::open(&url).await.expect("store a"),
        Store::open(&url).await.expect("store b"),
    );
    let bo = customer(&a, "bo", "bo@example.it").await;
    let svc = "svc-bo".to_string();
    for round in 0..10u32 {
        let key = format!("race-{round}");
        let (ra, rb) = tokio::join!(
            a.create_ticket(opening(&bo, &svc, 100 + round, Some(&key)), composer),
            b.create_ticket(opening(&bo, &svc, 200 + round, Some(&key)), composer),
        );
        let news = [&ra, &rb]
            .iter()
            .filter(|r| matches!(r, Ok(Recorded::New(_))))
            .count();
        let priors = [&ra, &rb]
            .iter()
            .filter(|r| matches!(r, Ok(Recorded::Prior { .. })))
            .count();
        assert_eq!((news, priors), (1, 1), "round {round}: {ra:?} {rb:?}");
        // The same code under two keys: one ticket, the other CodeTaken (never a database error).
        let (ka, kb) = (format!("ca-{round}"), format!("cb-{round}"));
        let (ra, rb) = tokio::join!(
            a.create_ticket(opening(&bo, &svc, 300 + round, Some(&ka)), composer),
            b.create_ticket(opening(&bo, &svc, 300 + round, Some(&kb)), composer),
        );
        let taken = [&ra, &rb]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::CodeTaken)))
            .count();
        assert_eq!(taken, 1, "round {round}: {ra:?} {rb:?}");
        // Reset the allowance between rounds: the limit is not what this test is about.
        sqlx::query("DELETE FROM account_usage")
            .execute(a.postgres().expect("PostgreSQL").pool())
            .await
            .expect("reset");
    }
    let list = a
        .list_tickets(
            &bo.id,
            &ListQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(list.items.len(), 20);
    assert_eq!(list.counts.open, 20);
    // Replies racing on one ticket in opposite directions never deadlock: each reads the status
    // the other left.
    let (ra, rb) = tokio::join!(
        a.add_message(
            Viewer::Staff,
            "QZX-101-00300",
            NewMessage::text(&bo, AuthorKind::Staff, Channel::Web, "a"),
            None,
            |s| MessageEffect::new(
                None,
                if s == Status::Open {
                    Status::AwaitingCustomer
                } else {
                    Status::Open
                },
                None,
                true
            ),
            composer
        ),
        b.add_message(
            Viewer::Staff,
            "QZX-101-00301",
            NewMessage::text(&bo, AuthorKind::Staff, Channel::Web, "b"),
            None,
            |s| MessageEffect::new(
                None,
                if s == Status::Open {
                    Status::Closed
                } else {
                    Status::Open
                },
                None,
                true
            ),
            composer
        ),
    );
    ra.expect("reply a");
    rb.expect("reply b");
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn pg_mail_intake_claims_once_and_limits_answers() {
    let Some(url) = fresh("h_b_smoke_mail").await else {
        return;
    };
    let store = Store::open(&url).await.expect("store");
    let cy = customer(&store, "cy", "cy@example.it").await;
    let claim = |id: &'static str, at: i64| IntakeClaim {
        id,
        sender: "cy@example.it",
        recipient: "helpdesk@example.it",
        subject: "Aiuto",
        message_id: Some("<m1@example.it>"),
        raw_path: "mail/raw1.eml",
        received_us: at,
    };
    let now = helpdesk_server::util::now_us();
    assert_eq!(
        store.claim_intake(&claim("i1", now)).await.expect("claim"),
        Claim::Claimed
    );
    assert_eq!(
        store.claim_intake(&claim("i2", now)).await.expect("again"),
        Claim::Busy
    );
    // A claim left by a process that died is taken over.
    assert_eq!(
        store
            .claim_intake(&claim("i3", now + 11 * 60 * 1_000_000))
            .await
            .expect("stale"),
        Claim::Claimed
    );
    let answer = |n: u32| Answer {
        notification: Notification {
            message_id: format!("<refusal-{n}@example.it>"),
            from: "helpdesk@example.it".into(),
            to: "cy@example.it".into(),
            subject: "Non accettato".into(),
            body: "b".into(),
            html: None,
        },
        in_reply_to: Some("<m1@example.it>".into()),
        limit: 1,
        window_us: 3_600_000_000,
    };
    let refused = |n: u32| IntakeFinish {
        account_id: Some("cy"),
        outcome: "refused",
        reason: Some("unknown_ticket"),
        answer: Some(answer(n)),
        ..Default::default()
    };
    assert!(store
        .finish_intake("i3", &refused(1))
        .await
        .expect("finish"));
    assert_eq!(
        store.claim_intake(&claim("i4", now)).await.expect("dup"),
        Claim::Duplicate
    );
    let rec = store
        .intake_record("i3")
        .await
        .expect("record")
        .expect("recorded");
    assert_eq!(
        (rec.0.as_str(), rec.1.as_deref(), rec.2),
        ("refused", Some("unknown_ticket"), None)
    );
    assert_eq!(
        store
            .mail_rejections(&cy.id, helpdesk_server::texts::Language::It)
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        store
            .refused_raw_before(now + 12 * 60 * 1_000_000)
            .await
            .expect("raw")
            .len(),
        1
    );
    store.forget_raw(&["i3".into()]).await.expect("forget");
    assert!(store
        .refused_raw_before(now + 12 * 60 * 1_000_000)
        .await
        .expect("raw")
        .is_empty());

    // A second refusal to the same address within the window: recorded, not answered.
    let mut other = claim("i5", now);
    other.message_id = Some("<m2@example.it>");
    assert_eq!(
        store.claim_intake(&other).await.expect("claim"),
        Claim::Claimed
    );
    assert!(!store
        .finish_intake("i5", &refused(2))
        .await
        .expect("finish"));
    // Two instances taking deliveries of one new message at once: one claims it, the other is
    // told to come back (never a database error).
    let other_instance = Store::open(&url).await.expect("store b");
    let mut raced = claim("i8", now);
    raced.message_id = Some("<m4@example.it>");
    let mut raced_b = raced.clone();
    raced_b.id = "i9";
    let (ca, cb) = tokio::join!(
        store.claim_intake(&raced),
        other_instance.claim_intake(&raced_b)
    );
    let mut claims = [ca.expect("claim a"), cb.expect("claim b")];
    claims.sort_by_key(|c| *c == Claim::Busy);
    assert_eq!(claims, [Claim::Claimed, Claim::Busy]);
    other_instance.close().await;

    // Abandoned: the next delivery claims it anew.
    let mut third = claim("i6", now);
    third.message_id = Some("<m3@example.it>");
    assert_eq!(
        store.claim_intake(&third).await.expect("claim"),
        Claim::Claimed
    );
    store.abandon_intake("i6").await.expect("abandon");
    third.id = "i7";
    assert_eq!(
        store.claim_intake(&third).await.expect("again"),
        Claim::Claimed
    );

    // Threading: a ticket found by the Message-ID of its acknowledgment or of a message.
    let mut first = NewMessage::text(&cy, AuthorKind::Customer, Channel::Email, "Via e-mail.");
    first.email_message_id = Some("<m9@example.it>");
    let rec = NewTicketRecord {
        code: code(7),
        status: Status::Open,
        draft: TicketDraft {
            account_id: &cy.id,
            department: Department::Helpdesk,
            service_id: None,
            subject: "Per e-mail",
            priority: Priority::Normal,
            channel: Channel::Email,
            first,
        },
        idempotency: None,
    };
    store.create_ticket(rec, composer).await.expect("ticket");
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        store
            .ticket_for_references(&cy.id, &ids(&["<x@y>", "<QZX-101-00007-1@pg.test>"]))
            .await
            .expect("refs")
            .as_deref(),
        Some("QZX-101-00007")
    );
    assert_eq!(
        store
            .ticket_for_references(&cy.id, &ids(&["<m9@example.it>"]))
            .await
            .expect("refs")
            .as_deref(),
        Some("QZX-101-00007")
    );
    assert_eq!(
        store
            .ticket_for_references("nobody", &ids(&["<m9@example.it>"]))
            .await
            .expect("refs"),
        None
    );
    assert_eq!(
        store
            .ticket_with_email(&cy.id, "<m9@example.it>")
            .await
            .expect("by id")
            .as_deref(),
        Some("QZX-101-00007")
    );
    store
        .finish_intake(
            "i7",
            &IntakeFinish {
                account_id: Some("cy"),
                outcome: "accepted",
                ticket_code: Some("QZX-101-00007"),
                acknowledged_to: Some("cy@example.it"),
                ..Default::default()
            },
        )
        .await
        .expect("accepted");
    assert_eq!(
        store
            .intake_record("i7")
            .await
            .expect("r")
            .expect("r")
            .2
            .as_deref(),
        Some("QZX-101-00007")
    );
    assert_eq!(
        store
            .recent_acknowledgments("cy@example.it")
            .await
            .expect("acks"),
        1
    );
    store.close().await;
}
