//! Bounces of our notifications (issue 21) as the customer sees them: a notice on every page
//! while our e-mails to their address come back, gone once they write to us again or press
//! "Ho risolto, riprova" (which has the server send one test e-mail).

use crate::accessibility::violations;
use helpdesk_e2e::{start_with, start_with_panel_and, Env};
use helpdesk_server::mail::{ingest, AuthSource, Envelope, Ingested, Outcome};
use std::time::{Duration, Instant};

const DEMO: &str = "demo@example.it";
/// The notice, found as a screen reader lists it: the region named by its heading (in either
/// language), or null.
const NOTICE: &str = "(byRole('region', 'Le nostre e-mail non ti arrivano') \
                      || byRole('region', 'Our e-mails are not reaching you'))";

/// The server, with the intake taking mail without an authentication verdict (the messages
/// below are written here, not received through a relay that checks them).
async fn start() -> Env {
    start_with(|c| c.mail_require_auth = false).await
}

/// Hands a message to the server's intake, as its SMTP listener or pipe would.
async fn deliver(env: &Env, raw: String) -> Ingested {
    let state = &env.server.as_ref().expect("running").state;
    let envelope = Envelope {
        recipients: vec!["hd@smacloud.it".into()],
        return_path: None,
        auth: AuthSource::Headers,
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        ingest(
            &state.store,
            &state.config,
            raw.into_bytes(),
            true,
            envelope,
        ),
    )
    .await
    .expect("ingestion finished in time")
    .expect("ingestion recorded the message")
}

/// The e-mails the outbox worker wrote (no relay: one `.eml` each in the outbox folder) to the
/// demo customer that `keep` takes, once there are `at_least` of them (or after ten seconds).
async fn sent_to_demo(env: &Env, at_least: usize, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let dir = env.data_dir.path().join("outbox");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        let mine: Vec<String> = files
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|eml| {
                eml.lines()
                    .any(|l| l.starts_with("To:") && l.contains(DEMO))
            })
            .filter(|eml| keep(eml))
            .collect();
        if mine.len() >= at_least || Instant::now() > deadline {
            return mine;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The Message-ID (`<...>`) of one of our notifications to the demo customer about the ticket
/// `code`, as sent.
async fn our_message_id(env: &Env, code: &str) -> String {
    let sent = sent_to_demo(env, 1, |eml| eml.contains(code)).await;
    let eml = sent.first().expect("a notification to the demo customer");
    eml.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_string())
        })
        .expect("a Message-ID")
}

/// The delivery-status notification (RFC 3464) of the server's mail fixtures, shared with its API
/// tests: the mailbox of demo@example.it is full, and our message `returned` came back.
fn mailbox_full(returned: &str) -> String {
    include_str!("../../../../crates/server/tests/fixtures/mail/bounce-of-our-notification.eml")
        .replace("{{OUR_MESSAGE_ID}}", returned)
        .replace("{{BOUNCE_ID}}", "1")
        .replace('\n', "\r\n")
}

/// A customer with a ticket, whose address bounced the ticket's confirmation; their ticket's code.
async fn bounced_customer(env: &Env) -> String {
    let code = env
        .open_ticket(
            "Sito lento",
            "Il sito blog-mario.it è lentissimo da ieri sera.",
        )
        .await;
    let ours = our_message_id(env, &code).await;
    let i = deliver(env, mailbox_full(&ours)).await;
    assert!(
        matches!(
            i.outcome,
            Outcome::Refused {
                reason: "bounce",
                answered: false
            }
        ),
        "{i:?}"
    );
    code
}

/// Whether the notice is on screen.
async fn notice_shown(env: &Env) -> bool {
    env.js(&format!("const n = {NOTICE}; return !!n && !n.hidden"))
        .await
        == serde_json::Value::Bool(true)
}

#[tokio::test]
async fn a_bounce_shows_on_every_page_until_the_customer_writes_again() {
    let env = start().await;
    let code = bounced_customer(&env).await;
    env.login(DEMO).await;

    let text = env
        .wait_in("region", "La tua casella di posta è piena")
        .await;
    assert!(text.contains("Le nostre e-mail non ti arrivano"), "{text}");
    assert!(text.contains(DEMO), "{text}");
    assert!(text.contains(" dal "), "{text}");
    assert!(text.contains("pannello di controllo"), "{text}");
    assert!(text.contains("Ho risolto, riprova"), "{text}");
    // A region named by its heading.
    let labelled = env
        .js(&format!(
            "const n = {NOTICE}; \
             return accessibleName(n)"
        ))
        .await;
    assert_eq!(labelled, "Le nostre e-mail non ti arrivano");
    // The panel (where the address is changed) is the home of its password-reset page.
    let panel = env
        .js(&format!(
            "const a = byRole('link', 'pannello di controllo', {NOTICE}); \
             return a.textContent + ' ' + a.href"
        ))
        .await;
    assert_eq!(panel, "pannello di controllo https://panel.example/");
    let found = violations(&env, "bounce notice on the list").await;
    assert!(found.is_empty(), "{found:#?}");

    // Another page through the app's own navigation, then a ticket opened by its address.
    env.click_role("link", "Apri un ticket").await;
    env.wait_in("heading", "Apri un ticket").await;
    assert!(notice_shown(&env).await, "the notice on the wizard");
    env.goto(&format!("/tickets/{code}")).await;
    env.wait_in("heading", "Sito lento").await;
    env.wait_in("region", "La tua casella di posta è piena")
        .await;
    let found = violations(&env, "bounce notice on a ticket").await;
    assert!(found.is_empty(), "{found:#?}");

    // The customer answers the ticket by e-mail: their mailbox works again.
    let ours = our_message_id(&env, &code).await;
    let reply = format!(
        "From: Mario Rossi <{DEMO}>\r\nTo: hd@smacloud.it\r\n\
         Subject: Re: [#{code}] Sito lento\r\nMessage-ID: <reply-1@example.it>\r\n\
         In-Reply-To: {ours}\r\nReferences: {ours}\r\n\r\n\
         Ho liberato spazio nella casella. Il sito è ancora lento.\r\n"
    );
    let i = deliver(&env, reply).await;
    assert!(matches!(i.outcome, Outcome::Reply { .. }), "{i:?}");
    // Coming back to the app (a focus) reads the account again; reads closer than two seconds
    // apart are one.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    env.js("window.dispatchEvent(new Event('focus')); return true")
        .await;
    env.until(
        "the notice went away",
        &format!("const n = {NOTICE}; return !n || n.hidden"),
    )
    .await;
    // And stays away after a reload.
    env.browser.refresh().await.expect("reload");
    env.wait_in("heading", "Sito lento").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!notice_shown(&env).await, "the notice came back");
    env.stop().await;
}

/// A customer whose saved language is English (the browser is Italian, as for most customers)
/// reads the notice in English, with the reason; it goes away once they write to us again.
#[tokio::test]
async fn a_customer_in_english_reads_the_notice_in_english_until_they_write_again() {
    let env = start().await;
    let saved = reqwest::Client::new()
        .patch(env.url("/api/v1/me"))
        .bearer_auth(env.api_token(DEMO).await)
        .json(&serde_json::json!({"language": "en"}))
        .send()
        .await
        .expect("the language saved");
    assert!(saved.status().is_success(), "{}", saved.status());
    bounced_customer(&env).await;
    env.login(DEMO).await;

    let text = env
        .wait_in(
            "region",
            "Your mailbox is full: our e-mails come back to us.",
        )
        .await;
    assert!(text.contains("Our e-mails are not reaching you"), "{text}");
    assert!(text.contains(DEMO), "{text}");
    assert!(text.contains(" since "), "{text}");
    assert!(text.contains("control panel"), "{text}");
    assert!(text.contains("Fixed it, try again"), "{text}");
    for italian in ["casella", "dal ", "pannello", "riprova"] {
        assert!(!text.contains(italian), "{italian:?} in the notice: {text}");
    }
    let labelled = env
        .js(&format!(
            "const n = {NOTICE}; \
             return accessibleName(n)"
        ))
        .await;
    assert_eq!(labelled, "Our e-mails are not reaching you");
    let found = violations(&env, "bounce notice in English").await;
    assert!(found.is_empty(), "{found:#?}");

    // A new message (a new ticket) from that address: it receives mail again.
    let mail = format!(
        "From: Mario Rossi <{DEMO}>\r\nTo: hd@smacloud.it\r\n\
         Subject: Error 500 on blog-mario.it\r\nMessage-ID: <new-en-1@example.it>\r\n\r\n\
         I have freed some space in my mailbox. Since this morning blog-mario.it answers with \
         error 500.\r\n"
    );
    let i = deliver(&env, mail).await;
    assert!(matches!(i.outcome, Outcome::NewTicket { .. }), "{i:?}");
    // Coming back to the app reads the account again (reads closer than two seconds are one).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    env.js("window.dispatchEvent(new Event('focus')); return true")
        .await;
    env.until(
        "the notice went away",
        &format!("const n = {NOTICE}; return !n || n.hidden"),
    )
    .await;
    env.stop().await;
}

#[tokio::test]
async fn fixed_it_try_again_hides_the_notice_and_sends_one_test_message() {
    let env = start().await;
    bounced_customer(&env).await;
    env.login(DEMO).await;
    env.wait_in("region", "La tua casella di posta è piena")
        .await;
    let tests = |eml: &str| eml.contains("Subject: Prova di recapito");
    assert!(sent_to_demo(&env, 0, tests).await.is_empty());

    // The button is reached and pressed from the keyboard.
    let button = env.by_role("button", "Ho risolto, riprova").await;
    env.js_on(&button, "arguments[0].focus(); return true")
        .await;
    button.send_keys("\u{E007}").await.expect("Enter");
    env.wait_in("status", "Ti abbiamo inviato un messaggio di prova")
        .await;
    assert!(!notice_shown(&env).await, "the notice is still there");
    let found = violations(&env, "after the retry").await;
    assert!(found.is_empty(), "{found:#?}");

    assert_eq!(sent_to_demo(&env, 1, tests).await.len(), 1);
    // The account has no mark any more: a reload shows no notice.
    let me: serde_json::Value = reqwest::Client::new()
        .get(env.url("/api/v1/me"))
        .bearer_auth(env.api_token(DEMO).await)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["mail_delivery"], serde_json::Value::Null);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sent_to_demo(&env, 2, tests).await.len(),
        1,
        "one test message only"
    );
    env.stop().await;
}

#[tokio::test]
async fn the_notice_shows_inside_the_panels_widget_too() {
    let env = start_with_panel_and(|c| c.mail_require_auth = false).await;
    bounced_customer(&env).await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.launcher().await.click().await.expect("click");
    env.enter_widget().await;
    let text = env
        .wait_in("region", "La tua casella di posta è piena")
        .await;
    assert!(text.contains("pannello di controllo"), "{text}");
    // The customer is in the panel already: no link that would leave it.
    let links = env
        .js(&format!("return allByRole('link', null, {NOTICE}).length"))
        .await;
    assert_eq!(links, 0);
    let found = violations(&env, "bounce notice in the widget").await;
    assert!(found.is_empty(), "{found:#?}");
    env.leave_widget().await;
    env.stop().await;
}
