//! Attachments through the real server: a ticket opened with two files that come back
//! byte-identical, and a large upload cancelled while it is sent.

use crate::wizard::{next, subject_to_attachments, to_subject_step};
use helpdesk_e2e::{start, Env};
use serde_json::{json, Value};

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

async fn to_attachments_step(env: &Env) {
    to_subject_step(env).await;
    subject_to_attachments(env).await;
}

/// Throttles the browser's uploads (bytes per second), through chromedriver.
async fn throttle_uploads(env: &Env, bytes_per_second: u64) {
    let sid = env.browser.session_id().await.unwrap().expect("a session");
    let status = reqwest::Client::new()
        .post(format!(
            "{}/session/{sid}/chromium/network_conditions",
            env.webdriver
        ))
        .json(&json!({"network_conditions": {
            "offline": false, "latency": 0,
            "download_throughput": 100_000_000, "upload_throughput": bytes_per_second
        }}))
        .send()
        .await
        .expect("chromedriver answers")
        .status();
    assert!(status.is_success(), "network conditions refused: {status}");
}

#[tokio::test]
async fn a_ticket_is_opened_with_two_attachments_that_download_byte_identical() {
    let env = start().await;
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("schermata-errore.png");
    let log = dir.path().join("error.log");
    let log_text =
        "[25-Nov-2026 09:00:01] PHP Fatal error: Uncaught Error in wp-content/plugins/x.php:42\n"
            .repeat(40);
    std::fs::write(&png, PNG).unwrap();
    std::fs::write(&log, &log_text).unwrap();

    to_attachments_step(&env).await;
    let input = env.file_picker().await;
    input
        .send_keys(&format!("{}\n{}", png.display(), log.display()))
        .await
        .expect("files set on the input");
    env.until("both uploads at 100 %",
        "const ps = allByRole('progressbar');
         const rows = allByRole('listitem').filter(li => /schermata-errore\\.png|error\\.log/.test(li.textContent));
         return ps.length === 2 && ps.every(p => p.max > 0 && p.value === p.max)
             && rows.length === 2 && rows.every(li => li.innerText.includes('Caricato'));",
    )
    .await;
    let list = env.wait_in("list", "error.log").await;
    assert!(list.contains("schermata-errore.png"), "{list}");
    // The image shows a thumbnail from an object URL.
    // The thumbnail is decorative (alt=""), so it has no role: found as the row's image.
    let thumb = env
        .js("return allByRole('listitem').find(li => li.textContent.includes('schermata-errore.png')) \
             .querySelector('img').src")
        .await;
    assert!(thumb.as_str().unwrap_or("").starts_with("blob:"), "{thumb}");

    next(&env).await;
    let review = env.wait_in("main", "Passo 7 di 7").await;
    assert!(
        review.contains("schermata-errore.png") && review.contains("error.log"),
        "{review}"
    );
    next(&env).await;
    let code = env
        .find("[data-testid=ticket-code]")
        .await
        .text()
        .await
        .unwrap();

    // On the server: the ticket has both files, and they come back as they were sent.
    let api = format!("{}/api/v1", env.base);
    let http = reqwest::Client::new();
    let token = &env.api_token("demo@example.it").await;
    let ticket: Value = http
        .get(format!("{api}/tickets/{code}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attachments: Vec<&Value> = ticket["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attachments"].as_array().into_iter().flatten())
        .collect();
    let mut names: Vec<&str> = attachments
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["error.log", "schermata-errore.png"]);
    for (name, bytes) in [
        ("schermata-errore.png", PNG),
        ("error.log", log_text.as_bytes()),
    ] {
        let a = attachments.iter().find(|a| a["name"] == name).unwrap();
        let got = http
            .get(format!("{api}/attachments/{}", a["id"].as_str().unwrap()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&got[..], bytes, "{name} comes back byte-identical");
    }

    // On the ticket's page the image shows a preview (fetched with the token, never by URL); the
    // log does not.
    env.goto(&format!("/tickets/{code}")).await;
    env.until(
        "the image's preview shown",
        "const img = byRole('img', 'schermata-errore.png', byRole('region', 'Conversazione'));
         return !!img && img.naturalWidth > 0 && img.src.startsWith('blob:');",
    )
    .await;
    let previews = env
        .js("return allByRole('img', null, byRole('region', 'Conversazione')).length")
        .await;
    assert_eq!(previews, 1, "only the image has a preview");
    env.stop().await;
}

#[tokio::test]
async fn a_large_upload_cancelled_while_in_progress_disappears_and_the_wizard_goes_on() {
    let env = start().await;
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("backup-grande.log");
    std::fs::write(&big, "riga di log ripetuta\n".repeat(9 * 1024 * 1024 / 21)).unwrap();

    to_attachments_step(&env).await;
    // Slow enough that the upload is still going when the customer cancels it.
    throttle_uploads(&env, 400_000).await;
    env.file_picker()
        .await
        .send_keys(&big.display().to_string())
        .await
        .expect("file set on the input");
    env.until(
        "the progress bar moving",
        "const p = byRole('progressbar', 'backup-grande.log');
         return !!p && p.value > 0 && p.value < p.max;",
    )
    .await;
    // While it uploads, the wizard waits and says why.
    next(&env).await;
    env.wait_in("alert", "Attendi la fine del caricamento")
        .await;
    env.click_role("button", "Annulla backup-grande.log").await;
    env.until(
        "the cancelled upload disappearing",
        "return !byRole('main').textContent.includes('backup-grande.log')",
    )
    .await;
    throttle_uploads(&env, 100_000_000).await;
    // Nothing is pending any more: Next works again.
    next(&env).await;
    env.wait_in("main", "Passo 7 di 7").await;
    env.stop().await;
}
