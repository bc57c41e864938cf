//! Spawns the real server with a fresh data folder and talks to it over HTTP.
#![allow(dead_code)] // each test module uses its own part of these helpers

use helpdesk_server::Config;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub running: Option<helpdesk_server::Running>,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's own database, for the few checks an API cannot show (what was queued, what
    /// the intake recorded). SQL with `$1` placeholders runs on either backend.
    pub async fn sql(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.state().config.database_url)
            .await
            .expect("the server's database")
    }

    /// What the file store holds of customers' files, sorted: the names in the files folder
    /// (every file on SQLite; on PostgreSQL only an upload still being received) and, on
    /// PostgreSQL, the ids of the files in the database, less the raw mail of refused messages
    /// kept there (`<id>.eml`, which SQLite keeps in the mail folder).
    pub async fn stored_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.state().config.files_dir())
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(pg) = self.state().store.postgres() {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT file_id FROM file_chunks WHERE file_id NOT LIKE '%.eml'",
            )
            .fetch_all(pg.pool())
            .await
            .expect("the file store");
            names.extend(ids);
        }
        names.sort();
        names
    }

    pub fn state(&self) -> &helpdesk_server::state::AppState {
        &self.running.as_ref().expect("running").state
    }

    pub async fn login(&self, email: &str) -> String {
        let r = self
            .client
            .post(self.url("/api/v1/session"))
            .json(&json!({"email": email, "password": "demo-password"}))
            .send()
            .await
            .expect("login request");
        assert_eq!(r.status(), StatusCode::OK, "login of {email}");
        r.json::<Value>().await.expect("json")["token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// A GET that must answer JSON.
    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        self.get(token, path)
            .await
            .json()
            .await
            .expect("a JSON answer")
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// `PATCH /api/v1/me` with `body`.
    pub async fn patch_me(&self, token: &str, body: Value) -> Response {
        self.client
            .patch(self.url("/api/v1/me"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// The logged-in account's saved language (`None` when none is saved).
    pub async fn saved_language(&self, token: &str) -> Option<String> {
        let me = self.get_json(token, "/api/v1/me").await;
        assert!(
            me.get("language").is_some(),
            "language is always present: {me}"
        );
        me["language"].as_str().map(String::from)
    }

    /// The id of one of the customer's services by its identifier.
    pub async fn service_id(&self, token: &str, identifier: &str) -> String {
        let v: Value = self
            .get(token, "/api/v1/services")
            .await
            .json()
            .await
            .expect("json");
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|s| s["identifier"] == identifier)
            .unwrap_or_else(|| panic!("no service {identifier}"))["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// A staff reply through the staff API (it must be accepted); the ticket it answers with.
    pub async fn staff_reply(&self, staff: &str, code: &str, body: &str) -> Value {
        let r = self
            .post(
                staff,
                &format!("/api/v1/staff/tickets/{code}/messages"),
                json!({ "body": body }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "staff reply to {code}");
        r.json().await.expect("json")
    }

    pub async fn open_ticket(&self, token: &str, service_identifier: &str) -> Value {
        let sid = self.service_id(token, service_identifier).await;
        let r = self
            .post(
                token,
                "/api/v1/tickets",
                json!({
                    "department": "helpdesk",
                    "service_id": sid,
                    "subject": format!("Errore 500 sulla home di {service_identifier}"),
                    "description": "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
                    "priority": "normal",
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.expect("json")
    }

    /// Records one e-mail through the pipe's code path (sender authentication read from its
    /// headers) under `config`; `to` are the envelope recipients (none: the headers say).
    pub async fn ingest_piped(
        &self,
        config: &Config,
        raw: Vec<u8>,
        to: &[&str],
        complete: bool,
    ) -> helpdesk_server::mail::Ingested {
        use helpdesk_server::mail::{ingest, AuthSource, Envelope};
        let env = Envelope {
            recipients: to.iter().map(|s| s.to_string()).collect(),
            return_path: None,
            auth: AuthSource::Headers,
        };
        tokio::time::timeout(
            std::time::Duration::from_secs(60),
            ingest(&self.state().store, config, raw, complete, env),
        )
        .await
        .expect("ingestion finished in time")
        .expect("ingestion recorded the message")
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// A server with the demo data, on a free port, in a fresh folder.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let database = if crate::pg::api_on_postgres() {
        Some(
            crate::pg::fresh_database()
                .await
                .expect("HELPDESK_TEST_BACKEND=postgres needs HELPDESK_TEST_PG_ADMIN"),
        )
    } else {
        None
    };
    spawn_on(database, adjust).await
}

/// A server with the demo data on the database at `database_url` (a new SQLite file in its own
/// folder when `None`): several servers on one PostgreSQL database are several instances.
pub async fn spawn_on(database_url: Option<String>, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.demo = true;
    if let Some(url) = database_url {
        config.database_url = url;
        config.database_pool = 4;
    }
    adjust(&mut config);
    let base_path = config.base_path.clone();
    let running = helpdesk_server::start(config).await.expect("server starts");
    TestApp {
        base: format!("http://{}{}", running.addr, base_path),
        client: Client::new(),
        running: Some(running),
        dir,
    }
}

/// The API's one error shape, with its code.
pub async fn error_code(r: Response) -> (StatusCode, String, Value) {
    let status = r.status();
    let v: Value = r.json().await.expect("error body is JSON");
    let code = v["error"]["code"].as_str().expect("error.code").to_string();
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    (status, code, v)
}

/// The e-mails the outbox worker wrote into `outbox` (no relay configured: one `.eml` each),
/// oldest first, those `keep` takes, once there are `at_least` of them (or after ten seconds).
pub async fn outbox_where(
    outbox: &std::path::Path,
    at_least: usize,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut files: Vec<_> = std::fs::read_dir(outbox)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mine: Vec<String> = files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|eml| keep(eml))
            .collect();
        if mine.len() >= at_least || std::time::Instant::now() > deadline {
            return mine;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
