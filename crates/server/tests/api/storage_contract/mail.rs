//! The e-mail intake: a message is claimed once whichever instance takes its deliveries, refusal
//! answers are limited per address, raw mail is kept until forgotten, and a reply finds its
//! ticket by Message-ID.

use super::*;
use helpdesk_server::storage::mail::{Answer, Claim, IntakeClaim, IntakeFinish};
use helpdesk_server::storage::Viewer;
use helpdesk_server::texts::Language;
use helpdesk_server::util::now_us;

const MINUTE: i64 = 60_000_000;

/// A delivery of the message `message_id` from ana, recorded as `id`.
fn delivery<'a>(id: &'a str, message_id: Option<&'a str>, at: i64) -> IntakeClaim<'a> {
    IntakeClaim {
        id,
        sender: "ana@example.it",
        recipient: "helpdesk@example.it",
        subject: "Aiuto",
        message_id,
        raw_path: "mail/raw.eml",
        received_us: at,
    }
}

/// A refusal of `account`'s message, answered to `to` unless `limit` answers went there within
/// the hour.
fn refusal<'a>(account: &'a str, to: &str, limit: i64) -> IntakeFinish<'a> {
    IntakeFinish {
        account_id: Some(account),
        outcome: "refused",
        reason: Some("unknown_ticket"),
        answer: Some(Answer {
            notification: Notification {
                message_id: format!("<refusal-{}@contract.test>", rand_u64()),
                from: "helpdesk@example.it".into(),
                to: to.into(),
                subject: "Non accettato".into(),
                body: "b".into(),
                html: None,
            },
            in_reply_to: Some("<m1@example.it>".into()),
            limit,
            window_us: HOUR,
        }),
        ..Default::default()
    }
}

pub(super) async fn a_message_is_claimed_once(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    let now = now_us();
    let m1 = Some("<m1@example.it>");
    assert_eq!(
        a.claim_intake(&delivery("i1", m1, now))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    assert_eq!(
        b.claim_intake(&delivery("i2", m1, now))
            .await
            .expect("claim"),
        Claim::Busy,
        "being processed"
    );
    // A claim left by a process that died is taken over.
    assert_eq!(
        b.claim_intake(&delivery("i3", m1, now + 11 * MINUTE))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    assert!(
        !b.finish_intake(
            "i3",
            &IntakeFinish {
                account_id: Some(&ana.id),
                outcome: "refused",
                reason: Some("unknown_ticket"),
                ..Default::default()
            }
        )
        .await
        .expect("finish"),
        "no answer to queue"
    );
    for (store, id) in [(&a, "i4"), (&b, "i5")] {
        assert_eq!(
            store
                .claim_intake(&delivery(id, m1, now))
                .await
                .expect("claim"),
            Claim::Duplicate
        );
    }
    let rec = a
        .intake_record("i3")
        .await
        .expect("record")
        .expect("recorded");
    assert_eq!(rec, ("refused".into(), Some("unknown_ticket".into()), None));
    assert!(a.intake_record("i4").await.expect("record").is_none());
    let refused = b
        .mail_rejections(&ana.id, Language::It)
        .await
        .expect("list");
    assert_eq!(refused.len(), 1);
    let first = &refused[0].rejection;
    assert_eq!(
        (
            first.id.as_str(),
            first.subject.as_str(),
            first.reason.as_str()
        ),
        ("i3", "Aiuto", "unknown_ticket")
    );
    assert!(!first.message.is_empty());
    assert_eq!(refused[0].raw_path.as_deref(), Some("mail/raw.eml"));
    // Without a Message-ID a message cannot be recognised: each delivery is claimed.
    assert_eq!(
        a.claim_intake(&delivery("n1", None, now))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    assert_eq!(
        a.claim_intake(&delivery("n2", None, now))
            .await
            .expect("claim"),
        Claim::Claimed
    );
}

/// Two instances taking deliveries of one new message at once: one claims it, the other is told
/// to come back (never a database error); once finished, it is a duplicate everywhere.
pub(super) async fn instances_claiming_one_message_give_one_claim(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let now = now_us();
    for round in 0..5 {
        let m = format!("<race-{round}@example.it>");
        let (ia, ib) = (format!("a{round}"), format!("b{round}"));
        let (da, db) = (delivery(&ia, Some(&m), now), delivery(&ib, Some(&m), now));
        let (ca, cb) = tokio::join!(a.claim_intake(&da), b.claim_intake(&db));
        let (ca, cb) = (ca.expect("claim a"), cb.expect("claim b"));
        let mut claims = [ca, cb];
        claims.sort_by_key(|c| *c == Claim::Busy);
        assert_eq!(claims, [Claim::Claimed, Claim::Busy], "round {round}");
        let (winner, loser) = if ca == Claim::Claimed {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let won = if ca == Claim::Claimed { &ia } else { &ib };
        winner
            .finish_intake(
                won,
                &IntakeFinish {
                    outcome: "refused",
                    reason: Some("unknown_ticket"),
                    ..Default::default()
                },
            )
            .await
            .expect("finish");
        assert_eq!(
            loser
                .claim_intake(&delivery("late", Some(&m), now))
                .await
                .expect("claim"),
            Claim::Duplicate
        );
    }
}

/// Refusal answers to one address stop at the limit within the window (the record is written
/// all the same); another address has its own.
pub(super) async fn refusal_answers_are_limited_per_address(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    let now = now_us();
    let mut answered = Vec::new();
    for (n, to) in [
        "ana@example.it",
        "ana@example.it",
        "ana@example.it",
        "x@example.it",
    ]
    .into_iter()
    .enumerate()
    {
        let (id, m) = (format!("i{n}"), format!("<m{n}@example.it>"));
        let store = if n % 2 == 0 { &a } else { &b };
        assert_eq!(
            store
                .claim_intake(&delivery(&id, Some(&m), now))
                .await
                .expect("claim"),
            Claim::Claimed
        );
        answered.push(
            store
                .finish_intake(&id, &refusal(&ana.id, to, 2))
                .await
                .expect("finish"),
        );
    }
    assert_eq!(answered, [true, true, false, true]);
    assert_eq!(
        a.mail_rejections(&ana.id, Language::En)
            .await
            .expect("list")
            .len(),
        4
    );
    let out = a.due_notifications(i64::MAX, 100).await.expect("outbox");
    let mut to: Vec<_> = out.iter().map(|i| i.to.as_str()).collect();
    to.sort();
    assert_eq!(to, ["ana@example.it", "ana@example.it", "x@example.it"]);
    assert!(out
        .iter()
        .all(|i| i.in_reply_to.as_deref() == Some("<m1@example.it>")));
}

/// The account's refused e-mails by id, each with where its raw mail is kept.
async fn raw_listed(store: &impl Storage, account: &str) -> Vec<(String, Option<String>)> {
    let mut raw: Vec<(String, Option<String>)> = store
        .mail_rejections(account, Language::It)
        .await
        .expect("list")
        .into_iter()
        .map(|r| (r.rejection.id, r.raw_path))
        .collect();
    raw.sort();
    raw
}

pub(super) async fn refused_raw_mail_is_listed_until_forgotten(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let now = now_us();
    ticket(&store, &ana, 1, Status::Open, "Aperto").await;
    for (id, m, outcome) in [("r1", "<r1@x>", "refused"), ("k1", "<k1@x>", "accepted")] {
        store
            .claim_intake(&delivery(id, Some(m), now))
            .await
            .expect("claim");
        let finish = IntakeFinish {
            account_id: Some(&ana.id),
            outcome,
            ticket_code: (outcome == "accepted").then_some("QZX-101-00001"),
            ..Default::default()
        };
        store.finish_intake(id, &finish).await.expect("finish");
    }
    store
        .claim_intake(&delivery("later", Some("<l@x>"), now + HOUR))
        .await
        .expect("claim");
    store
        .finish_intake("later", &refusal(&ana.id, "ana@example.it", 5))
        .await
        .expect("finish");
    let kept = store.refused_raw_before(now + MINUTE).await.expect("raw");
    assert_eq!(kept, [("r1".to_string(), "mail/raw.eml".to_string())]);
    assert!(store.refused_raw_before(now).await.expect("raw").is_empty());
    let raw = Some("mail/raw.eml".to_string());
    assert_eq!(
        raw_listed(&store, &ana.id).await,
        [("later".into(), raw.clone()), ("r1".into(), raw.clone())],
        "the list says where each raw mail is kept"
    );
    store.forget_raw(&["r1".into()]).await.expect("forget");
    assert_eq!(
        raw_listed(&store, &ana.id).await,
        [("later".into(), raw), ("r1".into(), None)],
        "and that a forgotten one is gone"
    );
    assert!(store
        .refused_raw_before(now + MINUTE)
        .await
        .expect("raw")
        .is_empty());
    assert_eq!(
        store
            .refused_raw_before(now + 2 * HOUR)
            .await
            .expect("raw")
            .len(),
        1,
        "the later one"
    );
    assert!(
        store.intake_record("r1").await.expect("record").is_some(),
        "the record stays"
    );
    let k = store
        .intake_record("k1")
        .await
        .expect("record")
        .expect("recorded");
    assert_eq!(k, ("accepted".into(), None, Some("QZX-101-00001".into())));
}

pub(super) async fn an_abandoned_claim_is_claimed_again(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let now = now_us();
    let m = Some("<m3@example.it>");
    assert_eq!(
        a.claim_intake(&delivery("i1", m, now))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    a.abandon_intake("i1").await.expect("abandon");
    assert!(a.intake_record("i1").await.expect("record").is_none());
    assert_eq!(
        b.claim_intake(&delivery("i2", m, now))
            .await
            .expect("claim"),
        Claim::Claimed
    );
    assert_eq!(
        a.claim_intake(&delivery("i3", m, now))
            .await
            .expect("claim"),
        Claim::Busy
    );
}

/// A reply finds its ticket by the Message-ID of a notification sent about it or of a message
/// received on it, the first id that matches winning, and only among its sender's tickets.
pub(super) async fn threading_finds_the_ticket_of_a_message_id(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    new(store
        .create_ticket(
            record(code(1), Status::Open, draft(&ana, "Uno"), None),
            composer(&asked),
        )
        .await);
    let ack = store.due_notifications(i64::MAX, 10).await.expect("outbox");
    let ack = ack[0].message_id.clone();
    let mut d = draft(&ana, "Per e-mail");
    d.channel = Channel::Email;
    d.first.channel = Channel::Email;
    d.first.email_message_id = Some("<m9@example.it>");
    new(store
        .create_ticket(record(code(2), Status::Open, d, None), silent)
        .await);

    let find = |who: &Customer, ids: &[&str]| {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        let (store, id) = (&store, who.id.clone());
        async move { store.ticket_for_references(&id, &ids).await.expect("refs") }
    };
    let one = Some("QZX-101-00001".to_string());
    let two = Some("QZX-101-00002".to_string());
    assert_eq!(
        find(&ana, &["<x@y>", &ack]).await,
        one,
        "by our acknowledgment"
    );
    assert_eq!(
        find(&ana, &["<m9@example.it>"]).await,
        two,
        "by a message received"
    );
    assert_eq!(
        find(&ana, &["<m9@example.it>", &ack]).await,
        two,
        "the first id wins"
    );
    assert_eq!(find(&ana, &[&ack, "<m9@example.it>"]).await, one);
    assert_eq!(find(&ana, &["<x@y>"]).await, None);
    assert_eq!(
        find(&bea, &["<m9@example.it>", &ack]).await,
        None,
        "not hers"
    );
    assert_eq!(
        store
            .ticket_with_email(&ana.id, "<m9@example.it>")
            .await
            .expect("by id"),
        two
    );
    assert_eq!(
        store.ticket_with_email(&ana.id, &ack).await.expect("by id"),
        None
    );
    assert_eq!(
        store
            .ticket_with_email(&bea.id, "<m9@example.it>")
            .await
            .expect("by id"),
        None
    );

    // An acknowledgment recorded with the intake counts for its address, for an hour.
    store
        .claim_intake(&delivery("i1", Some("<m9@example.it>"), now_us()))
        .await
        .expect("claim");
    store
        .finish_intake(
            "i1",
            &IntakeFinish {
                account_id: Some(&ana.id),
                outcome: "accepted",
                ticket_code: Some("QZX-101-00002"),
                acknowledged_to: Some("ana@example.it"),
                ..Default::default()
            },
        )
        .await
        .expect("accepted");
    assert_eq!(
        store
            .recent_acknowledgments("ana@example.it")
            .await
            .expect("acks"),
        1
    );
    assert_eq!(
        store
            .recent_acknowledgments("bea@example.it")
            .await
            .expect("acks"),
        0
    );
}

/// A raw e-mail is a file of its customer: counted in the bytes kept, pending until a message
/// refers to it, removed when no message does.
pub(super) async fn a_raw_email_is_a_file_of_its_customer(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let since = now_us() - HOUR;
    for id in ["raw1", "raw2"] {
        store
            .insert_raw_email_file(&ana.id, &file(id, 25))
            .await
            .expect("raw");
    }
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 50);
    assert_eq!(
        store
            .pending_uploads(&ana.id, since)
            .await
            .expect("pending"),
        2
    );
    store.delete_file_row("raw2").await.expect("delete");
    assert!(store
        .file_for(Viewer::Staff, "raw2")
        .await
        .expect("read")
        .is_none());
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 25);

    let mut d = draft(&ana, "Per e-mail");
    d.first.channel = Channel::Email;
    d.first.raw_email_id = Some("raw1");
    d.first.signed = true;
    let t = new(store
        .create_ticket(record(code(1), Status::Open, d, None), silent)
        .await);
    assert_eq!(
        t.messages[0].raw_email.as_ref().map(|a| a.id.as_str()),
        Some("raw1")
    );
    assert!(t.messages[0].signed, "the signed mark is kept");
    assert_eq!(
        store
            .pending_uploads(&ana.id, since)
            .await
            .expect("pending"),
        0
    );
    assert!(store
        .file_for(Viewer::Customer(&ana.id), "raw1")
        .await
        .expect("read")
        .is_some());
    assert!(store
        .file_for(Viewer::Customer(&bea.id), "raw1")
        .await
        .expect("read")
        .is_none());
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 25);
}
