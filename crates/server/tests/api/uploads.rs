use crate::helpers::{error_code, spawn_app, spawn_with, TestApp};
use futures_util::StreamExt;
use helpdesk_server::storage::prelude::*;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

/// A small but real PNG (signature, IHDR, IDAT, IEND), padded with `extra` bytes of noise.
fn png(extra: usize) -> Vec<u8> {
    let mut b =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let mut x: u32 = 0x1234_5678;
    for _ in 0..extra {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b.push(x as u8);
    }
    b.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    b
}

async fn upload_as(app: &TestApp, token: &str, name: &str, mime: &str, bytes: Vec<u8>) -> Response {
    let part = Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .expect("mime");
    let form = Form::new().percent_encode_noop().part("file", part);
    app.client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload request")
}

async fn upload_ok(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    let r = upload_as(app, token, name, "application/octet-stream", bytes).await;
    assert_eq!(r.status(), StatusCode::CREATED, "upload of {name:?}");
    r.json().await.expect("json")
}

async fn open_ticket_with(app: &TestApp, token: &str, upload_ids: &[&str]) -> Response {
    let sid = app.service_id(token, "pizzeria-da-mario.it").await;
    app.post(
        token,
        "/api/v1/tickets",
        json!({
            "department": "helpdesk",
            "service_id": sid,
            "subject": "Errore 500 sulla home di pizzeria-da-mario.it",
            "description": "Da stamattina la home page risponde con errore 500; allego schermata e log.",
            "priority": "normal",
            "upload_ids": upload_ids,
        }),
    )
    .await
}

#[tokio::test]
async fn a_file_of_exactly_the_cap_is_accepted_and_one_byte_more_is_refused_leaving_nothing() {
    let app = spawn_with(|c| c.max_upload_bytes = 4096).await;
    let demo = app.login("demo@example.it").await;
    let ok = upload_ok(&app, &demo, "log.txt", vec![b'a'; 4096]).await;
    assert_eq!(ok["size"], 4096);
    assert_eq!(ok["name"], "log.txt");
    assert_eq!(ok["content_type"], "text/plain; charset=utf-8");
    assert_eq!(
        app.stored_files().await,
        vec![ok["id"].as_str().unwrap().to_string()]
    );

    let (status, code, body) =
        error_code(upload_as(&app, &demo, "log.txt", "text/plain", vec![b'a'; 4097]).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("4 KB"),
        "{body}"
    );
    // A much larger body is refused from its Content-Length, before it is read.
    let (status, _, _) =
        error_code(upload_as(&app, &demo, "big.txt", "text/plain", vec![b'a'; 300_000]).await)
            .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.stored_files().await.len(),
        1,
        "no partial file is left behind"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_chunked_upload_over_the_cap_is_cut_off_while_streaming() {
    let app = spawn_with(|c| c.max_upload_bytes = 4096).await;
    let demo = app.login("demo@example.it").await;
    // No Content-Length: the server only learns the size by reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b'x'; 1000])).collect();
    let part = Part::stream(reqwest::Body::wrap_stream(futures_util::stream::iter(
        chunks,
    )))
    .file_name("lungo.log");
    let r = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&demo)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .expect("request");
    let (status, code, _) = error_code(r).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    assert!(app.stored_files().await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn html_or_svg_renamed_png_is_refused_saying_why_and_the_client_type_is_ignored() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let html = b"<!DOCTYPE html><html><body><script>alert(document.domain)</script></body></html>"
        .to_vec();
    let (status, code, body) =
        error_code(upload_as(&app, &demo, "schermata.png", "image/png", html).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("il contenuto non è un'immagine PNG"),
        "{message}"
    );
    assert!(message.contains("HTML"), "{message}");

    let svg =
        br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#
            .to_vec();
    let (status, _, body) =
        error_code(upload_as(&app, &demo, "logo.png", "image/png", svg.clone()).await).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("SVG"),
        "{body}"
    );
    let (status, _, _) =
        error_code(upload_as(&app, &demo, "logo.svg", "image/svg+xml", svg).await).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, _) = error_code(
        upload_as(
            &app,
            &demo,
            "x.txt",
            "text/plain",
            b"<html><p>ciao".to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, _) = error_code(
        upload_as(
            &app,
            &demo,
            "setup.exe",
            "image/png",
            b"MZ\x90\0\x03\0\0\0".to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A lying Content-Type changes nothing: the bytes decide.
    let text = upload_as(&app, &demo, "nota", "image/png", b"solo testo".to_vec()).await;
    assert_eq!(text.status(), StatusCode::CREATED);
    assert_eq!(
        text.json::<Value>().await.unwrap()["content_type"],
        "text/plain; charset=utf-8"
    );
    let image = upload_as(&app, &demo, "schermata.png", "text/html", png(100)).await;
    assert_eq!(image.status(), StatusCode::CREATED);
    assert_eq!(
        image.json::<Value>().await.unwrap()["content_type"],
        "image/png"
    );
    assert_eq!(
        app.stored_files().await.len(),
        2,
        "refused files are not kept"
    );
    app.stop().await;
}

#[tokio::test]
async fn hostile_names_are_stored_harmless_and_nothing_is_written_outside_the_folder() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let long = format!("{}.txt", "x".repeat(300));
    let cases = [
        ("../../../../etc/cron.d/evil.txt", "evil.txt".to_string()),
        ("..\\..\\windows\\win.log", "win.log".to_string()),
        (
            "fattura\u{202E}txt.exe\u{202C}.txt",
            "fatturatxt.exe.txt".to_string(),
        ),
        ("..", "allegato".to_string()),
        ("", "allegato".to_string()),
        ("\u{2066}\u{2067}", "allegato".to_string()),
    ];
    for (raw, want) in &cases {
        let v = upload_ok(&app, &demo, raw, b"contenuto".to_vec()).await;
        assert_eq!(v["name"].as_str().unwrap(), want, "{raw:?}");
    }
    let v = upload_ok(&app, &demo, &long, b"contenuto".to_vec()).await;
    let name = v["name"].as_str().unwrap();
    assert!(
        name.chars().count() <= 150 && name.ends_with("xxx.txt"),
        "{name}"
    );

    // A NUL in a name is either refused cleanly or dropped from the name.
    let r = upload_as(&app, &demo, "a\0b.txt", "text/plain", b"contenuto".to_vec()).await;
    if r.status() == StatusCode::CREATED {
        assert_eq!(r.json::<Value>().await.unwrap()["name"], "ab.txt");
    } else {
        let (status, _, _) = error_code(r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    let stored = app.stored_files().await;
    assert!(stored.len() > cases.len());
    assert!(
        stored
            .iter()
            .all(|n| n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit())),
        "{stored:?}"
    );
    let data: Vec<String> = std::fs::read_dir(app.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("helpdesk.db"))
        .collect();
    let mut data = data;
    data.sort();
    assert_eq!(data, ["files", "mail", "outbox"]);
    app.stop().await;
}

#[tokio::test]
async fn an_empty_file_a_missing_file_or_extra_parts_are_refused_clearly() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let (status, _, body) =
        error_code(upload_as(&app, &demo, "vuoto.txt", "text/plain", Vec::new()).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"]["file"], "empty");

    let send = |form: Form| {
        app.client
            .post(app.url("/api/v1/uploads"))
            .bearer_auth(&demo)
            .multipart(form)
            .send()
    };
    let (status, _, body) = error_code(send(Form::new().text("altro", "x")).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"]["file"], "one_file");
    let two = Form::new()
        .part("file", Part::bytes(b"uno".to_vec()).file_name("a.txt"))
        .part("file", Part::bytes(b"due".to_vec()).file_name("b.txt"));
    let (status, _, _) = error_code(send(two).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = error_code(
        app.post(&demo, "/api/v1/uploads", json!({"file": "x"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let anonymous = app
        .client
        .post(app.url("/api/v1/uploads"))
        .multipart(Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("a.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(anonymous).await.0, StatusCode::UNAUTHORIZED);
    assert!(app.stored_files().await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn another_customers_upload_cannot_be_attached_and_their_attachment_answers_like_a_missing_one(
) {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let altro = app.login("altro@example.it").await;
    let theirs = upload_ok(
        &app,
        &altro,
        "contratto.pdf",
        b"%PDF-1.4\nsegreto\n".to_vec(),
    )
    .await;
    let their_id = theirs["id"].as_str().unwrap();

    let (status, _, body) = error_code(open_ticket_with(&app, &demo, &[their_id]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"]["upload_ids"], "upload_unavailable");

    // Unattached, and then attached to their own ticket: either way a 404 like a missing id.
    let missing = error_code(
        app.get(
            &demo,
            "/api/v1/attachments/0123456789abcdef0123456789abcdef",
        )
        .await,
    )
    .await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
    assert_eq!(
        error_code(
            app.get(&demo, &format!("/api/v1/attachments/{their_id}"))
                .await
        )
        .await,
        missing
    );
    let sid = app.service_id(&altro, "bianchi-arredi.it").await;
    let r = app
        .post(
            &altro,
            "/api/v1/tickets",
            json!({"department": "helpdesk", "service_id": sid, "subject": "Certificato SSL scaduto su bianchi-arredi.it",
                   "description": "Il browser segnala il certificato scaduto da ieri sera, allego il contratto.",
                   "priority": "low", "upload_ids": [their_id]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        error_code(
            app.get(&demo, &format!("/api/v1/attachments/{their_id}"))
                .await
        )
        .await,
        missing
    );
    assert_eq!(
        error_code(
            app.get(&demo, "/api/v1/attachments/..%2F..%2Fhelpdesk.db")
                .await
        )
        .await,
        missing
    );
    let own = app
        .get(&altro, &format!("/api/v1/attachments/{their_id}"))
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn an_upload_is_attached_once_only() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let up = upload_ok(&app, &demo, "log.txt", b"riga 1\n".to_vec()).await;
    let id = up["id"].as_str().unwrap();
    let first = open_ticket_with(&app, &demo, &[id]).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let ticket: Value = first.json().await.unwrap();
    let code = ticket["code"].as_str().unwrap();
    let (status, _, body) = error_code(open_ticket_with(&app, &demo, &[id]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"]["upload_ids"], "upload_unavailable");
    let reply = app
        .post(
            &demo,
            &format!("/api/v1/tickets/{code}/messages"),
            json!({"body": "di nuovo", "upload_ids": [id]}),
        )
        .await;
    assert_eq!(error_code(reply).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

#[tokio::test]
async fn unattached_uploads_expire_after_a_day_with_their_file_and_attached_ones_stay() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let loose = upload_ok(&app, &demo, "dimenticato.txt", b"mai allegato".to_vec()).await;
    let kept = upload_ok(&app, &demo, "allegato.txt", b"allegato".to_vec()).await;
    let (loose_id, kept_id) = (loose["id"].as_str().unwrap(), kept["id"].as_str().unwrap());
    assert_eq!(
        open_ticket_with(&app, &demo, &[kept_id]).await.status(),
        StatusCode::CREATED
    );

    // A leftover of an upload interrupted by a crash a day ago goes too.
    let leftover = app.dir.path().join("files").join(".upload-0000");
    std::fs::write(&leftover, b"partial").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&leftover)
        .unwrap()
        .set_modified(old)
        .unwrap();

    let now = helpdesk_server::util::now_us();
    assert_eq!(
        helpdesk_server::files::expire_uploads(app.state(), now)
            .await
            .unwrap(),
        0,
        "not yet"
    );
    let later = now + 25 * 3600 * 1_000_000;
    assert_eq!(
        helpdesk_server::files::expire_uploads(app.state(), later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.stored_files().await, vec![kept_id.to_string()]);
    let viewer = helpdesk_server::storage::Viewer::Staff;
    assert!(
        app.state()
            .store
            .file_for(viewer, loose_id)
            .await
            .unwrap()
            .is_none(),
        "the row is gone"
    );
    assert_eq!(
        app.get(&demo, &format!("/api/v1/attachments/{loose_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&demo, &format!("/api/v1/attachments/{kept_id}"))
            .await
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn downloads_are_always_attachments_with_safe_headers() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let up = upload_ok(
        &app,
        &demo,
        "perché \"così\".txt",
        "è tutto rotto\n".as_bytes().to_vec(),
    )
    .await;
    let r = app
        .get(
            &demo,
            &format!("/api/v1/attachments/{}", up["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    let header = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"perche _cosi_.txt\"; filename*=UTF-8''perch%C3%A9%20%22cos%C3%AC%22.txt"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-security-policy").starts_with("sandbox"));
    assert_eq!(header("cache-control"), "private, no-store");
    assert_eq!(header("content-length"), "15");

    // Latin-1 text is served without claiming UTF-8.
    let latin = upload_ok(&app, &demo, "vecchio.log", b"citt\xe0\n".to_vec()).await;
    assert_eq!(latin["content_type"], "text/plain");
    let r = app
        .get(
            &demo,
            &format!("/api/v1/attachments/{}", latin["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.headers()["content-type"], "text/plain");
    app.stop().await;
}

#[tokio::test]
async fn a_customer_uploads_two_files_opens_a_ticket_with_both_and_downloads_them_intact() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    // Larger than the API's JSON body limit, to prove the upload route streams past it.
    let screenshot = png(1_500_000);
    let log = "2024-05-02 10:00:01 PHP Fatal error: memoria esaurita\n"
        .repeat(200)
        .into_bytes();
    let a = upload_ok(&app, &demo, "schermata.png", screenshot.clone()).await;
    let b = upload_ok(&app, &demo, "error_log", log.clone()).await;
    assert_eq!(a["size"].as_u64().unwrap(), screenshot.len() as u64);
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    let r = open_ticket_with(&app, &demo, &[a_id, b_id]).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let code = r.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let ticket: Value = app
        .get_json(&demo, &format!("/api/v1/tickets/{code}"))
        .await;
    let attachments = ticket["messages"][0]["attachments"].as_array().unwrap();
    let mut names: Vec<&str> = attachments
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["error_log", "schermata.png"]);

    for (att, original) in [(a_id, &screenshot), (b_id, &log)] {
        let r = app.get(&demo, &format!("/api/v1/attachments/{att}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            original.as_slice(),
            "byte-identical"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_upload_abandoned_midway_leaves_no_file() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    // Some data, then the client stalls and gives up.
    let chunks =
        futures_util::stream::iter((0..5).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 10_000])))
            .chain(futures_util::stream::pending());
    let part = Part::stream(reqwest::Body::wrap_stream(chunks)).file_name("lento.log");
    let sent = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&demo)
        .timeout(std::time::Duration::from_millis(500))
        .multipart(Form::new().part("file", part))
        .send()
        .await;
    assert!(sent.is_err(), "the client timed out");
    let mut left = app.stored_files().await;
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = app.stored_files().await;
    }
    assert!(left.is_empty(), "{left:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_customer_cannot_pile_up_unattached_uploads() {
    let app = spawn_app().await;
    let demo = app.login("demo@example.it").await;
    let mut first = String::new();
    for i in 0..50 {
        let v = upload_ok(&app, &demo, &format!("nota-{i}.txt"), b"x".to_vec()).await;
        if i == 0 {
            first = v["id"].as_str().unwrap().to_string();
        }
    }
    let (status, _, body) =
        error_code(upload_as(&app, &demo, "troppo.txt", "text/plain", b"x".to_vec()).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"]["file"], "too_many_pending");
    // Sending one frees a place; another customer is not affected.
    assert_eq!(
        open_ticket_with(&app, &demo, &[&first]).await.status(),
        StatusCode::CREATED
    );
    upload_ok(&app, &demo, "ancora.txt", b"x".to_vec()).await;
    let altro = app.login("altro@example.it").await;
    upload_ok(&app, &altro, "mio.txt", b"x".to_vec()).await;
    app.stop().await;
}
