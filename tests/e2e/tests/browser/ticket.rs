use helpdesk_e2e::{server_bin, start};
use std::time::Duration;

// The command runs as a child process and blocks this thread while it works: the server under
// test needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reply_through_the_command_shows_in_the_customers_page_and_is_mailed() {
    let env = start().await;
    let code = env
        .open_ticket(
            "Errore 500 sulla home di pizzeria-da-mario.it",
            "Da stamattina la home risponde 500; le altre pagine funzionano.",
        )
        .await;
    env.login("demo@example.it").await;
    env.goto(&format!("/tickets/{code}")).await;
    env.wait_in("main", &code).await;

    let body = env.data_dir.path().join("reply.txt");
    std::fs::write(
        &body,
        "Abbiamo ripristinato il file index.php: ora la home risponde.",
    )
    .unwrap();
    let out = std::process::Command::new(server_bin())
        .args([
            "staff",
            "reply",
            &code,
            "--as",
            "staff@example.it",
            "--body-file",
        ])
        .arg(&body)
        .env("HELPDESK_DATA_DIR", env.data_dir.path())
        .env("HELPDESK_SMTP_BIND", "off")
        .output()
        .expect("helpdesk-server runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    env.browser.refresh().await.unwrap();
    let thread = env
        .wait_in("region", "ripristinato il file index.php")
        .await;
    assert!(thread.contains("Giulia (Assistenza)"), "{thread}");
    env.wait_in("main", "in attesa di una tua risposta").await;

    // The notification is in the outbox, subject with the code, from the technical intake.
    let mut mail = None;
    for _ in 0..100 {
        let found = std::fs::read_dir(env.data_dir.path().join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|m| m.contains("ripristinato il file index.php"));
        if found.is_some() {
            mail = found;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = mail.expect("the staff reply is mailed");
    assert!(
        mail.contains(&format!(
            "Subject: [#{code}]: Errore 500 sulla home di pizzeria-da-mario.it"
        )),
        "{mail}"
    );
    assert!(mail.contains("From: Assistenza <hd@smacloud.it>"), "{mail}");
    assert!(mail.contains("In-Reply-To: <"), "{mail}");
    env.stop().await;
}

#[tokio::test]
async fn markup_in_a_ticket_shows_as_text_and_never_runs() {
    let env = start().await;
    let payload = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";
    let code = env
        .open_ticket(
            &format!("Errore 500 {payload}"),
            &format!("La pagina mostra {payload} invece del contenuto, da ieri sera."),
        )
        .await;
    env.login("demo@example.it").await;
    env.goto(&format!("/tickets/{code}")).await;
    let thread = env.wait_in("region", "invece del contenuto").await;
    assert!(
        thread.contains("<script>"),
        "the markup is shown as text: {thread}"
    );
    let ran = env
        // On purpose by tag: no image or script may come out of the message's text.
        .js("return [window.__xss || 0, byRole('main').querySelectorAll('img, script').length]")
        .await;
    assert_eq!(ran, serde_json::json!([0, 0]));
    env.stop().await;
}

#[tokio::test]
async fn a_customer_replies_closes_and_reopens_from_the_page() {
    let env = start().await;
    let code = env
        .open_ticket(
            "Certificato SSL scaduto su pizzeria-da-mario.it",
            "Il browser segnala il certificato scaduto da stamattina.",
        )
        .await;
    env.login("demo@example.it").await;
    env.goto(&format!("/tickets/{code}")).await;
    env.fill_label(
        "La tua risposta",
        "Aggiungo: succede anche su www.pizzeria-da-mario.it",
    )
    .await;
    // With a log attached through the same component as the wizard's.
    let log = env.data_dir.path().join("browser.log");
    std::fs::write(
        &log,
        "NET::ERR_CERT_DATE_INVALID www.pizzeria-da-mario.it\n",
    )
    .unwrap();
    env.file_picker()
        .await
        .send_keys(&log.display().to_string())
        .await
        .unwrap();
    env.by_role("progressbar", "browser.log").await;
    for _ in 0..100 {
        let done = env
            .js("const p = byRole('progressbar', 'browser.log'); return !p || p.value === p.max;")
            .await;
        if done == serde_json::Value::Bool(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    env.click_role("button", "Invia risposta").await;
    env.wait_in("region", "anche su www.pizzeria-da-mario.it")
        .await;
    // The reply and its file reached the server: they are there after a reload.
    env.browser.refresh().await.unwrap();
    let thread = env
        .wait_in("region", "anche su www.pizzeria-da-mario.it")
        .await;
    assert!(thread.contains("browser.log"), "{thread}");
    env.click_role("button", "Chiudi il ticket").await;
    env.wait_in("main", "chiuso").await;
    env.wait_in("main", "rispondendo lo riaprirai").await;
    env.click_role("button", "Riapri il ticket").await;
    env.by_role("button", "Chiudi il ticket").await;
    env.wait_in("main", "aperto").await;
    env.stop().await;
}
