//! The e-mail intake: fixtures with their expected outcomes, the real-world corpus, the pipe
//! command, the SMTP listener with a real client, and sender authentication with pre-loaded DNS.

use crate::helpers::{spawn_with, TestApp};
use base64::Engine;
use helpdesk_core::api::{Channel, MessageKind, Priority, Status};
use helpdesk_server::mail::auth::SenderAuth;
use helpdesk_server::mail::{self, AuthSource, Envelope, Ingested, Outcome};
use helpdesk_server::storage::prelude::*;
use helpdesk_server::storage::{ListQuery, Viewer};
use helpdesk_server::Config;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail")
}

/// `../shared/corpus/mail` beside the repository, or `HELPDESK_MAIL_CORPUS`.
fn corpus_dir() -> PathBuf {
    match std::env::var("HELPDESK_MAIL_CORPUS") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/mail"),
    }
}

fn corpus_messages() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("the corpus {} is not readable: {e}", d.display()));
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(
        out.len() >= 100,
        "expected the corpus's 107 messages in {}, found {}",
        dir.display(),
        out.len()
    );
    out
}

async fn spawn_mail_app() -> TestApp {
    spawn_with(|c| c.mail_require_auth = false).await
}

/// The codes and ids fixtures refer to.
struct Vars(HashMap<&'static str, String>);

async fn vars(app: &TestApp) -> Vars {
    let store = &app.state().store;
    let demo = store
        .account_by_email("demo@example.it")
        .await
        .unwrap()
        .unwrap()
        .customer;
    let altro = store
        .account_by_email("altro@example.it")
        .await
        .unwrap()
        .unwrap()
        .customer;
    let list = store
        .list_tickets(&demo.id, &ListQuery::default())
        .await
        .unwrap();
    let code = list
        .items
        .iter()
        .find(|t| t.subject.contains("vps-0042"))
        .unwrap()
        .code
        .clone();
    let closed = list
        .items
        .iter()
        .find(|t| t.status == Status::Closed)
        .unwrap()
        .code
        .clone();
    let other = store
        .list_tickets(&altro.id, &ListQuery::default())
        .await
        .unwrap()
        .items[0]
        .code
        .clone();
    let ours: String = sqlx::query_scalar(
        "SELECT message_id FROM outbox WHERE ticket_id = (SELECT id FROM tickets WHERE code = $1) ORDER BY id LIMIT 1",
    )
    .bind(&code)
    .fetch_one(&app.sql().await)
    .await
    .unwrap();
    let mut m = HashMap::new();
    m.insert("{{CODE}}", code);
    m.insert("{{CLOSED_CODE}}", closed);
    m.insert("{{OTHER_CODE}}", other);
    m.insert("{{OUR_MESSAGE_ID}}", ours);
    Vars(m)
}

impl Vars {
    fn fill(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (k, v) in &self.0 {
            s = s.replace(k, v);
        }
        s
    }
}

/// base64 of `n` bytes, in 76-character lines.
fn base64_lines(n: usize) -> String {
    let data: Vec<u8> = (0..n)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let b = base64::engine::general_purpose::STANDARD.encode(data);
    b.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A fixture with its placeholders filled and CRLF line ends (binary ones as they are).
fn load_fixture(name: &str, vars: &Vars) -> Vec<u8> {
    let bytes = std::fs::read(fixtures_dir().join(name)).unwrap();
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        return bytes;
    };
    let mut text = vars.fill(&text).replace("{{PNG_BASE64}}", PNG_1X1);
    while let Some(start) = text.find("{{BASE64:") {
        let end = start + text[start..].find("}}").unwrap();
        let n: usize = text[start + 9..end].parse().unwrap();
        text.replace_range(start..end + 2, &base64_lines(n));
    }
    if !text.contains("\r\n") {
        text = text.replace('\n', "\r\n");
    }
    text.into_bytes()
}

/// Through the pipe's code path: no envelope recipient, authentication from the headers.
async fn ingest_with(app: &TestApp, config: &Config, raw: Vec<u8>) -> Ingested {
    app.ingest_piped(config, raw, &[], true).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.sql().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_fixture_has_the_outcome_its_manifest_expects() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let manifest = std::fs::read_to_string(fixtures_dir().join("EXPECTED")).unwrap();
    let store = &app.state().store;
    let mut checked = 0;
    for line in manifest
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (file, spec) = line.split_once(':').unwrap();
        let spec = vars.fill(spec);
        let mut words = spec.split_whitespace();
        let outcome = words.next().unwrap();
        let mut keys: HashMap<&str, Vec<String>> = HashMap::new();
        for w in words {
            let (k, v) = w.split_once('=').unwrap_or((w, ""));
            let v = if k == "subject" {
                v.replace('_', " ")
            } else {
                v.to_string()
            };
            keys.entry(k).or_default().push(v);
        }
        let key = |k: &str| keys.get(k).and_then(|v| v.first()).map(String::as_str);
        let mut config = app.state().config.clone();
        config.mail_require_auth = key("auth") == Some("on");

        let tickets_before = count(&app, "SELECT COUNT(*) FROM tickets").await;
        let messages_before = count(&app, "SELECT COUNT(*) FROM messages").await;
        let files_before = app.stored_files().await.len();
        let status_before = match key("code") {
            Some(code) => Some(
                store
                    .ticket(Viewer::Staff, code)
                    .await
                    .unwrap()
                    .unwrap()
                    .status,
            ),
            None => None,
        };
        let got = ingest_with(&app, &config, load_fixture(file, &vars)).await;
        let (want_outcome, _, _) = store
            .intake_record(&got.id)
            .await
            .unwrap()
            .expect("recorded");
        let ctx = format!("{file}: {:?}", got.outcome);

        match outcome {
            "new" | "reply" => {
                assert_eq!(want_outcome, "accepted", "{ctx}");
                let (code, automatic) = match &got.outcome {
                    Outcome::NewTicket { code } if outcome == "new" => (code.clone(), false),
                    Outcome::Reply { code, automatic } if outcome == "reply" => {
                        (code.clone(), *automatic)
                    }
                    other => panic!("{file}: expected {outcome}, got {other:?}"),
                };
                if let Some(want) = key("code") {
                    assert_eq!(code, want, "{ctx}");
                }
                assert_eq!(automatic, keys.contains_key("automatic"), "{ctx}");
                let t = store.ticket(Viewer::Staff, &code).await.unwrap().unwrap();
                let m = t
                    .messages
                    .iter()
                    .rev()
                    .find(|m| m.kind == MessageKind::Message)
                    .unwrap();
                assert_eq!(m.channel, Channel::Email, "{ctx}");
                assert_eq!(m.automatic, automatic, "{ctx}");
                assert_eq!(m.signed, keys.contains_key("signed"), "{ctx}");
                let raw = m
                    .raw_email
                    .as_ref()
                    .unwrap_or_else(|| panic!("{ctx}: no raw e-mail"));
                assert!(
                    app.stored_files().await.contains(&raw.id),
                    "{ctx}: raw file"
                );
                for f in &m.attachments {
                    assert!(
                        app.stored_files().await.contains(&f.id),
                        "{ctx}: attachment file"
                    );
                }
                if let Some(n) = key("attachments") {
                    assert_eq!(
                        m.attachments.len(),
                        n.parse::<usize>().unwrap(),
                        "{ctx}: {:?}",
                        m.attachments
                    );
                }
                if let Some(name) = key("file") {
                    assert_eq!(
                        m.attachments.first().map(|f| f.name.as_str()),
                        Some(name),
                        "{ctx}"
                    );
                }
                if let Some(size) = key("size") {
                    assert_eq!(m.attachments[0].size, size.parse::<u64>().unwrap(), "{ctx}");
                }
                for word in keys.get("body").into_iter().flatten() {
                    assert!(
                        m.body.contains(word.as_str()),
                        "{ctx}: body lacks {word:?}: {}",
                        m.body
                    );
                }
                for word in keys.get("nobody").into_iter().flatten() {
                    assert!(
                        !m.body.contains(word.as_str()),
                        "{ctx}: body has {word:?}: {}",
                        m.body
                    );
                }
                for name in keys.get("nofile").into_iter().flatten() {
                    assert!(
                        !m.attachments.iter().any(|f| &f.name == name),
                        "{ctx}: {name} is an attachment: {:?}",
                        m.attachments
                    );
                    assert!(
                        !t.messages.iter().any(|m| m.body.contains(name.as_str())),
                        "{ctx}: the thread names {name}"
                    );
                }
                if outcome == "new" {
                    assert_eq!(t.priority, Priority::Low, "{ctx}");
                    assert_eq!(t.channel, Channel::Email, "{ctx}");
                    assert_eq!(t.status, Status::Open, "{ctx}");
                    if let Some(d) = key("department") {
                        assert_eq!(t.department.as_str(), d, "{ctx}");
                    }
                    match key("service") {
                        Some("none") => assert!(t.service.is_none(), "{ctx}: {:?}", t.service),
                        Some(s) => assert_eq!(
                            t.service.as_ref().map(|s| s.identifier.as_str()),
                            Some(s),
                            "{ctx}"
                        ),
                        None => {}
                    }
                    if let Some(s) = key("subject") {
                        assert_eq!(t.subject, s, "{ctx}");
                    }
                    // The acknowledgment is the one answer, threaded under the customer's e-mail.
                    let (subject, body, irt): (String, String, Option<String>) = sqlx::query_as(
                        "SELECT subject, body, in_reply_to FROM outbox WHERE ticket_id = (SELECT id FROM tickets WHERE code = $1)",
                    )
                    .bind(&code)
                    .fetch_one(&app.sql().await)
                    .await
                    .unwrap_or_else(|e| panic!("{ctx}: one acknowledgment: {e}"));
                    assert!(
                        subject.starts_with(&format!("[#{code}]: ")),
                        "{ctx}: {subject}"
                    );
                    assert!(irt.is_some(), "{ctx}: acknowledgment not threaded");
                    if let Some(word) = key("advice") {
                        assert!(
                            body.contains(word),
                            "{ctx}: acknowledgment lacks {word:?}: {body}"
                        );
                    }
                } else {
                    assert_eq!(
                        count(&app, "SELECT COUNT(*) FROM tickets").await,
                        tickets_before,
                        "{ctx}"
                    );
                    if automatic {
                        assert_eq!(
                            Some(t.status),
                            status_before,
                            "{ctx}: automatic mail changed the status"
                        );
                    } else {
                        assert_eq!(t.status, Status::Open, "{ctx}");
                    }
                    if keys.contains_key("reopened") {
                        assert!(
                            t.messages
                                .iter()
                                .any(|m| m.kind == MessageKind::Event
                                    && m.status == Some(Status::Open)),
                            "{ctx}: no reopening event"
                        );
                    }
                }
            }
            "refused" => {
                assert_eq!(want_outcome, "refused", "{ctx}");
                let want_reason = key("reason").unwrap();
                match &got.outcome {
                    Outcome::Refused { reason, answered } => {
                        assert_eq!(*reason, want_reason, "{ctx}");
                        assert_eq!(*answered, keys.contains_key("answered"), "{ctx}: answered");
                    }
                    other => panic!("{file}: expected a refusal, got {other:?}"),
                }
                assert_eq!(
                    count(&app, "SELECT COUNT(*) FROM tickets").await,
                    tickets_before,
                    "{ctx}"
                );
                assert_eq!(
                    count(&app, "SELECT COUNT(*) FROM messages").await,
                    messages_before,
                    "{ctx}"
                );
                assert_eq!(
                    app.stored_files().await.len(),
                    files_before,
                    "{ctx}: files were stored"
                );
                if let Some(kind) = key("kind") {
                    let detail: Option<String> =
                        sqlx::query_scalar("SELECT detail FROM mail_intake WHERE id = $1")
                            .bind(&got.id)
                            .fetch_one(&app.sql().await)
                            .await
                            .unwrap();
                    let detail = detail.unwrap_or_default();
                    assert!(
                        detail.starts_with(&format!("{kind} (")),
                        "{ctx}: detail {detail:?}"
                    );
                }
                if let (Some(code), Some(before)) = (key("code"), status_before) {
                    let t = store.ticket(Viewer::Staff, code).await.unwrap().unwrap();
                    assert_eq!(t.status, before, "{ctx}: the status changed");
                }
                if keys.contains_key("answered") {
                    let body: String = sqlx::query_scalar(
                        "SELECT body FROM outbox WHERE ticket_id IS NULL ORDER BY id DESC LIMIT 1",
                    )
                    .fetch_one(&app.sql().await)
                    .await
                    .unwrap();
                    assert!(
                        body.contains(&app.state().config.public_url),
                        "{ctx}: the answer points to the web form"
                    );
                    if let Some(word) = key("answer") {
                        assert!(
                            body.contains(word),
                            "{ctx}: the answer lacks {word:?}: {body}"
                        );
                    }
                    if want_reason == "attachments_too_large" {
                        assert!(
                            body.contains("1 MB") && body.contains("1048577"),
                            "{ctx}: {body}"
                        );
                    }
                }
            }
            other => panic!("unknown outcome {other} in EXPECTED"),
        }
        // The message is kept as received.
        assert!(
            app.state()
                .config
                .mail_dir()
                .join(format!("{}.eml", got.id))
                .exists(),
            "{ctx}"
        );
        checked += 1;
    }
    assert_eq!(checked, 41);
    app.stop().await;
}

#[tokio::test]
async fn a_read_receipt_and_an_out_of_office_leave_a_closed_ticket_closed_and_unanswered() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let store = &app.state().store;
    let config = app.state().config.clone();
    let closed = vars.0["{{CLOSED_CODE}}"].clone();
    let thread = |t: &helpdesk_core::api::Ticket| t.messages.len();
    let before = store.ticket(Viewer::Staff, &closed).await.unwrap().unwrap();
    assert_eq!(before.status, Status::Closed);
    let outbox_before = count(&app, "SELECT COUNT(*) FROM outbox").await;
    for file in ["read-receipt.eml", "out-of-office-outlook-italian.eml"] {
        let raw = load_fixture(file, &vars);
        assert!(
            String::from_utf8_lossy(&raw).contains(&closed),
            "{file} names the closed ticket"
        );
        let got = ingest_with(&app, &config, raw).await;
        assert_eq!(
            got.outcome,
            Outcome::Refused {
                reason: "automatic",
                answered: false
            },
            "{file}"
        );
        assert!(!got.queued_mail, "{file}");
        let after = store.ticket(Viewer::Staff, &closed).await.unwrap().unwrap();
        assert_eq!(after.status, Status::Closed, "{file}: reopened");
        assert_eq!(thread(&after), thread(&before), "{file}: the thread grew");
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM outbox").await,
            outbox_before,
            "{file}: something was sent"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_log_sent_inside_outlooks_winmail_dat_is_downloadable_from_the_thread() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let config = app.state().config.clone();
    let got = ingest_with(&app, &config, load_fixture("winmail-dat.eml", &vars)).await;
    let Outcome::NewTicket { code } = got.outcome else {
        panic!("{:?}", got.outcome)
    };
    let demo = app.login("demo@example.it").await;
    let ticket = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    let thread = ticket["messages"].to_string();
    assert!(!thread.contains("winmail.dat"), "{thread}");
    let files = ticket["messages"][0]["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["name"], "log.txt");
    let r = app
        .get(
            &demo,
            &format!("/api/v1/attachments/{}", files[0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with("2026-12-06 09:14:02 [error]") && body.contains("upstream timed out"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_corpus_message_is_recorded_without_a_panic_or_a_hang() {
    // Every message goes the whole way: no account's limit stops a sender's later messages.
    let app = spawn_with(|c| {
        c.mail_require_auth = false;
        c.limits = helpdesk_server::config::AccountLimits::off();
    })
    .await;
    let store = &app.state().store;
    let config = app.state().config.clone();
    // Each message's sender becomes a customer, so that every message goes the whole way.
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for path in corpus_messages() {
        let raw = std::fs::read(&path).unwrap();
        let a = mail::parse::analyse(&raw, true);
        if let [Some(from)] = a.from.as_slice() {
            let import = serde_json::from_value(serde_json::json!({
                "email": from, "name": "Corpus", "password_hash": "x",
                "services": [{"id": "s1", "family": "domain", "product": "Dominio", "identifier": "example.com"}]
            }))
            .unwrap();
            store.upsert_account(&import).await.unwrap();
        }
        let env = Envelope {
            recipients: vec!["hd@smacloud.it".into()],
            return_path: None,
            auth: AuthSource::Headers,
        };
        let got = tokio::time::timeout(
            Duration::from_secs(20),
            mail::ingest(store, &config, raw, true, env),
        )
        .await
        .unwrap_or_else(|_| panic!("{} hung", path.display()))
        .unwrap_or_else(|e| panic!("{} not recorded: {e}", path.display()));
        let key = match got.outcome {
            Outcome::Duplicate => "duplicate".to_string(),
            _ => {
                let (outcome, reason, _) = store
                    .intake_record(&got.id)
                    .await
                    .unwrap()
                    .expect("a record");
                assert_ne!(outcome, "processing", "{}", path.display());
                format!("{outcome} {}", reason.unwrap_or_default())
            }
        };
        *outcomes.entry(key).or_default() += 1;
    }
    eprintln!("corpus outcomes: {outcomes:?}");
    assert!(
        outcomes.get("accepted ").copied().unwrap_or(0) > 20,
        "{outcomes:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_same_message_id_from_the_same_sender_is_taken_once() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let config = app.state().config.clone();
    let raw = load_fixture("new-specific-subject.eml", &vars);
    let first = ingest_with(&app, &config, raw.clone()).await;
    assert!(matches!(first.outcome, Outcome::NewTicket { .. }));
    let tickets = count(&app, "SELECT COUNT(*) FROM tickets").await;
    let second = ingest_with(&app, &config, raw.clone()).await;
    assert_eq!(second.outcome, Outcome::Duplicate);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, tickets);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM mail_intake").await, 1);
    // Another sender may use the same Message-ID: that is another message.
    let other = String::from_utf8(raw).unwrap().replace(
        "From: Mario Rossi <demo@example.it>",
        "From: altro@example.it",
    );
    let third = ingest_with(&app, &config, other.into_bytes()).await;
    assert!(
        matches!(third.outcome, Outcome::NewTicket { .. }),
        "{:?}",
        third.outcome
    );
    app.stop().await;
}

#[tokio::test]
async fn refusal_answers_to_one_address_are_limited_three_an_hour_to_a_customer_one_a_day_else() {
    let app = spawn_mail_app().await;
    let config = app.state().config.clone();
    let answered = |from: &'static str, reason: &'static str| {
        let (app, config) = (&app, &config);
        async move {
            let mut answered = 0;
            for i in 0..6 {
                // A customer writing about a code that is none of theirs; or anyone at all.
                let raw = format!(
                    "From: {from}\r\nTo: hd@smacloud.it\r\nSubject: [#FPL-000-0000{i}] richiesta {i}\r\nMessage-ID: <r{i}@{from}>\r\n\r\nciao\r\n"
                );
                match ingest_with(app, config, raw.into_bytes()).await.outcome {
                    Outcome::Refused {
                        reason: r,
                        answered: a,
                    } if r == reason => answered += usize::from(a),
                    other => panic!("{other:?}"),
                }
            }
            answered
        }
    };
    assert_eq!(
        answered("demo@example.it", "unknown_ticket").await,
        mail::REFUSALS_PER_HOUR as usize
    );
    assert_eq!(
        answered("robot@altrodominio.example", "unknown_sender").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM mail_intake WHERE outcome = 'refused'"
        )
        .await,
        12,
        "all recorded"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_customer_sees_their_refused_emails_with_the_reason() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let config = app.state().config.clone();
    ingest_with(&app, &config, load_fixture("someone-elses-code.eml", &vars)).await;
    let demo = app.login("demo@example.it").await;
    let v: Value = app.get_json(&demo, "/api/v1/mail-rejections").await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["reason"], "unknown_ticket");
    assert!(items[0]["subject"]
        .as_str()
        .unwrap()
        .contains("bianchi-arredi.it"));
    assert!(!items[0]["message"].as_str().unwrap().is_empty());
    // The other customer's ticket is untouched and they see nothing of it.
    let altro = app.login("altro@example.it").await;
    let v: Value = app.get_json(&altro, "/api/v1/mail-rejections").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}

/// The pipe into `app`'s database and data folder.
fn pipe_to(
    app: &TestApp,
    args: &[&str],
    input: &[u8],
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let url = app.state().config.database_url.as_str();
    let mut env = vec![("HELPDESK_DATABASE_URL", url)];
    env.extend_from_slice(extra_env);
    pipe(app.dir.path(), args, input, &env)
}

fn pipe(
    data_dir: &Path,
    args: &[&str],
    input: &[u8],
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    use std::io::Write;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_helpdesk-server"));
    cmd.arg("ingest-email")
        .args(args)
        .env("HELPDESK_DATA_DIR", data_dir)
        .env_remove("HELPDESK_DATABASE_URL")
        .env("HELPDESK_MAIL_REQUIRE_AUTH", "0")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // An empty value removes the variable (RUST_LOG: the pipe's own default, as under an MTA).
    for (k, v) in extra_env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

// The pipe runs as a child process and blocks this thread while it works: the server under test
// needs threads of its own meanwhile, or a transaction it had open would hold the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipe_command_exits_0_once_recorded_and_75_when_it_cannot_record() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let raw = load_fixture("new-generic-subject.eml", &vars);

    let out = pipe_to(&app, &["--to", "HD@smacloud.it"], &raw, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("new ticket"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same message again is taken, once.
    let out = pipe_to(&app, &["--to", "hd@smacloud.it"], &raw, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate"));
    // A recipient that is not an intake address is recorded as refused: still exit 0.
    let wrong = load_fixture("new-specific-subject.eml", &vars);
    let out = pipe_to(&app, &["--to", "info@smacloud.it"], &wrong, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_recipient"));

    // Nowhere to record it: 75, so that the MTA keeps the message and tries again.
    let out = pipe(
        Path::new("/proc/helpdesk-cannot-write-here"),
        &[],
        &raw,
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pipe_to(&app, &[], &raw, &[("HELPDESK_MAIL_REQUIRE_AUTH", "maybe")]);
    assert_eq!(
        out.status.code(),
        Some(75),
        "a bad setting is temporary for the MTA"
    );
    app.stop().await;
}

/// The pipe's stderr, checked to be plain text (no ANSI colour codes: its output ends up in the
/// MTA's log) and its stdout empty.
fn plain_output(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stdout.is_empty(), "stdout: {stdout}");
    assert!(!stderr.contains("\x1b["), "colour codes: {stderr:?}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipe_prints_one_plain_line_per_message() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let raw = load_fixture("new-generic-subject.eml", &vars);
    let wrong = load_fixture("new-specific-subject.eml", &vars);

    // Without RUST_LOG, as under Postfix's pipe(8): the outcome alone, on one line.
    let out = pipe_to(&app, &["--to", "hd@smacloud.it"], &raw, &[("RUST_LOG", "")]);
    assert_eq!(out.status.code(), Some(0));
    let text = plain_output(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    let (head, what) = text.trim_end().split_once(": ").expect("id: outcome");
    let id = head.strip_prefix("accepted ").expect("accepted <id>");
    assert!(
        !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{text}"
    );
    assert!(what.starts_with("new ticket "), "{text}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_intake WHERE id = $1")
        .bind(id)
        .fetch_one(&app.sql().await)
        .await
        .unwrap();
    assert_eq!(n, 1, "the line names the intake record");

    let out = pipe_to(
        &app,
        &["--to", "info@smacloud.it"],
        &wrong,
        &[("RUST_LOG", "")],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = plain_output(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("refused ") && text.contains(": unknown_recipient"),
        "{text}"
    );

    // Logs asked for: more lines, none coloured, since standard error is not a terminal.
    let third = load_fixture("new-two-services.eml", &vars);
    let out = pipe_to(
        &app,
        &["--to", "hd@smacloud.it"],
        &third,
        &[("RUST_LOG", "info")],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = plain_output(&out);
    assert!(text.contains("e-mail accepted"), "{text}");
    assert!(
        text.lines().last().unwrap_or("").starts_with("accepted "),
        "{text}"
    );

    // Nowhere to record it: 75, and one plain line saying why.
    let out = pipe(
        Path::new("/proc/helpdesk-cannot-write-here"),
        &[],
        &raw,
        &[("RUST_LOG", "")],
    );
    assert_eq!(out.status.code(), Some(75));
    let text = plain_output(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("error: message not recorded"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn signed_mail_is_marked_signed_in_the_api_and_its_signature_is_no_file() {
    let app = spawn_mail_app().await;
    let vars = vars(&app).await;
    let config = app.state().config.clone();
    let token = app.login("demo@example.it").await;
    for (fixture, signature) in [
        ("signed-smime.eml", "smime.p7s"),
        ("signed-pgp.eml", "signature.asc"),
    ] {
        let got = ingest_with(&app, &config, load_fixture(fixture, &vars)).await;
        let code = match got.outcome {
            Outcome::NewTicket { code } | Outcome::Reply { code, .. } => code,
            other => panic!("{fixture}: {other:?}"),
        };
        let t: Value = app
            .get_json(&token, &format!("/api/v1/tickets/{code}"))
            .await;
        let messages: Vec<&Value> = t["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter(|m| m["kind"] == "message")
            .collect();
        let (last, earlier) = messages.split_last().expect("a message");
        assert_eq!(last["signed"], true, "{fixture}: {last}");
        // Unsigned messages leave the flag out.
        assert!(
            earlier.iter().all(|m| m.get("signed").is_none()),
            "{fixture}: {earlier:?}"
        );
        assert!(
            !t.to_string().contains(signature),
            "{fixture}: the thread names {signature}: {t}"
        );
    }
    // No file was stored for either signature.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM files WHERE name IN ('smime.p7s', 'signature.asc')
                OR content_type LIKE '%signature%'"
        )
        .await,
        0
    );
    app.stop().await;
}

async fn spawn_smtp_app() -> (TestApp, u16) {
    let app = spawn_with(|c| {
        c.mail_require_auth = false;
        c.smtp_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let port = app
        .running
        .as_ref()
        .unwrap()
        .smtp_addr
        .expect("SMTP listening")
        .port();
    (app, port)
}

/// The intake record's id, which the listener's 250 names last.
fn intake_id(res: &lettre::transport::smtp::response::Response) -> String {
    let line = res.message().next().expect("a message");
    line.split_whitespace().last().expect("an id").to_string()
}

fn smtp_client(port: u16) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .timeout(Some(Duration::from_secs(30)))
        .build()
}

fn envelope(from: Option<&str>, to: &str) -> lettre::address::Envelope {
    lettre::address::Envelope::new(from.map(|f| f.parse().unwrap()), vec![to.parse().unwrap()])
        .unwrap()
}

#[tokio::test]
async fn a_message_sent_over_smtp_opens_a_ticket_and_is_committed_before_the_250() {
    let (app, port) = spawn_smtp_app().await;
    let client = smtp_client(port);
    let msg = lettre::Message::builder()
        .from("Mario Rossi <demo@example.it>".parse().unwrap())
        .to("hd@smacloud.it".parse().unwrap())
        .subject("Errore 500 su blog-mario.it — inviato via SMTP")
        .body(
            "Da stamattina il blog risponde con errore 500.\n.\n..riga che inizia con due punti"
                .to_string(),
        )
        .unwrap();
    let res = client.send(msg).await.expect("250");
    assert_eq!(res.code().to_string(), "250");
    let id = intake_id(&res);
    // Recorded by the time the client hears 250.
    let (outcome, _, code) = app
        .state()
        .store
        .intake_record(&id)
        .await
        .unwrap()
        .expect("recorded before the 250");
    assert_eq!(outcome, "accepted");
    let t = app
        .state()
        .store
        .ticket(Viewer::Staff, &code.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.service.unwrap().identifier, "blog-mario.it");
    assert_eq!(t.priority, Priority::Low);
    assert!(
        t.messages[0].body.contains("\n.\n..riga"),
        "dot-stuffing undone: {}",
        t.messages[0].body
    );

    // Recipients other than the two intake addresses are refused at RCPT.
    let err = client
        .send_raw(
            &envelope(Some("demo@example.it"), "info@smacloud.it"),
            b"Subject: x\r\n\r\ny\r\n",
        )
        .await
        .expect_err("refused");
    assert!(err.is_permanent(), "{err}");

    // A bounce (empty return path) is taken and recorded, never answered.
    let bounce = b"From: MAILER-DAEMON@mx.example.it\r\nTo: hd@smacloud.it\r\nSubject: Undelivered Mail\r\nMessage-ID: <b1@mx.example.it>\r\n\r\nfailed\r\n";
    let res = client
        .send_raw(&envelope(None, "sales@smacloud.it"), bounce)
        .await
        .expect("bounce taken");
    let id = intake_id(&res);
    let (outcome, reason, _) = app.state().store.intake_record(&id).await.unwrap().unwrap();
    assert_eq!(
        (outcome.as_str(), reason.as_deref()),
        ("refused", Some("automatic"))
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NULL").await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn every_corpus_message_sent_over_smtp_gets_a_250_and_a_record() {
    let (app, port) = spawn_smtp_app().await;
    let client = smtp_client(port);
    let mut n = 0;
    for path in corpus_messages() {
        let raw = std::fs::read(&path).unwrap();
        // On the wire every line ends in CRLF.
        let mut wire = Vec::with_capacity(raw.len() + 64);
        for (i, &b) in raw.iter().enumerate() {
            if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
                wire.push(b'\r');
            }
            wire.push(b);
        }
        let res = tokio::time::timeout(
            Duration::from_secs(30),
            client.send_raw(
                &envelope(Some("sender@corpus.example"), "hd@smacloud.it"),
                &wire,
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("{} hung", path.display()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(res.code().to_string(), "250", "{}", path.display());
        n += 1;
    }
    let recorded = count(
        &app,
        "SELECT COUNT(*) FROM mail_intake WHERE outcome != 'processing'",
    )
    .await;
    assert!(
        recorded as usize <= n && recorded as usize >= n - 10,
        "{recorded} of {n} (duplicates of a Message-ID are taken once)"
    );
    app.stop().await;
}

/// A listener with sender authentication on, answering DNS only from pre-loaded records.
async fn spawn_authenticating_listener(app: &TestApp, auth: SenderAuth) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = app.state().clone();
    let shutdown = app.running.as_ref().unwrap().shutdown.clone();
    tokio::spawn(mail::smtp::serve(
        listener,
        state,
        Some(Arc::new(auth)),
        Default::default(),
        shutdown,
    ));
    port
}

#[tokio::test]
async fn over_smtp_only_mail_passing_spf_or_dkim_for_the_from_domain_counts() {
    use mail_auth::common::crypto::Ed25519Key;
    use mail_auth::common::headers::HeaderWriter;
    use mail_auth::dkim::DkimSigner;

    let app = spawn_with(|c| c.mail_require_auth = true).await;
    let store = &app.state().store;
    let import = serde_json::from_value(serde_json::json!({
        "email": "cliente@negozio.example", "name": "Negozio", "password_hash": "x",
        "services": [{"id": "s1", "family": "hosting_shared", "product": "Hosting Pro", "identifier": "negozio.example"}]
    }))
    .unwrap();
    store.upsert_account(&import).await.unwrap();

    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    let auth = SenderAuth::offline("helpdesk.smacloud.it").unwrap();
    auth.preload_txt(
        "sel._domainkey.example.it",
        &format!("v=DKIM1; k=ed25519; p={public}"),
    )
    .unwrap();
    auth.preload_txt("example.it", "v=spf1 ip4:192.0.2.1 -all")
        .unwrap();
    auth.preload_txt("negozio.example", "v=spf1 ip4:127.0.0.1 -all")
        .unwrap();
    auth.preload_txt("evil.example", "v=spf1 ip4:127.0.0.1 -all")
        .unwrap();
    let port = spawn_authenticating_listener(&app, auth).await;
    let client = smtp_client(port);
    let send = |from: &'static str, raw: Vec<u8>| {
        let client = client.clone();
        async move {
            let res = client
                .send_raw(&envelope(Some(from), "hd@smacloud.it"), &raw)
                .await
                .expect("taken");
            intake_id(&res)
        }
    };
    let outcome = |id: String| async move { store.intake_record(&id).await.unwrap().unwrap() };

    // DKIM-signed by example.it (SPF fails: 127.0.0.1 is not allowed): counts.
    let body = "From: demo@example.it\r\nTo: hd@smacloud.it\r\nSubject: Errore 500 su blog-mario.it (firmato)\r\nMessage-ID: <signed@example.it>\r\n\r\nFirmato DKIM.\r\n";
    let signature = DkimSigner::from_key(key)
        .domain("example.it")
        .selector("sel")
        .headers(["From", "To", "Subject", "Message-ID"])
        .sign(body.as_bytes())
        .unwrap();
    let signed = format!("{}{body}", signature.to_header());
    let (o, r, _) = outcome(send("demo@example.it", signed.clone().into_bytes()).await).await;
    assert_eq!((o.as_str(), r), ("accepted", None));

    // The same signed message altered on the way: the signature breaks, SPF fails: quarantined.
    let tampered = signed
        .replace("Firmato DKIM.", "Cancellate tutto.")
        .replace("<signed@", "<tampered@");
    let (o, r, _) = outcome(send("demo@example.it", tampered.into_bytes()).await).await;
    assert_eq!(
        (o.as_str(), r.as_deref()),
        ("refused", Some("unauthenticated"))
    );

    // No signature, SPF passes for the envelope's domain, which is the From domain: counts.
    let spf_ok = b"From: cliente@negozio.example\r\nTo: hd@smacloud.it\r\nSubject: Sito negozio.example lento\r\nMessage-ID: <spf@negozio.example>\r\n\r\nLento.\r\n";
    let (o, _, _) = outcome(send("bounce@negozio.example", spf_ok.to_vec()).await).await;
    assert_eq!(o, "accepted");

    // SPF passes, but for another domain than From's (a spoofer's own domain): quarantined, unanswered.
    let spoof = b"From: demo@example.it\r\nTo: hd@smacloud.it\r\nSubject: Errore 500 su blog-mario.it\r\nMessage-ID: <spoof@evil.example>\r\n\r\nx\r\n";
    let (o, r, _) = outcome(send("attacker@evil.example", spoof.to_vec()).await).await;
    assert_eq!(
        (o.as_str(), r.as_deref()),
        ("refused", Some("unauthenticated"))
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NULL").await,
        0,
        "quarantine is never answered"
    );
    app.stop().await;
}

// ----- measurements (not in the normal run) -----
//
// cargo test --profile server -p helpdesk-server --test api -- --ignored --nocapture --test-threads 1 mail_bench

fn vm_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn bench_message(i: usize, attachment: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Mario Rossi <demo@example.it>\r\nTo: hd@smacloud.it\r\nSubject: Errore 500 su blog-mario.it n. {i}\r\n\
         Message-ID: <bench-{i}-{attachment}@example.it>\r\nMIME-Version: 1.0\r\n"
    );
    if attachment == 0 {
        m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\nDa stamattina il blog risponde con errore 500.\r\n");
    } else {
        m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nlog allegato\r\n\
             --b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"log.bin\"\r\n\r\n{}\r\n--b--\r\n",
            base64_lines(attachment)
        ));
    }
    m.into_bytes()
}

/// A bare SMTP client for the measurements: one connection, `TCP_NODELAY` (lettre's client leaves
/// Nagle on, and its 40 ms waits for delayed ACKs would be measured instead of the server).
struct BenchClient {
    r: tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    line: String,
}

impl BenchClient {
    async fn connect(port: u16) -> Self {
        let s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.set_nodelay(true).unwrap();
        let (r, w) = s.into_split();
        let mut c = BenchClient {
            r: tokio::io::BufReader::new(r),
            w,
            line: String::new(),
        };
        assert_eq!(c.reply().await, 220);
        c.command("EHLO bench.example\r\n", 250).await;
        c
    }

    /// The code of the next (possibly multi-line) reply.
    async fn reply(&mut self) -> u16 {
        use tokio::io::AsyncBufReadExt;
        loop {
            self.line.clear();
            self.r.read_line(&mut self.line).await.unwrap();
            if self.line.as_bytes().get(3) != Some(&b'-') {
                return self.line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            }
        }
    }

    async fn command(&mut self, cmd: &str, want: u16) {
        use tokio::io::AsyncWriteExt;
        self.w.write_all(cmd.as_bytes()).await.unwrap();
        assert_eq!(self.reply().await, want, "{cmd}: {}", self.line);
    }

    async fn send(&mut self, raw: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.command("MAIL FROM:<demo@example.it>\r\n", 250).await;
        self.command("RCPT TO:<hd@smacloud.it>\r\n", 250).await;
        self.command("DATA\r\n", 354).await;
        let mut data = Vec::with_capacity(raw.len() + 8);
        for line in raw.split_inclusive(|&b| b == b'\n') {
            if line.first() == Some(&b'.') {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        data.extend_from_slice(b".\r\n");
        self.w.write_all(&data).await.unwrap();
        assert_eq!(self.reply().await, 250, "{}", self.line);
    }
}

/// Sends `per_connection` messages on each of `connections` SMTP connections at once.
async fn blast(
    port: u16,
    connections: usize,
    per_connection: usize,
    attachment: usize,
) -> (usize, Duration) {
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        tasks.spawn(async move {
            let mut client = BenchClient::connect(port).await;
            for k in 0..per_connection {
                client
                    .send(&bench_message(c * 1_000_000 + k, attachment))
                    .await;
            }
            client.command("QUIT\r\n", 221).await;
            per_connection
        });
    }
    let mut sent = 0;
    while let Some(n) = tasks.join_next().await {
        sent += n.unwrap();
    }
    (sent, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn mail_bench_smtp_throughput_with_several_connections() {
    let (app, port) = spawn_smtp_app().await;
    blast(port, 2, 20, 0).await; // warm up
    for connections in [1, 4, 16] {
        let (n, took) = blast(port, connections, 2000 / connections, 0).await;
        eprintln!(
            "SMTP, {connections} connection(s), small new-ticket messages: {n} in {:.2} s = {:.0} messages/s",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64()
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn mail_bench_resident_memory_while_ingesting_1mb_messages() {
    let (app, port) = spawn_smtp_app().await;
    let before = vm_kib("VmRSS:");
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampler = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(vm_kib("VmRSS:"), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // 1,000,000 bytes of attachment: accepted; and 1,048,577: refused as too large.
    let (n, took) = blast(port, 8, 25, 1_000_000).await;
    let (m, took2) = blast(port, 8, 25, 1_048_577).await;
    sampler.abort();
    eprintln!(
        "SMTP, 8 connections, 1 MB attachments: {n} accepted in {:.2} s ({:.0}/s), {m} refused as too large in {:.2} s ({:.0}/s); \
         resident memory of the test process (server and clients): {} MiB before, {} MiB peak",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        took2.as_secs_f64(),
        m as f64 / took2.as_secs_f64(),
        before / 1024,
        peak.load(std::sync::atomic::Ordering::Relaxed) / 1024
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn mail_bench_pipe_throughput_one_process_a_message() {
    let app = spawn_mail_app().await;
    let dir = app.dir.path().to_path_buf();
    let count = 100;
    let started = std::time::Instant::now();
    for i in 0..count {
        let out = pipe_to(&app, &["--to", "hd@smacloud.it"], &bench_message(i, 0), &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let took = started.elapsed();
    eprintln!(
        "pipe, one process a message, small messages: {count} in {:.2} s = {:.1} messages/s",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
    // The peak resident memory of one pipe process taking a 1 MB message.
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(env!("CARGO_BIN_EXE_helpdesk-server"))
        .args(["ingest-email", "--to", "hd@smacloud.it"])
        .env("HELPDESK_DATA_DIR", &dir)
        .env("HELPDESK_MAIL_REQUIRE_AUTH", "0")
        .env("RUST_LOG", "error")
        .stdin(
            std::fs::File::open({
                let p = dir.join("bench-1mb.eml");
                std::fs::write(&p, bench_message(999_999, 1_000_000)).unwrap();
                p
            })
            .unwrap(),
        )
        .output();
    if let Ok(out) = out {
        let err = String::from_utf8_lossy(&out.stderr);
        eprintln!(
            "pipe, one 1 MB message: exit {:?}, peak resident memory {} KiB",
            out.status.code(),
            err.trim().lines().last().unwrap_or("?")
        );
    }
    app.stop().await;
}
