//! A write whose answer does not come: held in the browser with DevTools' `Fetch` domain (at the
//! response, so the server has done the write), the page says after a few seconds that it takes
//! longer than usual and offers to send it again or to keep waiting; sending again reuses the
//! `Idempotency-Key`, so there is still exactly one reply, or one ticket.

use crate::session::seed_wizard_draft;
use helpdesk_e2e::{start, start_in, Env};
use serde_json::{json, Value};

/// Holds the answers to requests whose address matches `pattern` (the requests reach the server).
async fn hold_answers(env: &Env, pattern: &str) {
    env.cdp(
        "Fetch.enable",
        json!({"patterns": [{"urlPattern": pattern, "requestStage": "Response"}]}),
    )
    .await;
}

/// Holds no new request (an answer held already stays held until the page gives it up).
async fn hold_no_more(env: &Env) {
    env.cdp(
        "Fetch.enable",
        json!({"patterns": [{"urlPattern": "*/no-request-has-this-address"}]}),
    )
    .await;
}

/// Waits (up to 20 s, more than the 8 s the page waits) for the slow notice saying `text`.
async fn notice_says(env: &Env, text: &str) {
    env.until(
        &format!("the notice {text:?}"),
        &format!("return allByRole('status').some(s => s.textContent.includes({text:?}))"),
    )
    .await;
}

/// The notice's button labelled `text`, clicked as a user would.
async fn click_notice_button(env: &Env, text: &str) {
    env.click_role("button", text).await;
}

async fn get_json(env: &Env, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(env.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_slow_reply_can_be_waited_for_or_sent_again_and_is_added_once() {
    let env = start().await;
    let code = env
        .open_ticket(
            "Errore 500 sulla home di blog-mario.it",
            "Da stamattina la home risponde 500; le altre pagine funzionano.",
        )
        .await;
    let token = env.api_token("demo@example.it").await;
    let mine = |t: &Value, body: &str| {
        t["messages"]
            .as_array()
            .map(|m| m.iter().filter(|m| m["body"] == body).count())
            .unwrap_or(0)
    };
    env.login("demo@example.it").await;
    env.goto(&format!("/tickets/{code}")).await;
    env.by_label("La tua risposta").await;

    hold_answers(&env, "*/messages").await;
    let body = "Ecco il log del backup di stanotte.";
    env.fill_label("La tua risposta", body).await;
    env.click_role("button", "Invia risposta").await;
    notice_says(&env, "Ci sta mettendo più del solito").await;
    // The send button says the reply is on its way.
    env.by_role("button", "Invio…").await;
    // The server has the reply already: only its answer is missing.
    let ticket = get_json(&env, &token, &format!("/api/v1/tickets/{code}")).await;
    assert_eq!(mine(&ticket, body), 1);

    // Waiting: the choice goes, the focus on the sentence that says so; it comes back later.
    click_notice_button(&env, "Continua ad attendere").await;
    notice_says(&env, "Ancora in attesa della risposta").await;
    env.until(
        "the focus on the notice's sentence",
        "return document.activeElement.getAttribute('role') === 'status' \
         && document.activeElement.textContent.includes('Ancora in attesa della risposta')",
    )
    .await;
    assert_eq!(
        env.js("return [byRole('button', 'Riprova'), byRole('button', 'Continua ad attendere')]")
            .await,
        json!([null, null])
    );
    notice_says(&env, "Ci sta mettendo più del solito").await;

    // Sending again: the same key, so the server answers with the reply it has.
    hold_no_more(&env).await;
    click_notice_button(&env, "Riprova").await;
    env.until(
        "the reply is shown as sent, once",
        &format!(
            "const items = allByRole('listitem', null, byRole('region', 'Conversazione')) \
             .filter(li => li.textContent.includes({body:?})); \
             return items.length === 1 && !items[0].textContent.includes('Invio…') \
             && byRole('button', 'Invia risposta') !== null \
             && !allByRole('status').some(s => /Ci sta mettendo|Ancora in attesa/.test(s.textContent))"
        ),
    )
    .await;
    let ticket = get_json(&env, &token, &format!("/api/v1/tickets/{code}")).await;
    assert_eq!(mine(&ticket, body), 1, "exactly one reply");
    env.cdp("Fetch.disable", json!({})).await;
    env.stop().await;
}

#[tokio::test]
async fn a_slow_new_ticket_sent_again_opens_one_ticket_in_english() {
    let env = start_in("en-GB", |_| {}).await;
    env.login("demo@example.it").await;
    let subject = "Error 500 on the home page of blog-mario.it after the plugin update";
    seed_wizard_draft(&env, "Review", subject).await;
    env.goto("/nuovo").await;
    env.wait_in("main", "Step 7 of 7").await;
    let token = env.api_token("demo@example.it").await;
    let with_subject = |list: &Value| {
        list["items"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|t| t["subject"] == subject)
                    .filter_map(|t| t["code"].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };

    hold_answers(&env, "*/api/v1/tickets").await;
    env.click_role("button", "Send the request").await;
    notice_says(&env, "This is taking longer than usual").await;
    let list = get_json(&env, &token, "/api/v1/tickets").await;
    assert_eq!(with_subject(&list).len(), 1, "the server has the ticket");

    hold_no_more(&env).await;
    click_notice_button(&env, "Try again").await;
    let list = get_json(&env, &token, "/api/v1/tickets").await;
    let codes = with_subject(&list);
    assert_eq!(codes.len(), 1, "exactly one ticket: {codes:?}");
    env.wait_in("main", &codes[0]).await;
    let list = get_json(&env, &token, "/api/v1/tickets").await;
    assert_eq!(with_subject(&list).len(), 1, "still one ticket");
    env.cdp("Fetch.disable", json!({})).await;
    env.stop().await;
}
