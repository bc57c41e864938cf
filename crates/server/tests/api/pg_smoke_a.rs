//! Smoke tests of the PostgreSQL store's accounts, sessions, logins, usage, uploads and outbox,
//! through the storage traits (each database from `crate::pg`; skipped without
//! `HELPDESK_TEST_PG_ADMIN`). The outbox's claims are tested on SQLite too.

use helpdesk_core::api::{Role, ServiceFamily, ServiceStatus};
use helpdesk_server::storage::prelude::*;
use helpdesk_server::storage::{
    Allowance, Charge, ImportAccount, ImportService, Store, StoreError, StoredFile, UsageKind,
    Viewer, OUTBOX_LEASE_US,
};
use helpdesk_server::texts::Language;

const HOUR: i64 = 3_600_000_000;

async fn store() -> Option<(Store, String)> {
    let Some(url) = crate::pg::fresh_database().await else {
        eprintln!("HELPDESK_TEST_PG_ADMIN not set: PostgreSQL smoke test skipped");
        return None;
    };
    let s = Store::open_with(&url, 4).await.expect("the store opens");
    Some((s, url))
}

fn account(email: &str, hash: &str) -> ImportAccount {
    ImportAccount {
        email: email.into(),
        name: "Mario Rossi".into(),
        language: None,
        role: Role::Customer,
        password_hash: hash.into(),
        services: vec![
            ImportService {
                id: "p2".into(),
                family: ServiceFamily::Domain,
                product: "Dominio".into(),
                identifier: "rossi.it".into(),
                status: ServiceStatus::Active,
            },
            ImportService {
                id: "p1".into(),
                family: ServiceFamily::HostingShared,
                product: "Hosting".into(),
                identifier: "rossi.it".into(),
                status: ServiceStatus::Active,
            },
        ],
    }
}

fn file(id: &str, size: u64) -> StoredFile {
    StoredFile {
        id: id.into(),
        name: format!("{id}.txt"),
        size,
        content_type: "text/plain".into(),
    }
}

#[tokio::test]
async fn accounts() {
    let Some((s, _)) = store().await else { return };
    let id = s
        .upsert_account(&account("Mario@Example.it", "h1"))
        .await
        .expect("import");
    let row = s
        .account_by_email("mario@example.IT")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(row.customer.id, id);
    assert_eq!(row.customer.email, "mario@example.it");
    assert_eq!(row.password_hash, "h1");
    assert_eq!(row.customer.language, None);
    let services = s.services(&id).await.expect("services");
    let families: Vec<_> = services.iter().map(|x| x.family).collect();
    assert_eq!(
        families,
        [ServiceFamily::HostingShared, ServiceFamily::Domain]
    );
    assert_eq!(services[0].panel_id.as_deref(), Some("p1"));

    let changed = s
        .set_language(&id, Some(Language::En))
        .await
        .expect("language");
    assert_eq!(changed.expect("account").language.as_deref(), Some("en"));
    assert!(s
        .set_language("nobody", None)
        .await
        .expect("language")
        .is_none());

    // A repeated import keeps the id, the language (not given) and updates services in place.
    let mut again = account("mario@example.it", "h1");
    again.name = "Mario R.".into();
    again.services[0].status = ServiceStatus::Suspended;
    assert_eq!(s.upsert_account(&again).await.expect("import"), id);
    let a = s.account(&id).await.expect("read").expect("found");
    assert_eq!(
        (a.name.as_str(), a.language.as_deref()),
        ("Mario R.", Some("en"))
    );
    let services = s.services(&id).await.expect("services");
    assert_eq!(services.len(), 2);
    assert_eq!(services[1].status, ServiceStatus::Suspended);
    assert!(s.account("nobody").await.expect("read").is_none());
    assert!(s.account_by_email("x@y.it").await.expect("read").is_none());
}

#[tokio::test]
async fn sessions_and_password_change() {
    let Some((s, url)) = store().await else {
        return;
    };
    // A second instance on the same database.
    let other = Store::open_with(&url, 2).await.expect("the store opens");
    let id = s
        .upsert_account(&account("s@example.it", "h1"))
        .await
        .expect("import");
    let now = helpdesk_server::util::now_us();
    s.create_session("t1", &id, now + HOUR)
        .await
        .expect("session");
    s.create_session("t2", &id, now + HOUR)
        .await
        .expect("session");
    let (who, seen) = other
        .session("t1", now, HOUR)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(who.id, id);
    assert!(seen >= now - 1_000_000);
    // Idle for longer than allowed.
    assert!(s
        .session("t1", now + 2 * HOUR, 3 * HOUR)
        .await
        .expect("read")
        .is_none());
    assert!(s
        .session("t1", seen + HOUR, HOUR)
        .await
        .expect("read")
        .is_none());
    s.touch_session("t1", seen + HOUR / 2).await.expect("touch");
    let (_, seen2) = s
        .session("t1", seen + HOUR / 2, HOUR)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(seen2, seen + HOUR / 2);

    // A logout through one instance ends the session on the other at once.
    s.delete_session("t1").await.expect("logout");
    assert!(other
        .session("t1", now, HOUR)
        .await
        .expect("read")
        .is_none());
    assert!(other
        .session("t2", now, HOUR)
        .await
        .expect("read")
        .is_some());

    // A new password ends every session and forgets every device.
    s.remember_device("d1", &id, now).await.expect("device");
    s.upsert_account(&account("s@example.it", "h2"))
        .await
        .expect("import");
    assert!(other
        .session("t2", now, HOUR)
        .await
        .expect("read")
        .is_none());
    assert!(!s.known_device("d1", &id, now, HOUR).await.expect("read"));

    s.create_session("t3", &id, now + HOUR)
        .await
        .expect("session");
    s.delete_all_sessions().await.expect("all");
    assert!(other
        .session("t3", now, HOUR)
        .await
        .expect("read")
        .is_none());
    other.close().await;
}

#[tokio::test]
async fn logins() {
    let Some((s, _)) = store().await else { return };
    let a = s
        .upsert_account(&account("a@example.it", "h"))
        .await
        .expect("import");
    let b = s
        .upsert_account(&account("b@example.it", "h"))
        .await
        .expect("import");
    let now = 10 * HOUR;
    s.remember_device("d", &a, now).await.expect("device");
    assert!(s.known_device("d", &a, now, HOUR).await.expect("read"));
    assert!(!s.known_device("d", &b, now, HOUR).await.expect("read"));
    assert!(!s
        .known_device("d", &a, now + 2 * HOUR, HOUR)
        .await
        .expect("read"));
    // Another account's login does not take the device over, nor refresh it.
    s.remember_device("d", &b, now + HOUR)
        .await
        .expect("device");
    assert!(!s
        .known_device("d", &b, now + HOUR, HOUR)
        .await
        .expect("read"));
    s.remember_device("d", &a, now + HOUR)
        .await
        .expect("device");
    assert!(s
        .known_device("d", &a, now + 2 * HOUR - 1, HOUR)
        .await
        .expect("read"));
    s.forget_device("d").await.expect("forget");
    assert!(!s.known_device("d", &a, now, HOUR).await.expect("read"));

    assert!(s.use_sso_jti("j", now + HOUR, now).await.expect("jti"));
    assert!(!s.use_sso_jti("j", now + HOUR, now).await.expect("jti"));
    // Once expired it is swept, and the id may be seen again (its token has expired anyway).
    assert!(s
        .use_sso_jti("j", now + 3 * HOUR, now + 2 * HOUR)
        .await
        .expect("jti"));
}

#[tokio::test]
async fn uploads_usage_and_quota() {
    let Some((s, url)) = store().await else {
        return;
    };
    let a = s
        .upsert_account(&account("u@example.it", "h"))
        .await
        .expect("import");
    let b = s
        .upsert_account(&account("v@example.it", "h"))
        .await
        .expect("import");
    let now = helpdesk_server::util::now_us();
    let rate = |amount| Allowance {
        kind: UsageKind::UploadBytes,
        amount,
        max: 100,
        window_us: HOUR,
    };
    let charge = |amount| Charge {
        rate: Some(rate(amount)),
        quota_bytes: Some(150),
    };
    s.insert_upload(&a, &file("f1", 60), charge(60))
        .await
        .expect("upload");
    let (used, ends) = s
        .usage_in_window(&a, UsageKind::UploadBytes, HOUR, now)
        .await
        .expect("usage");
    assert_eq!(used, 60);
    assert!(ends > now && ends <= now + HOUR + 60_000_000);
    assert_eq!(s.stored_bytes(&a).await.expect("bytes"), 60);
    match s.insert_upload(&a, &file("f2", 50), charge(50)).await {
        Err(StoreError::RateLimited {
            kind: UsageKind::UploadBytes,
            retry_after_secs,
        }) => {
            assert!(
                retry_after_secs > 3500 && retry_after_secs <= 3600,
                "{retry_after_secs}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Refused: nothing counted, nothing stored.
    assert_eq!(s.stored_bytes(&a).await.expect("bytes"), 60);
    assert!(s
        .file_for(Viewer::Staff, "f2")
        .await
        .expect("read")
        .is_none());
    // The quota: 60 + 100 > 150, with the rate not counted.
    let quota_only = Charge {
        rate: None,
        quota_bytes: Some(150),
    };
    match s.insert_upload(&a, &file("f3", 100), quota_only).await {
        Err(StoreError::QuotaExceeded { quota: 150 }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(s.stored_bytes(&a).await.expect("bytes"), 60);
    let (used, _) = s
        .usage_in_window(&a, UsageKind::UploadBytes, HOUR, now)
        .await
        .expect("usage");
    assert_eq!(used, 60);
    // A window that has ended starts again.
    let (used, ends) = s
        .usage_in_window(&a, UsageKind::UploadBytes, HOUR, now + 2 * HOUR)
        .await
        .expect("usage");
    assert_eq!((used, ends), (0, now + 3 * HOUR));

    // Who may read a file not on a ticket: its owner and staff.
    let f = s
        .file_for(Viewer::Customer(&a), "f1")
        .await
        .expect("read")
        .expect("own");
    assert_eq!(
        (f.size, f.account_id.as_str(), f.message_id),
        (60, a.as_str(), None)
    );
    assert!(s
        .file_for(Viewer::Customer(&b), "f1")
        .await
        .expect("read")
        .is_none());
    assert!(s
        .file_for(Viewer::Staff, "f1")
        .await
        .expect("read")
        .is_some());
    assert_eq!(s.pending_uploads(&a, now).await.expect("pending"), 1);
    assert_eq!(s.pending_uploads(&b, now).await.expect("pending"), 0);
    assert!(s.expire_uploads(now).await.expect("expire").is_empty());
    let gone = s
        .expire_uploads(now + helpdesk_server::storage::UPLOAD_TTL_US + 1_000_000)
        .await
        .expect("expire");
    assert_eq!(gone, ["f1"]);
    assert_eq!(s.stored_bytes(&a).await.expect("bytes"), 0);

    // Two instances racing for one allowance: exactly as many pass as it allows.
    let other = Store::open_with(&url, 4).await.expect("the store opens");
    let one = || Charge {
        rate: Some(Allowance {
            kind: UsageKind::Tickets,
            amount: 1,
            max: 5,
            window_us: HOUR,
        }),
        quota_bytes: None,
    };
    let tries = (0..20).map(|n| {
        let st = if n % 2 == 0 { &s } else { &other };
        let (b, f) = (b.clone(), file(&format!("r{n}"), 1));
        async move { st.insert_upload(&b, &f, one()).await }
    });
    let results = futures_util::future::join_all(tries).await;
    let passed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(passed, 5, "{results:?}");
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::RateLimited { .. }))));
    other.close().await;
}

/// Rows queued directly (no ticket), the same SQL on both backends.
async fn queue(s: &Store, n: usize, next_try_us: i64) {
    for i in 0..n {
        let sql = format!(
            "INSERT INTO outbox (message_id, from_addr, to_addr, subject, body, next_try_us, created_us)
             VALUES ('<{i}@smoke>', 'a@x.it', 'b@x.it', 's', 'b', {next_try_us}, 1)"
        );
        match s {
            Store::Sqlite(q) => drop(sqlx::query(&sql).execute(q.pool()).await.expect("queue")),
            Store::Postgres(q) => drop(sqlx::query(&sql).execute(q.pool()).await.expect("queue")),
        }
    }
}

async fn outbox_leases(s: &Store, other: &Store) {
    let now = 1_000_000_000;
    queue(s, 5, now).await;
    assert_eq!(s.next_notification_due().await.expect("due"), Some(now));
    assert!(s
        .due_notifications(now - 1, 10)
        .await
        .expect("due")
        .is_empty());
    let first = s.due_notifications(now, 3).await.expect("claim");
    let ids: Vec<i64> = first.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    // Claimed rows are not handed to another sender while their lease runs.
    let rest = other.due_notifications(now, 10).await.expect("claim");
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|i| !ids.contains(&i.id)));
    assert!(s
        .due_notifications(now + 1, 10)
        .await
        .expect("claim")
        .is_empty());
    assert_eq!(
        s.next_notification_due().await.expect("due"),
        Some(now + OUTBOX_LEASE_US)
    );

    // Sent: never again. Failed: due again at its next try, lease or not.
    s.mark_sent(ids[0], now + 1).await.expect("sent");
    s.mark_failed(ids[1], now + 5, "refused")
        .await
        .expect("failed");
    let again = s.due_notifications(now + 5, 10).await.expect("claim");
    assert_eq!(again.iter().map(|i| i.id).collect::<Vec<_>>(), [ids[1]]);
    assert_eq!(again[0].attempts, 1);
    s.mark_sent(ids[1], now + 6).await.expect("sent");

    // A sender that stopped: its claims pass to another once the lease ends.
    let until = now + OUTBOX_LEASE_US;
    assert!(other
        .due_notifications(until - 1, 10)
        .await
        .expect("claim")
        .is_empty());
    let taken = other.due_notifications(until, 10).await.expect("claim");
    assert_eq!(taken.len(), 3, "ids[2] and the two others");
    for i in &taken {
        other.mark_sent(i.id, until).await.expect("sent");
    }
    assert_eq!(s.next_notification_due().await.expect("due"), None);
}

#[tokio::test]
async fn outbox_postgres() {
    let Some((s, url)) = store().await else {
        return;
    };
    let other = Store::open_with(&url, 2).await.expect("the store opens");
    outbox_leases(&s, &other).await;
    other.close().await;
}

#[tokio::test]
async fn outbox_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("smoke.db").display());
    let s = Store::open(&url).await.expect("the store opens");
    let other = Store::open(&url).await.expect("the store opens");
    outbox_leases(&s, &other).await;
    other.close().await;
    s.close().await;
}

#[tokio::test]
async fn sso_jti_racing_instances() {
    let Some((s, url)) = store().await else {
        return;
    };
    let other = Store::open_with(&url, 4).await.expect("the store opens");
    let tries = (0..10).map(|n| {
        let st = if n % 2 == 0 { &s } else { &other };
        async move { st.use_sso_jti("same", i64::MAX, 0).await.expect("jti") }
    });
    let fresh = futures_util::future::join_all(tries).await;
    assert_eq!(fresh.iter().filter(|f| **f).count(), 1);
    other.close().await;
}
