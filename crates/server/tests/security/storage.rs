//! The database shared by several processes: what one process changes, the server answers at
//! once, whatever it keeps in memory.

use crate::process::{ServerProcess, Spec};
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};

/// `helpdesk-server import` as a process of its own on the server's data folder, as the panel
/// runs it, with one customer per (e-mail, password hash) pair.
fn import_in_another_process(data_dir: &Path, customers: &[(&str, &str)]) {
    let customers: Vec<_> = customers
        .iter()
        .map(|(email, hash)| json!({"email": email, "name": "Anna Verdi", "password_hash": hash}))
        .collect();
    let file = data_dir.join(format!("import-{}.json", customers.len()));
    std::fs::write(&file, json!({ "customers": customers }).to_string()).expect("import file");
    let out = Command::new(env!("CARGO_BIN_EXE_helpdesk-server"))
        .arg("import")
        .arg(&file)
        .env("HELPDESK_DATA_DIR", data_dir)
        .env_remove("HELPDESK_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("running the import");
    assert!(
        out.status.success(),
        "the import failed: {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn login(client: &Client, server: &ServerProcess, email: &str, password: &str) -> String {
    let r = client
        .post(server.url("/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login answered");
    assert_eq!(r.status(), StatusCode::OK, "login of {email}");
    r.json::<serde_json::Value>().await.expect("json")["token"]
        .as_str()
        .expect("a token")
        .to_string()
}

async fn me(client: &Client, server: &ServerProcess, token: &str) -> StatusCode {
    client
        .get(server.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered")
        .status()
}

#[tokio::test]
async fn a_password_changed_by_an_import_in_another_process_ends_the_session_at_once() {
    let server = ServerProcess::start(Spec::default()).await;
    let data_dir = server
        .dir
        .as_ref()
        .expect("a data folder")
        .path()
        .to_path_buf();
    let client = Client::new();
    let (anna, other) = ("anna@example.it", "bruno@example.it");
    let hash = |p: &str| helpdesk_server::auth::hash_password(p).expect("hash");
    let (first, second, others_hash) = (
        hash("prima-password"),
        hash("seconda-password"),
        hash("sua-password"),
    );
    import_in_another_process(&data_dir, &[(anna, &first), (other, &others_hash)]);
    let token = login(&client, &server, anna, "prima-password").await;
    let others = login(&client, &server, other, "sua-password").await;
    // Answered twice: the second from the server's memory of the session.
    for _ in 0..2 {
        assert_eq!(me(&client, &server, &token).await, StatusCode::OK);
        assert_eq!(me(&client, &server, &others).await, StatusCode::OK);
    }

    // The panel imports the same customers with a new password for Anna only.
    import_in_another_process(&data_dir, &[(anna, &second), (other, &others_hash)]);
    assert_eq!(
        me(&client, &server, &token).await,
        StatusCode::UNAUTHORIZED,
        "the very next request with the old session is refused"
    );
    assert_eq!(
        me(&client, &server, &others).await,
        StatusCode::OK,
        "another customer's session goes on"
    );
    let fresh = login(&client, &server, anna, "seconda-password").await;
    assert_eq!(me(&client, &server, &fresh).await, StatusCode::OK);
    let r = client
        .post(server.url("/api/v1/session"))
        .json(&json!({"email": anna, "password": "prima-password"}))
        .send()
        .await
        .expect("login answered");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "the old password");
}
