//! Attacks through the e-mail intake, with sender authentication on as in production: forged
//! authentication results, spoofed and look-alike senders, `Sender`/`Reply-To`/display-name
//! tricks, someone else's ticket, loops and auto-replies, floods of attachments, oversized and
//! malformed messages. None reaches a ticket it must not, none panics, each is recorded with its
//! reason. (What `tests/api/mail.rs` already shows with its fixtures is not repeated here.)

use crate::helpers::{spawn_with, TestApp};
use helpdesk_core::limits::MAX_FILES_PER_MESSAGE;
use helpdesk_server::mail::{self, Ingested, Outcome};
use helpdesk_server::storage::prelude::*;
use helpdesk_server::storage::{ListQuery, Viewer};
use serde_json::Value;
use std::path::Path;

/// What our MTA prepends on delivery: its results above its own `Received`.
fn delivered_by_our_mta(dkim_domain: &str, rest: &str) -> Vec<u8> {
    format!(
        "Authentication-Results: mx.smacloud.it; dkim=pass header.d={dkim_domain}\r\n\
         Received: from mail.{dkim_domain} by mx.smacloud.it with ESMTPS\r\n{}",
        rest.replace("\r\n", "\n").replace('\n', "\r\n")
    )
    .into_bytes()
}

/// The server with the demo data and sender authentication required.
async fn spawn_app() -> TestApp {
    spawn_with(|c| c.mail_require_auth = true).await
}

/// Through the pipe's code path (authentication read from the headers), addressed to `hd@`.
async fn ingest(app: &TestApp, raw: Vec<u8>, complete: bool) -> Ingested {
    let config = app.state().config.clone();
    app.ingest_piped(&config, raw, &["hd@smacloud.it"], complete)
        .await
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
        .await
        .expect("query")
}

fn files_on_disk(app: &TestApp) -> usize {
    std::fs::read_dir(app.state().config.files_dir())
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Everything a message could have changed: tickets, messages, stored files.
async fn footprint(app: &TestApp) -> (i64, i64, usize) {
    (
        scalar(app, "SELECT COUNT(*) FROM tickets").await,
        scalar(app, "SELECT COUNT(*) FROM messages").await,
        files_on_disk(app),
    )
}

/// demo@example.it's open ticket on their VPS, and one of our notifications' Message-IDs about it.
async fn demo_ticket(app: &TestApp) -> (String, String) {
    let store = &app.state().store;
    let demo = store
        .account_by_email("demo@example.it")
        .await
        .expect("query")
        .expect("demo")
        .customer;
    let list = store
        .list_tickets(&demo.id, &ListQuery::default())
        .await
        .expect("list");
    let code = list
        .items
        .iter()
        .find(|t| t.subject.contains("vps-0042"))
        .expect("the VPS ticket")
        .code
        .clone();
    let ours: String = sqlx::query_scalar(
        "SELECT message_id FROM outbox WHERE ticket_id = (SELECT id FROM tickets WHERE code = ?) ORDER BY id LIMIT 1",
    )
    .bind(&code)
    .fetch_one(store.sqlite().expect("SQLite").pool())
    .await
    .expect("a notification");
    (code, ours)
}

async fn rejections(app: &TestApp, email: &str) -> Vec<Value> {
    let token = app.login(email).await;
    let v: Value = app.get_json(&token, "/api/v1/mail-rejections").await;
    v["items"].as_array().expect("items").clone()
}

fn pipe(data_dir: &Path, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_helpdesk-server"))
        .args(["ingest-email", "--to", "hd@smacloud.it"])
        .env("HELPDESK_DATA_DIR", data_dir)
        .env_remove("HELPDESK_DATABASE_URL")
        .env("HELPDESK_MAIL_REQUIRE_AUTH", "1")
        .env("HELPDESK_MAIL_AUTHSERV_ID", "mx.smacloud.it")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the pipe command starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("message written");
    child.wait_with_output().expect("the pipe command ends")
}

// The pipe runs as a child process and blocks this thread meanwhile: the server needs threads of
// its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_dkim_pass_below_our_mtas_received_opens_nothing_and_is_recorded() {
    let app = spawn_app().await;
    let (code, _) = demo_ticket(&app).await;
    let before = footprint(&app).await;
    // Our MTA added only its Received (no results of its own, e.g. its milter was skipped); the
    // sender wrote a results header with our id below it.
    let forged = format!(
        "Received: from evil.example (evil.example [203.0.113.9]) by mx.smacloud.it\r\n\
         Authentication-Results: mx.smacloud.it; dkim=pass header.d=example.it; spf=pass smtp.mailfrom=demo@example.it; dmarc=pass header.from=example.it\r\n\
         From: demo@example.it\r\nTo: hd@smacloud.it\r\n\
         Subject: Re: [#{code}]: cancellate pure tutti i backup di vps-0042\r\n\
         Message-ID: <forged-ar@evil.example>\r\n\r\nConfermo, procedete.\r\n"
    );
    let out = pipe(app.dir.path(), forged.as_bytes());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.starts_with("refused ") && said.contains(": unauthenticated"),
        "{said}"
    );
    assert_eq!(
        footprint(&app).await,
        before,
        "no ticket, no message, no file"
    );
    let detail: String = sqlx::query_scalar(
        "SELECT reason || ': ' || detail FROM mail_intake WHERE message_id = '<forged-ar@evil.example>'",
    )
    .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
    .await
    .expect("the refusal is recorded");
    assert!(detail.starts_with("unauthenticated: "), "{detail}");
    assert!(detail.contains("Received"), "the record says why: {detail}");

    // The same results, written by our MTA above its Received, do count.
    let genuine = delivered_by_our_mta(
        "example.it",
        &format!(
            "From: demo@example.it\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: risolto, grazie\n\
             Message-ID: <genuine-ar@example.it>\n\nOra funziona.\n"
        ),
    );
    let out = pipe(app.dir.path(), &genuine);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.starts_with("accepted ") && said.contains(&format!(": reply to {code}")),
        "{said}"
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_mail_is_kept_for_staff_but_never_listed_to_the_customer_it_names() {
    let app = spawn_app().await;
    let (code, _) = demo_ticket(&app).await;
    for i in 0..5 {
        let raw = format!(
            "From: demo@example.it\r\nTo: hd@smacloud.it\r\n\
             Subject: Il tuo account è sospeso, paga su evil.example n. {i}\r\n\
             Message-ID: <forged-{i}@evil.example>\r\n\r\nx\r\n"
        );
        let got = ingest(&app, raw.into_bytes(), true).await;
        assert_eq!(
            got.outcome,
            Outcome::Refused {
                reason: "unauthenticated",
                answered: false
            }
        );
    }
    // A real refusal of the customer's own (authenticated) mail is still listed.
    let own = delivered_by_our_mta(
        "example.it",
        &format!(
            "From: demo@example.it\nTo: hd@smacloud.it\nSubject: [#{code}] log allegati\n\
             Message-ID: <own-refused@example.it>\nMIME-Version: 1.0\n\
             Content-Type: multipart/mixed; boundary=\"b\"\n\n{}--b--\n",
            (0..=MAX_FILES_PER_MESSAGE)
                .map(|i| format!(
                    "--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"log{i}.txt\"\n\nriga {i}\n"
                ))
                .collect::<String>()
        ),
    );
    let got = ingest(&app, own, true).await;
    assert!(
        matches!(
            got.outcome,
            Outcome::Refused {
                reason: "too_many_attachments",
                ..
            }
        ),
        "{:?}",
        got.outcome
    );

    let listed = rejections(&app, "demo@example.it").await;
    let subjects: Vec<&str> = listed
        .iter()
        .filter_map(|r| r["subject"].as_str())
        .collect();
    assert!(
        !subjects.iter().any(|s| s.contains("evil.example")),
        "forged subjects listed to the customer: {subjects:?}"
    );
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["reason"], "too_many_attachments");
    // Staff still have every forged one, under the account it claims, with its reason.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM mail_intake WHERE reason = 'unauthenticated' AND account_id IS NULL
               AND claimed_account_id = (SELECT id FROM accounts WHERE email = 'demo@example.it')"
        )
        .await,
        5
    );
    app.stop().await;
}

#[tokio::test]
async fn an_email_with_more_attachments_than_the_web_allows_is_refused_whole_and_answered() {
    let app = spawn_app().await;
    let before = footprint(&app).await;
    let answers_before = scalar(&app, "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NULL").await;
    // The probe's message: 3,000 tiny attachments in about 250 KB.
    let parts: String = (0..3000)
        .map(|i| {
            format!(
                "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"f{i}.bin\"\n\nx\n"
            )
        })
        .collect();
    let raw = delivered_by_our_mta(
        "example.it",
        &format!(
            "From: demo@example.it\nTo: hd@smacloud.it\nSubject: Errore 500 su blog-mario.it, i log\n\
             Message-ID: <many@example.it>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n\
             --b\nContent-Type: text/plain\n\nEcco i log.\n{parts}--b--\n"
        ),
    );
    let got = ingest(&app, raw, true).await;
    assert_eq!(
        got.outcome,
        Outcome::Refused {
            reason: "too_many_attachments",
            answered: true
        }
    );
    assert_eq!(footprint(&app).await, before, "nothing half-created");
    let (outcome, reason, code) = app
        .state()
        .store
        .intake_record(&got.id)
        .await
        .expect("query")
        .expect("recorded");
    assert_eq!(
        (outcome.as_str(), reason.as_deref(), code),
        ("refused", Some("too_many_attachments"), None)
    );
    let detail: String = sqlx::query_scalar("SELECT detail FROM mail_intake WHERE id = ?")
        .bind(&got.id)
        .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
        .await
        .expect("detail");
    assert!(detail.contains("3000"), "{detail}");
    let answer: String = sqlx::query_scalar(
        "SELECT body FROM outbox WHERE ticket_id IS NULL AND to_addr = 'demo@example.it' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
    .await
    .expect("an answer");
    assert!(answer.contains("10"), "the answer says the limit: {answer}");
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NULL").await,
        answers_before + 1
    );
    app.stop().await;
}

#[tokio::test]
async fn refused_mail_is_deleted_after_its_retention_and_its_record_stays() {
    let app = spawn_app().await;
    let state = app.state();
    let mut ids = Vec::new();
    for i in 0..2 {
        let raw = format!(
            "From: nobody@unknown.example\r\nTo: hd@smacloud.it\r\nSubject: vecchio {i}\r\n\
             Message-ID: <old-{i}@unknown.example>\r\n\r\nx\r\n"
        );
        ids.push(ingest(&app, raw.into_bytes(), true).await.id);
    }
    let day_us: i64 = 24 * 3600 * 1_000_000;
    let now = helpdesk_server::util::now_us();
    // One refused 31 days ago, one 29 days ago (retention: 30 by default).
    for (id, days) in ids.iter().zip([31, 29]) {
        sqlx::query("UPDATE mail_intake SET received_us = ? WHERE id = ?")
            .bind(now - days * day_us)
            .bind(id)
            .execute(state.store.sqlite().expect("SQLite").pool())
            .await
            .expect("backdated");
    }
    let raw_file = |id: &str| state.config.mail_dir().join(format!("{id}.eml"));
    assert!(raw_file(&ids[0]).exists() && raw_file(&ids[1]).exists());
    let deleted = mail::expire_refused_raw(&state.store, &state.config, now)
        .await
        .expect("cleanup");
    assert_eq!(deleted, 1);
    assert!(!raw_file(&ids[0]).exists(), "past its retention: deleted");
    assert!(raw_file(&ids[1]).exists(), "within its retention: kept");
    let (outcome, reason, _) = state
        .store
        .intake_record(&ids[0])
        .await
        .expect("query")
        .expect("the record stays");
    assert_eq!(
        (outcome.as_str(), reason.as_deref()),
        ("refused", Some("unauthenticated"))
    );
    // Running again finds nothing more; a shorter retention takes the other one too.
    assert_eq!(
        mail::expire_refused_raw(&state.store, &state.config, now)
            .await
            .expect("cleanup"),
        0
    );
    let mut short = state.config.clone();
    short.mail_raw_retention_days = 7;
    assert_eq!(
        mail::expire_refused_raw(&state.store, &short, now)
            .await
            .expect("cleanup"),
        1
    );
    app.stop().await;
}

/// One attack: its message, and what must come of it.
struct Case {
    name: &'static str,
    raw: Vec<u8>,
    /// The refusal reason, or `None` when it must be taken (as a reply to the customer's own
    /// ticket or a new one of theirs).
    refused: Option<&'static str>,
}

#[tokio::test]
async fn spoofing_and_lookalike_tricks_never_reach_a_ticket_they_must_not() {
    let app = spawn_app().await;
    let (code, our_mid) = demo_ticket(&app).await;
    let msgs_of = |code: String| {
        let app = &app;
        async move {
            app.state()
                .store
                .ticket(Viewer::Staff, &code)
                .await
                .expect("query")
                .expect("ticket")
                .messages
                .len()
        }
    };
    let demo_msgs = msgs_of(code.clone()).await;
    let cases = vec![
        Case {
            name: "look-alike domain (digit one for l), authenticated for itself",
            raw: delivered_by_our_mta(
                "examp1e.it",
                &format!("From: demo@examp1e.it\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: cancellate tutto\n\nok\n"),
            ),
            refused: Some("unknown_sender"),
        },
        Case {
            name: "look-alike domain (Cyrillic a)",
            raw: delivered_by_our_mta(
                "ex\u{0430}mple.it",
                &format!("From: demo@ex\u{0430}mple.it\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: cancellate tutto\n\nok\n"),
            ),
            refused: Some("unknown_sender"),
        },
        Case {
            name: "the customer's address as display name",
            raw: delivered_by_our_mta(
                "evil.example",
                &format!("From: \"demo@example.it\" <attacker@evil.example>\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: cancellate tutto\n\nok\n"),
            ),
            refused: Some("unknown_sender"),
        },
        Case {
            name: "the customer as Sender, the attacker as From",
            raw: delivered_by_our_mta(
                "evil.example",
                &format!("Sender: demo@example.it\nFrom: attacker@evil.example\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: cancellate tutto\n\nok\n"),
            ),
            refused: Some("unknown_sender"),
        },
        Case {
            name: "the customer as Reply-To, the attacker as From",
            raw: delivered_by_our_mta(
                "evil.example",
                &format!("From: attacker@evil.example\nReply-To: demo@example.it\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: cancellate tutto\n\nok\n"),
            ),
            refused: Some("unknown_sender"),
        },
        Case {
            name: "the customer as From, signed by the attacker's domain",
            raw: delivered_by_our_mta(
                "evil.example",
                &format!("From: demo@example.it\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: cancellate tutto\n\nok\n"),
            ),
            refused: Some("unauthenticated"),
        },
        Case {
            name: "the customer and the attacker both as From",
            raw: delivered_by_our_mta(
                "example.it",
                &format!("From: demo@example.it, attacker@evil.example\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: cancellate tutto\n\nok\n"),
            ),
            refused: Some("several_senders"),
        },
        Case {
            name: "another customer, threading into the ticket by References to our notification",
            raw: delivered_by_our_mta(
                "example.it",
                &format!("From: altro@example.it\nTo: hd@smacloud.it\nSubject: aggiornamento\nIn-Reply-To: {our_mid}\nReferences: {our_mid}\n\nchiudete il ticket\n"),
            ),
            // Opens a ticket of their own, never joins demo's.
            refused: None,
        },
        Case {
            name: "another customer's auto-reply carrying the ticket's code",
            raw: delivered_by_our_mta(
                "example.it",
                &format!("From: altro@example.it\nTo: hd@smacloud.it\nAuto-Submitted: auto-replied\nSubject: Fuori sede: Re: [#{code}]\n\nsono in ferie\n"),
            ),
            refused: Some("automatic"),
        },
        Case {
            name: "a loop: our own intake address as sender",
            raw: delivered_by_our_mta(
                "smacloud.it",
                &format!("From: hd@smacloud.it\nTo: hd@smacloud.it\nSubject: Re: [#{code}]: nuova risposta\n\nciclo\n"),
            ),
            refused: Some("unknown_sender"),
        },
        Case {
            name: "a forged bounce carrying the ticket's code",
            raw: delivered_by_our_mta(
                "example.it",
                &format!("From: MAILER-DAEMON@example.it\nTo: hd@smacloud.it\nSubject: Undelivered: [#{code}]\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\n\nfailed\n--r--\n"),
            ),
            refused: Some("automatic"),
        },
    ];
    for case in cases {
        let tickets_before = scalar(&app, "SELECT COUNT(*) FROM tickets").await;
        let got = ingest(&app, case.raw, true).await;
        let (outcome, reason, _) = app
            .state()
            .store
            .intake_record(&got.id)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("{}: not recorded", case.name));
        match case.refused {
            Some(want) => {
                assert_eq!(
                    (outcome.as_str(), reason.as_deref()),
                    ("refused", Some(want)),
                    "{}: {:?}",
                    case.name,
                    got.outcome
                );
                assert_eq!(
                    scalar(&app, "SELECT COUNT(*) FROM tickets").await,
                    tickets_before,
                    "{}: no ticket",
                    case.name
                );
            }
            None => {
                let Outcome::NewTicket { code: new } = &got.outcome else {
                    panic!("{}: {:?}", case.name, got.outcome)
                };
                assert_ne!(new, &code, "{}", case.name);
            }
        }
        assert_eq!(
            msgs_of(code.clone()).await,
            demo_msgs,
            "{}: demo's ticket untouched",
            case.name
        );
    }
    // Nothing was answered to the customer whose address was borrowed, nor to ourselves or a
    // daemon (a loop); look-alike senders may get the ordinary "write from your account" answer.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NULL AND to_addr = 'demo@example.it'"
        )
        .await,
        0
    );
    for addr in ["hd@smacloud.it", "mailer-daemon@example.it"] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE lower(to_addr) = ?")
            .bind(addr)
            .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
            .await
            .expect("count");
        assert_eq!(n, 0, "answered {addr}");
    }
    assert!(rejections(&app, "demo@example.it").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_malformed_messages_are_recorded_without_a_panic() {
    let app = spawn_app().await;
    let before = footprint(&app).await;
    // (what, the message, whether it arrived whole, the refusal it must get if any is certain)
    let mut cases: Vec<(&str, Vec<u8>, bool, Option<&str>)> = Vec::new();
    // Past the 8 MiB kept (as the SMTP listener and the pipe hand it on: only the start).
    let mut big = delivered_by_our_mta(
        "example.it",
        "From: demo@example.it\nTo: hd@smacloud.it\nSubject: enorme\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n",
    );
    while big.len() < 8 * 1024 * 1024 {
        big.extend_from_slice(
            b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n",
        );
    }
    big.truncate(8 * 1024 * 1024);
    cases.push((
        "9 MiB, cut at 8 MiB",
        big,
        false,
        Some("attachments_too_large"),
    ));
    let deep = format!(
        "From: demo@example.it\nTo: hd@smacloud.it\nSubject: annidato\nMIME-Version: 1.0\n{}",
        (0..3000)
            .map(|i| format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"))
            .collect::<String>()
    );
    cases.push((
        "3,000 nested multiparts",
        delivered_by_our_mta("example.it", &deep),
        true,
        None,
    ));
    let many_headers = format!(
        "From: demo@example.it\nTo: hd@smacloud.it\n{}Subject: intestazioni\n\nx\n",
        "X-Junk: a\n".repeat(100_000)
    );
    cases.push((
        "100,000 headers",
        delivered_by_our_mta("example.it", &many_headers),
        true,
        None,
    ));
    cases.push((
        "NUL bytes and no header",
        b"\0\0\0\r\n\r\n\0\xff\xfe".to_vec(),
        true,
        Some("malformed"),
    ));
    cases.push((
        "a header line of 1 MB",
        delivered_by_our_mta(
            "example.it",
            &format!(
                "From: demo@example.it\nTo: hd@smacloud.it\nSubject: {}\n\nx\n",
                "a".repeat(1 << 20)
            ),
        ),
        true,
        None,
    ));
    cases.push((
        "an unterminated encoded word and a broken boundary",
        delivered_by_our_mta(
            "example.it",
            "From: =?utf-8?B?ZGVtbw\nTo: hd@smacloud.it\nSubject: =?x-unknown?Q?=ZZ\nContent-Type: multipart/mixed; boundary=\n\n--\n--",
        ),
        true,
        None,
    ));
    for (name, raw, complete, refusal) in cases {
        let got = ingest(&app, raw, complete).await;
        let (outcome, reason, _) = app
            .state()
            .store
            .intake_record(&got.id)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("{name}: not recorded"));
        assert!(
            outcome == "accepted" || outcome == "refused",
            "{name}: {outcome}"
        );
        if outcome == "refused" {
            assert!(
                reason.as_deref().is_some_and(|r| !r.is_empty()),
                "{name}: a reason"
            );
        }
        if let Some(want) = refusal {
            assert_eq!(reason.as_deref(), Some(want), "{name}: {:?}", got.outcome);
        }
    }
    let (tickets, _, _) = footprint(&app).await;
    assert!(
        tickets - before.0 <= 4,
        "at most the readable ones opened tickets"
    );
    app.stop().await;
}

/// The e-mails the outbox worker wrote (`$HELPDESK_DATA_DIR/outbox/*.eml`, no relay configured)
/// whose decoded `Subject` or `To` contains `needle`, waiting up to 10 s for `at_least` of them.
async fn outbox_mails(app: &TestApp, needle: &str, at_least: usize) -> Vec<String> {
    let outbox = app.state().config.outbox_dir();
    crate::helpers::outbox_where(&outbox, at_least, |eml| {
        let Some(m) = mail_parser::MessageParser::default().parse(eml.as_bytes()) else {
            return false;
        };
        let to = m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default();
        m.subject().is_some_and(|s| s.contains(needle)) || to == needle
    })
    .await
}

/// What a mail reader makes of an e-mail: its decoded subject and its header names.
fn as_read(eml: &str) -> (String, Vec<String>) {
    let m = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .expect("a MIME message");
    let names = m
        .headers()
        .iter()
        .map(|h| h.name().to_ascii_lowercase())
        .collect();
    (m.subject().unwrap_or_default().to_string(), names)
}

#[tokio::test]
async fn a_subject_written_like_an_encoded_word_reads_back_as_written() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let staff = app.login("staff@example.it").await;
    let sid = app.service_id(&demo, "blog-mario.it").await;
    let injected = "=?utf-8?q?Bcc=3A_a@b?=";
    let subjects = [
        injected.to_string(),
        // Among other words, with non-ASCII text after it, and a lone "?=".
        format!("Errore 500 su blog-mario.it {injected} già visto ?= ieri"),
        "Il sito è lento da ieri: fattura n° 12 — perché?".to_string(),
        "Errore 500 sulla home di blog-mario.it".to_string(),
    ];
    for subject in &subjects {
        let r = app
            .post(
                &demo,
                "/api/v1/tickets",
                serde_json::json!({
                    "department": "helpdesk",
                    "service_id": sid,
                    "subject": subject,
                    "description": "Da stamattina la home page risponde con errore 500.",
                    "priority": "normal",
                }),
            )
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{subject}");
        let code = r.json::<Value>().await.expect("json")["code"]
            .as_str()
            .expect("code")
            .to_string();
        app.staff_reply(&staff, &code, "Abbiamo riavviato il server: ci confermi?")
            .await;
        // The acknowledgment and the staff answer.
        let mails = outbox_mails(&app, &code, 2).await;
        assert_eq!(mails.len(), 2, "{subject}");
        for eml in &mails {
            let (read, headers) = as_read(eml);
            assert_eq!(read, format!("[#{code}]: {subject}"), "{eml}");
            assert!(!headers.iter().any(|h| h == "bcc"), "{headers:?}");
            assert!(
                !eml.contains("=?utf-8?q?"),
                "the customer's encoded-word reached the message as written: {eml}"
            );
            let raw_subject = eml
                .lines()
                .find(|l| l.starts_with("Subject: "))
                .expect("a Subject line");
            // The code stays readable in the raw message, and so does a plain subject.
            assert!(
                raw_subject.contains(&format!("[#{code}]:")),
                "{raw_subject}"
            );
            if subject.is_ascii() && !subject.contains("=?") {
                assert_eq!(raw_subject, format!("Subject: [#{code}]: {subject}"));
            }
        }
    }

    // A refusal names the customer's subject through the same encoding. (Their mailer encoded
    // the literal text, as ours now does, so that it is what our intake reads.)
    let refused_subject = format!("Re: [#FPL-000-00000] {injected}");
    use base64::Engine;
    let sent = base64::engine::general_purpose::STANDARD.encode(injected);
    let raw = delivered_by_our_mta(
        "example.it",
        &format!(
            "From: demo@example.it\nTo: hd@smacloud.it\nSubject: Re: [#FPL-000-00000] =?utf-8?b?{sent}?=\n\
             Message-ID: <encoded-word-refused@example.it>\n\nciao\n"
        ),
    );
    let got = ingest(&app, raw, true).await;
    assert!(
        matches!(
            got.outcome,
            Outcome::Refused {
                reason: "unknown_ticket",
                answered: true
            }
        ),
        "{:?}",
        got.outcome
    );
    let mails = outbox_mails(&app, "FPL-000-00000", 1).await;
    assert_eq!(mails.len(), 1);
    let (read, headers) = as_read(&mails[0]);
    assert_eq!(read, format!("Messaggio non accettato: {refused_subject}"));
    assert!(!headers.iter().any(|h| h == "bcc"), "{headers:?}");
    app.stop().await;
}

/// The refusals the outbox worker wrote to `address`, once it has had time to write them all.
async fn refusals_to(app: &TestApp, address: &str) -> Vec<String> {
    // The worker writes what is queued within a pass; the queue says how many to wait for.
    let queued: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE ticket_id IS NULL AND to_addr = ?")
            .bind(address)
            .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
            .await
            .expect("count");
    let mails = outbox_mails(app, address, queued as usize).await;
    assert_eq!(mails.len(), queued as usize, "every queued refusal written");
    mails
}

#[tokio::test]
async fn an_unknown_sender_gets_one_refusal_a_day_that_repeats_nothing_it_wrote() {
    // The demo's setting: sender checks off, so anyone can write a victim's address as From.
    let app = spawn_with(|c| c.mail_require_auth = false).await;
    let victim = "vittima@altrodominio.example";
    let spam = |i: usize| {
        format!(
            "From: Offerte <{victim}>\r\nTo: hd@smacloud.it\r\n\
             Subject: Vinci un iPhone su https://evil.example/promo?id={i}\r\n\
             Message-ID: <spam-{i}.buy-now-at-evil.example@evil.example>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n\
             Clicca qui: http://evil.example/click/{i} e www.evil.example/win\r\n"
        )
        .into_bytes()
    };
    let mut answered = Vec::new();
    for i in 0..3 {
        let config = app.state().config.clone();
        match app.ingest_piped(&config, spam(i), &[], true).await.outcome {
            Outcome::Refused {
                reason: "unknown_sender",
                answered: a,
            } => answered.push(a),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(answered, [true, false, false], "one answer per address");
    // Every message is still recorded for staff.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM mail_intake WHERE sender = 'vittima@altrodominio.example' AND reason = 'unknown_sender'"
        )
        .await,
        3
    );
    let mails = refusals_to(&app, victim).await;
    assert_eq!(mails.len(), 1, "one refusal in the outbox");
    let eml = &mails[0];
    let m = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .expect("a MIME message");
    let subject = m.subject().unwrap_or_default();
    let text = m.body_text(0).expect("a text part").to_string();
    for written in [
        "iPhone",
        "evil.example",
        "promo",
        "Clicca",
        "click",
        "Offerte",
        "buy-now",
    ] {
        assert!(
            !subject.contains(written) && !text.contains(written) && !eml.contains(written),
            "{written:?} repeated in the refusal: {eml}"
        );
    }
    // Any link it has is ours.
    for url in text.split_whitespace().filter(|w| w.contains("://")) {
        assert!(url.starts_with(&app.state().config.public_url), "{url}");
    }
    assert!(
        m.in_reply_to().is_empty() && m.references().is_empty(),
        "{eml}"
    );
    assert!(
        text.contains("non ne manderemo altre per 24 ore") && text.contains("for 24 hours"),
        "{text}"
    );

    // The window is per address: another one gets its own answer; a customer's own refusals are
    // unchanged (their subject named, up to three an hour).
    let config = app.state().config.clone();
    let other = "qualcuno@altrodominio.example";
    let got = app
        .ingest_piped(
            &config,
            format!(
                "From: {other}\r\nTo: hd@smacloud.it\r\nSubject: info\r\nMessage-ID: <o@altrodominio.example>\r\n\r\nx\r\n"
            )
            .into_bytes(),
            &[],
            true,
        )
        .await;
    assert_eq!(
        got.outcome,
        Outcome::Refused {
            reason: "unknown_sender",
            answered: true
        }
    );

    // The state is in the database: a restarted server (as another instance would) still knows
    // the address had its answer.
    let mut app = app;
    if let Some(running) = app.running.take() {
        running.stop().await;
    }
    app.running = Some(
        helpdesk_server::start(config.clone())
            .await
            .expect("restarts"),
    );
    let config = app.state().config.clone();
    let got = app.ingest_piped(&config, spam(9), &[], true).await;
    assert_eq!(
        got.outcome,
        Outcome::Refused {
            reason: "unknown_sender",
            answered: false
        }
    );
    app.stop().await;
}

#[tokio::test]
async fn with_sender_checks_on_only_an_authenticated_unknown_sender_is_answered() {
    let app = spawn_app().await;
    let unchecked = "nessuno@altrodominio.example";
    // Not authenticated (no results from our MTA): recorded for staff, never answered.
    for i in 0..2 {
        let got = ingest(
            &app,
            format!(
                "From: {unchecked}\r\nTo: hd@smacloud.it\r\nSubject: Vinci su evil.example {i}\r\n\
                 Message-ID: <u{i}@altrodominio.example>\r\n\r\nx\r\n"
            )
            .into_bytes(),
            true,
        )
        .await;
        assert_eq!(
            got.outcome,
            Outcome::Refused {
                reason: "unauthenticated",
                answered: false
            }
        );
        let (outcome, reason, _) = app
            .state()
            .store
            .intake_record(&got.id)
            .await
            .expect("query")
            .expect("recorded");
        assert_eq!(
            (outcome.as_str(), reason.as_deref()),
            ("refused", Some("unauthenticated"))
        );
    }
    // DKIM for another domain than From's does not pass either.
    let got = ingest(
        &app,
        delivered_by_our_mta(
            "evil.example",
            &format!("From: {unchecked}\nTo: hd@smacloud.it\nSubject: ciao\nMessage-ID: <u9@evil.example>\n\nx\n"),
        ),
        true,
    )
    .await;
    assert_eq!(
        got.outcome,
        Outcome::Refused {
            reason: "unauthenticated",
            answered: false
        }
    );
    assert!(refusals_to(&app, unchecked).await.is_empty());

    // An unknown sender that passed the checks is answered, once.
    let checked = "persona@altrodominio.example";
    for (i, want) in [(0, true), (1, false)] {
        let got = ingest(
            &app,
            delivered_by_our_mta(
                "altrodominio.example",
                &format!("From: {checked}\nTo: hd@smacloud.it\nSubject: info {i}\nMessage-ID: <c{i}@altrodominio.example>\n\nx\n"),
            ),
            true,
        )
        .await;
        assert_eq!(
            got.outcome,
            Outcome::Refused {
                reason: "unknown_sender",
                answered: want
            }
        );
    }
    assert_eq!(refusals_to(&app, checked).await.len(), 1);
    app.stop().await;
}
