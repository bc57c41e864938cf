//! The authorization matrix, built from the OpenAPI document the server serves, so that an
//! operation is covered the day it is added: every operation × {no token, a token past its absolute
//! expiry, a token idle too long, a token revoked at logout, a forged token, another customer, a
//! customer on staff operations}. Another customer's resource answers exactly as a missing one; an operation whose
//! parameters or body this file cannot fill fails the test instead of slipping through.

use crate::helpers::{spawn_app, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The operations anyone may call without a token: the logins (the document itself is not an
/// operation).
const PUBLIC: &[&str] = &["login", "sso_login"];

/// The kinds of resource an operation can name, in its path or in its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ticket,
    Attachment,
    Service,
    Upload,
}

/// Where an operation names a resource.
#[derive(Clone, Debug)]
enum Slot {
    Path { name: String, kind: Kind },
    Body { kind: Kind },
}

impl Slot {
    fn kind(&self) -> Kind {
        match self {
            Slot::Path { kind, .. } | Slot::Body { kind } => *kind,
        }
    }
}

/// The request bodies this file knows how to write, by the schema the document names.
#[derive(Clone, Copy, Debug)]
enum Body {
    NewTicket,
    NewReply,
    AssessRequest,
    StaffReply,
    LoginRequest,
    SsoRequest,
    MeUpdate,
    Upload,
}

#[derive(Debug)]
struct Operation {
    method: Method,
    path: String,
    id: String,
    slots: Vec<Slot>,
    body: Option<Body>,
    staff: bool,
}

impl Operation {
    fn label(&self) -> String {
        format!("{} {} ({})", self.method, self.path, self.id)
    }
}

/// One value for each kind of resource; `upload: None` sends no upload at all.
#[derive(Clone, Debug)]
struct Fill {
    ticket: String,
    attachment: String,
    service: String,
    upload: Option<String>,
}

impl Fill {
    fn with(&self, kind: Kind, value: &str) -> Fill {
        let mut f = self.clone();
        match kind {
            Kind::Ticket => f.ticket = value.to_string(),
            Kind::Attachment => f.attachment = value.to_string(),
            Kind::Service => f.service = value.to_string(),
            Kind::Upload => f.upload = Some(value.to_string()),
        }
        f
    }

    fn get(&self, kind: Kind) -> String {
        match kind {
            Kind::Ticket => self.ticket.clone(),
            Kind::Attachment => self.attachment.clone(),
            Kind::Service => self.service.clone(),
            Kind::Upload => self.upload.clone().unwrap_or_default(),
        }
    }
}

/// Ids of the right shape that name nothing.
fn missing(kind: Kind) -> &'static str {
    match kind {
        Kind::Ticket => "QQQ-000-00000",
        Kind::Attachment | Kind::Service | Kind::Upload => "00000000000000000000000000000000",
    }
}

/// What an answer shows: everything but headers that change by themselves (dates).
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

/// The kind of resource a path parameter names, from the segment before it.
fn path_kind(path: &str, name: &str) -> Option<Kind> {
    let segments: Vec<&str> = path.split('/').collect();
    let at = segments.iter().position(|s| *s == format!("{{{name}}}"))?;
    match (segments.get(at.checked_sub(1)?).copied()?, name) {
        ("tickets", "code") => Some(Kind::Ticket),
        ("attachments", "id") => Some(Kind::Attachment),
        ("services", "id") => Some(Kind::Service),
        _ => None,
    }
}

/// The resource a body field names, for fields that look like ids.
fn field_kind(field: &str) -> Option<Kind> {
    match field {
        "service_id" => Some(Kind::Service),
        "upload_ids" => Some(Kind::Upload),
        _ => None,
    }
}

fn schema_name(content: &Value) -> Option<&str> {
    content["schema"]["$ref"].as_str()?.rsplit('/').next()
}

/// Every operation of the document, or the list of what this file cannot fill.
fn operations(doc: &Value) -> Result<Vec<Operation>, Vec<String>> {
    let mut ops = Vec::new();
    let mut unknown = Vec::new();
    let paths = doc["paths"].as_object().expect("the document has paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("a path item is an object") {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue; // `parameters`, `summary` and the like
            };
            let id = op["operationId"].as_str().unwrap_or("").to_string();
            let label = format!("{method} {path}");
            if id.is_empty() {
                unknown.push(format!("{label}: no operationId"));
            }
            let mut slots = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or("");
                match p["in"].as_str() {
                    Some("path") => match path_kind(path, name) {
                        Some(kind) => slots.push(Slot::Path {
                            name: name.to_string(),
                            kind,
                        }),
                        None => unknown.push(format!("{label}: path parameter `{name}`")),
                    },
                    _ if p["required"].as_bool() == Some(true) => {
                        unknown.push(format!("{label}: required parameter `{name}`"))
                    }
                    _ => {}
                }
            }
            let mut body = None;
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (media, c) in content {
                    let name = schema_name(c).unwrap_or("");
                    body = match (media.as_str(), name) {
                        ("application/json", "NewTicket") => Some(Body::NewTicket),
                        ("application/json", "NewReply") => Some(Body::NewReply),
                        ("application/json", "AssessRequest") => Some(Body::AssessRequest),
                        ("application/json", "StaffReply") => Some(Body::StaffReply),
                        ("application/json", "LoginRequest") => Some(Body::LoginRequest),
                        ("application/json", "SsoRequest") => Some(Body::SsoRequest),
                        ("application/json", "MeUpdate") => Some(Body::MeUpdate),
                        ("multipart/form-data", "UploadForm") => Some(Body::Upload),
                        _ => {
                            unknown.push(format!("{label}: a {media} body of schema `{name}`"));
                            None
                        }
                    };
                    let props = doc["components"]["schemas"][name]["properties"].as_object();
                    for field in props.into_iter().flat_map(|p| p.keys()) {
                        if field.ends_with("_id") || field.ends_with("_ids") {
                            match field_kind(field) {
                                Some(kind) => slots.push(Slot::Body { kind }),
                                None => unknown.push(format!("{label}: body field `{field}`")),
                            }
                        }
                    }
                }
            }
            ops.push(Operation {
                staff: path.starts_with("/api/v1/staff/"),
                method,
                path: path.clone(),
                id,
                slots,
                body,
            });
        }
    }
    if unknown.is_empty() {
        Ok(ops)
    } else {
        Err(unknown)
    }
}

fn json_body(body: Body, fill: &Fill) -> Value {
    let uploads: Vec<String> = fill.upload.iter().cloned().collect();
    match body {
        Body::NewTicket => json!({
            "department": "helpdesk",
            "service_id": fill.service,
            "subject": "Errore 500 sulla home page dopo l'aggiornamento dei plugin",
            "description": "Da stamattina la home page risponde con errore 500; le altre pagine funzionano.",
            "priority": "normal",
            "upload_ids": uploads,
        }),
        Body::NewReply => {
            json!({"body": "Ecco il log che avevate chiesto.", "upload_ids": uploads})
        }
        Body::AssessRequest => json!({
            "subject": "Errore 500 sulla home page",
            "department": "helpdesk",
            "service_id": fill.service,
        }),
        Body::StaffReply => json!({"body": "Abbiamo corretto la configurazione: ora risponde."}),
        Body::LoginRequest => json!({"email": "demo@example.it", "password": "demo-password"}),
        Body::SsoRequest => json!({"token": "not.a.token"}),
        Body::MeUpdate => json!({"language": "it"}),
        Body::Upload => Value::Null,
    }
}

fn upload_form() -> Form {
    let part = Part::bytes(b"Log del server: errore 500 alle 10:42 sulla home page.\n".to_vec())
        .file_name("log.txt");
    Form::new().part("file", part)
}

async fn send(app: &TestApp, op: &Operation, token: Option<&str>, fill: &Fill) -> Answer {
    let mut path = op.path.clone();
    for slot in &op.slots {
        if let Slot::Path { name, kind } = slot {
            path = path.replace(&format!("{{{name}}}"), &fill.get(*kind));
        }
    }
    let mut req = app.client.request(op.method.clone(), app.url(&path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = match op.body {
        Some(Body::Upload) => req.multipart(upload_form()),
        Some(b) => req.json(&json_body(b, fill)),
        None => req,
    };
    let r = req.send().await.expect("the server answers");
    let status = r.status();
    let content_type = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // A live event stream never ends: its status and type are the answer (what it sends is
    // covered by tests/api/events.rs).
    let body = if content_type.starts_with("text/event-stream") {
        String::new()
    } else {
        r.text().await.expect("an answer body")
    };
    Answer {
        status,
        content_type,
        body,
    }
}

async fn upload(app: &TestApp, token: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(token)
        .multipart(upload_form())
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::CREATED, "an upload is stored");
    r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("upload id")
        .to_string()
}

/// A ticket of the customer's own, opened with one attachment: (code, attachment id).
async fn ticket_with_attachment(app: &TestApp, token: &str, service: &str) -> (String, String) {
    let up = upload(app, token).await;
    let fill = Fill {
        ticket: String::new(),
        attachment: String::new(),
        service: service.to_string(),
        upload: Some(up),
    };
    let r = app
        .post(token, "/api/v1/tickets", json_body(Body::NewTicket, &fill))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "the ticket is opened");
    let t: Value = r.json().await.expect("json");
    let code = t["code"].as_str().expect("code").to_string();
    let attachment = t["messages"][0]["attachments"][0]["id"]
        .as_str()
        .expect("the ticket's attachment")
        .to_string();
    (code, attachment)
}

async fn first_service(app: &TestApp, token: &str) -> String {
    let v = app.get_json(token, "/api/v1/services").await;
    v["items"][0]["id"]
        .as_str()
        .expect("the customer has a service")
        .to_string()
}

/// A fresh token whose session row is changed before its first use (so no cache knows it; the
/// cache's own expiry is the test below the matrix).
async fn token_with(app: &TestApp, email: &str, sql: &str) -> String {
    let token = app.login(email).await;
    let hash = helpdesk_server::util::sha256_hex(token.as_bytes());
    let long_ago = helpdesk_server::util::now_us() - 30 * 24 * 3600 * 1_000_000;
    let done = sqlx::query(sql)
        .bind(long_ago)
        .bind(&hash)
        .execute(app.state().store.sqlite().expect("SQLite").pool())
        .await
        .expect("the session row is updated");
    assert_eq!(done.rows_affected(), 1, "one session row for the token");
    token
}

async fn still_valid(app: &TestApp, token: &str) -> bool {
    app.get(token, "/api/v1/me").await.status() == StatusCode::OK
}

/// The identifiers of customer A that must never show in customer B's answers.
fn leaks<'a>(answer: &Answer, secrets: &'a [String]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|s| answer.body.contains(s.as_str()))
        .map(String::as_str)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_the_document_refuses_whoever_may_not_call_it_and_hides_other_customers_resources(
) {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("the document is served")
        .json()
        .await
        .expect("the document is JSON");
    let ops = match operations(&doc) {
        Ok(ops) => ops,
        Err(unknown) => panic!(
            "the authorization matrix does not know how to fill these (teach `path_kind`, \
             `field_kind` or `Body` in tests/security/authz.rs):\n  {}",
            unknown.join("\n  ")
        ),
    };
    assert!(ops.len() >= 16, "the document lists the API: {ops:#?}");
    let undocumented_public: Vec<String> = ops
        .iter()
        .filter(|o| !PUBLIC.contains(&o.id.as_str()) && doc_security(&doc, o).is_none())
        .map(Operation::label)
        .collect();
    assert!(
        undocumented_public.is_empty(),
        "the document says these need no token: {undocumented_public:?}"
    );

    // Customer A and what is theirs; customer B; staff.
    let a = app.login("demo@example.it").await;
    let mut b = app.login("altro@example.it").await;
    let staff = app.login("staff@example.it").await;
    let a_service = first_service(&app, &a).await;
    let (a_ticket, a_attachment) = ticket_with_attachment(&app, &a, &a_service).await;
    let a_upload = upload(&app, &a).await;
    let own_a = Fill {
        ticket: a_ticket.clone(),
        attachment: a_attachment.clone(),
        service: a_service.clone(),
        upload: Some(a_upload.clone()),
    };
    let b_service = first_service(&app, &b).await;
    let (b_ticket, b_attachment) = ticket_with_attachment(&app, &b, &b_service).await;
    let own_b = Fill {
        ticket: b_ticket,
        attachment: b_attachment,
        service: b_service,
        upload: None,
    };
    let a_secrets = vec![a_ticket, a_attachment, a_service, a_upload];

    // Tokens that must open nothing.
    let expired = token_with(
        &app,
        "demo@example.it",
        "UPDATE sessions SET expires_us = ? WHERE token_hash = ?",
    )
    .await;
    let idle = token_with(
        &app,
        "demo@example.it",
        "UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?",
    )
    .await;
    let revoked = app.login("demo@example.it").await;
    let r = app
        .client
        .delete(app.url("/api/v1/session"))
        .bearer_auth(&revoked)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "logout");
    let refused: [(&str, Option<&str>); 5] = [
        ("no token", None),
        ("a token past its absolute expiry", Some(&expired)),
        ("a token idle for too long", Some(&idle)),
        ("a token revoked at logout", Some(&revoked)),
        (
            "a token nobody was given",
            Some("Zm9yZ2VkLXRva2VuLW5vYm9keS13YXMtZ2l2ZW4"),
        ),
    ];

    let mut cases = 0usize;
    let mut failures: Vec<String> = Vec::new();
    for op in &ops {
        let label = op.label();
        if PUBLIC.contains(&op.id.as_str()) {
            continue;
        }
        // 1. Without a live token: 401 in the error shape, whatever else the request holds.
        for (who, token) in refused {
            cases += 1;
            let ans = send(&app, op, token, &own_a).await;
            let code = serde_json::from_str::<Value>(&ans.body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
            if ans.status != StatusCode::UNAUTHORIZED || code.as_deref() != Some("unauthorized") {
                failures.push(format!("{label} with {who}: {ans:?}"));
            }
        }
        // 2. A customer, even on their own ticket, on a staff operation: 403.
        if op.staff {
            cases += 1;
            let ans = send(&app, op, Some(&a), &own_a).await;
            if ans.status != StatusCode::FORBIDDEN {
                failures.push(format!("{label} by a customer: {ans:?}"));
            }
        }
        // 3. Customer B with their own values: nothing of A's shows in the answer.
        cases += 1;
        let ans = send(&app, op, Some(&b), &own_b).await;
        let leaked = leaks(&ans, &a_secrets);
        if !leaked.is_empty() {
            failures.push(format!("{label} shows customer B {leaked:?} of A: {ans:?}"));
        }
        if op.staff && ans.status != StatusCode::FORBIDDEN {
            failures.push(format!("{label} by customer B: {ans:?}"));
        }
        if !still_valid(&app, &b).await {
            b = app.login("altro@example.it").await; // it was the logout
        }
        // 4. Customer B naming A's resource: exactly the answer to a missing one.
        for slot in &op.slots {
            cases += 1;
            let kind = slot.kind();
            let theirs = send(&app, op, Some(&b), &own_b.with(kind, &own_a.get(kind))).await;
            let none = send(&app, op, Some(&b), &own_b.with(kind, missing(kind))).await;
            if theirs != none {
                failures.push(format!(
                    "{label}: customer B naming A's {kind:?} gets {theirs:?}, a missing one {none:?}"
                ));
            }
            let leaked = leaks(&theirs, &a_secrets);
            if !leaked.is_empty() {
                failures.push(format!(
                    "{label} shows customer B {leaked:?} of A: {theirs:?}"
                ));
            }
        }
    }

    // 5. The matrix names real resources: their owner (staff, on a staff operation) gets another
    //    answer than for a missing one; otherwise step 4 would compare two misses.
    for op in ops.iter().filter(|o| !PUBLIC.contains(&o.id.as_str())) {
        let owner = if op.staff { &staff } else { &a };
        for slot in &op.slots {
            let kind = slot.kind();
            let mut own = own_a.clone();
            own.upload = Some(upload(&app, &a).await); // the earlier one may have been attached
            let mine = send(&app, op, Some(owner), &own).await;
            let none = send(&app, op, Some(owner), &own.with(kind, missing(kind))).await;
            if mine == none {
                failures.push(format!(
                    "{}: the owner of the {kind:?} gets the answer to a missing one: {mine:?}",
                    op.label()
                ));
            }
        }
    }

    let slots: usize = ops.iter().map(|o| o.slots.len()).sum();
    println!(
        "authorization matrix: {} operations ({} with resource ids, {} slots), {cases} cases",
        ops.len(),
        ops.iter().filter(|o| !o.slots.is_empty()).count(),
        slots
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    let public: BTreeSet<&str> = ops
        .iter()
        .map(|o| o.id.as_str())
        .filter(|id| PUBLIC.contains(id))
        .collect();
    assert_eq!(public.len(), PUBLIC.len(), "the logins are in the document");
    app.stop().await;
}

/// The operation's security requirements in the document, when it has any.
fn doc_security<'a>(doc: &'a Value, op: &Operation) -> Option<&'a Value> {
    let method = op.method.as_str().to_ascii_lowercase();
    let sec = &doc["paths"][&op.path][&method]["security"];
    sec.as_array().filter(|s| !s.is_empty()).map(|_| sec)
}

/// The server keeps live sessions in memory for a few seconds; a token in use must still stop
/// working at its absolute expiry, not up to that many seconds later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_use_stops_working_at_its_absolute_expiry() {
    let app = crate::helpers::spawn_with(|c| c.session_absolute_secs = 4).await;
    let token = app.login("demo@example.it").await;
    let logged_in = std::time::Instant::now();
    assert!(
        still_valid(&app, &token).await,
        "the token works after the login (and is now in the server's cache)"
    );
    tokio::time::sleep_until((logged_in + std::time::Duration::from_millis(4_500)).into()).await;
    let r = app.get(&token, "/api/v1/me").await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "half a second after its absolute expiry the token still opened the account"
    );
    app.stop().await;
}
