//! Accounts, sessions, devices, sign-on tokens and login attempts. What one instance changes
//! (a logout, a new password, a language) every other instance on the database sees at once,
//! even where it caches.

use super::*;
use helpdesk_server::texts::Language;
use helpdesk_server::util::now_us;

/// The account behind a live session, now.
async fn session(store: &impl Storage, token_hash: &str) -> Option<Customer> {
    let now = now_us();
    let found = store.session(token_hash, now, HOUR).await.expect("read");
    found.map(|(who, _)| who)
}

pub(super) async fn an_import_is_read_back_and_updated_in_place(db: &impl Database) {
    let store = db.open().await;
    let mut mario = import("Mario@Example.it", "h1");
    mario.services.push(ImportService {
        id: "hosting".into(),
        family: ServiceFamily::HostingShared,
        product: "Hosting".into(),
        identifier: "rossi.it".into(),
        status: ServiceStatus::Active,
    });
    let id = store.upsert_account(&mario).await.expect("import");
    let row = store
        .account_by_email("mario@example.IT")
        .await
        .expect("read")
        .expect("found by the e-mail in any case");
    assert_eq!(
        (row.customer.id.as_str(), row.customer.email.as_str()),
        (id.as_str(), "mario@example.it")
    );
    assert_eq!(
        (row.password_hash.as_str(), row.customer.language),
        ("h1", None)
    );
    assert_eq!(row.customer.role, Role::Customer);
    let services = store.services(&id).await.expect("services");
    let families: Vec<_> = services.iter().map(|s| s.family).collect();
    assert_eq!(
        families,
        [ServiceFamily::HostingShared, ServiceFamily::Domain]
    );
    assert_eq!(services[0].panel_id.as_deref(), Some("hosting"));

    // Again: the same id, the name and a service's status updated, no service added.
    store
        .set_language(&id, Some(Language::En))
        .await
        .expect("language");
    mario.name = "Mario R.".into();
    mario.services[1].status = ServiceStatus::Suspended;
    assert_eq!(store.upsert_account(&mario).await.expect("import"), id);
    let a = store.account(&id).await.expect("read").expect("found");
    assert_eq!(
        (a.name.as_str(), a.language.as_deref()),
        ("Mario R.", Some("en")),
        "an import without a language keeps the one chosen"
    );
    let again = store.services(&id).await.expect("services");
    assert_eq!(again.len(), 2);
    assert_eq!(again[0].id, services[0].id, "updated in place");
    assert_eq!(
        (again[0].status, again[1].status),
        (ServiceStatus::Suspended, ServiceStatus::Active)
    );
    assert!(store.account("nobody").await.expect("read").is_none());
    assert!(store
        .account_by_email("x@y.it")
        .await
        .expect("read")
        .is_none());
    assert!(store.services("nobody").await.expect("read").is_empty());
}

/// A language chosen is the account's, seen at once by another instance's live session, until
/// cleared.
pub(super) async fn a_language_is_kept_until_cleared(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    let now = now_us();
    a.create_session("t", &ana.id, now + HOUR)
        .await
        .expect("session");
    let lang = |store| async move { session(store, "t").await.expect("live").language };
    assert_eq!(lang(&b).await, None);
    let changed = a
        .set_language(&ana.id, Some(Language::En))
        .await
        .expect("language")
        .expect("the account");
    assert_eq!(changed.language.as_deref(), Some("en"));
    assert_eq!(
        lang(&b).await.as_deref(),
        Some("en"),
        "the other instance's session"
    );
    a.set_language(&ana.id, None).await.expect("language");
    assert_eq!(lang(&b).await, None);
    assert_eq!(
        b.account(&ana.id)
            .await
            .expect("read")
            .expect("account")
            .language,
        None
    );
    assert!(a
        .set_language("nobody", None)
        .await
        .expect("language")
        .is_none());
}

/// A time zone saved is the account's, seen at once by another instance's live session and in
/// what a ticket's notification is composed from, until cleared (then `Europe/Rome`).
pub(super) async fn a_time_zone_is_kept_until_cleared(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    assert_eq!(ana.time_zone, "Europe/Rome", "none known yet");
    let now = now_us();
    a.create_session("t", &ana.id, now + HOUR)
        .await
        .expect("session");
    let zone = |store| async move { session(store, "t").await.expect("live").time_zone };
    assert_eq!(zone(&b).await, "Europe/Rome");
    let changed = a
        .set_time_zone(&ana.id, Some("America/New_York"))
        .await
        .expect("time zone")
        .expect("the account");
    assert_eq!(changed.time_zone, "America/New_York");
    assert_eq!(
        zone(&b).await,
        "America/New_York",
        "the other instance's session"
    );
    assert_eq!(
        b.account_by_email("ana@example.it")
            .await
            .expect("read")
            .expect("account")
            .customer
            .time_zone,
        "America/New_York"
    );
    // A ticket's notification is composed in the zone saved.
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let into = Arc::clone(&seen);
    new(b
        .create_ticket(
            record(code(90), Status::Open, draft(&ana, "Fuso orario"), None),
            move |ctx: &NotifyContext<'_>| {
                *into.lock().expect("lock") = ctx.time_zone.to_string();
                None
            },
        )
        .await);
    assert_eq!(*seen.lock().expect("lock"), "America/New_York");
    a.set_time_zone(&ana.id, None).await.expect("time zone");
    assert_eq!(zone(&b).await, "Europe/Rome");
    assert!(a
        .set_time_zone("nobody", None)
        .await
        .expect("time zone")
        .is_none());
}

pub(super) async fn a_session_lives_until_idle_or_expired(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let now = now_us();
    store
        .create_session("t1", &ana.id, now + 2 * HOUR)
        .await
        .expect("session");
    let (who, seen) = store
        .session("t1", now, HOUR)
        .await
        .expect("read")
        .expect("live");
    assert_eq!(who, ana);
    assert!(
        (now - 60_000_000..=now_us()).contains(&seen),
        "{seen} vs {now}"
    );
    assert!(store
        .session("t0", now, HOUR)
        .await
        .expect("read")
        .is_none());
    assert!(
        store
            .session("t1", now + 3 * HOUR, 4 * HOUR)
            .await
            .expect("read")
            .is_none(),
        "expired"
    );
    assert!(
        store
            .session("t1", seen + HOUR, HOUR)
            .await
            .expect("read")
            .is_none(),
        "idle"
    );
    store
        .touch_session("t1", seen + HOUR / 2)
        .await
        .expect("touch");
    let (_, seen2) = store
        .session("t1", seen + HOUR / 2, HOUR)
        .await
        .expect("read")
        .expect("live again");
    assert_eq!(seen2, seen + HOUR / 2);
    assert!(store
        .session("t1", seen + HOUR, HOUR)
        .await
        .expect("read")
        .is_some());
}

/// A logout through one instance ends the session on another at once, even one that has just
/// seen it; the emergency switch ends every session.
pub(super) async fn a_logout_is_seen_at_once_by_another_instance(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    let now = now_us();
    for t in ["t1", "t2", "t3"] {
        a.create_session(t, &ana.id, now + HOUR)
            .await
            .expect("session");
    }
    let live = |store, t| async move { session(store, t).await.is_some() };
    assert!(live(&b, "t1").await && live(&b, "t2").await);
    a.delete_session("t1").await.expect("logout");
    assert!(!live(&b, "t1").await, "logged out");
    assert!(live(&b, "t2").await, "the other session stays");
    b.delete_all_sessions().await.expect("all");
    assert!(!live(&a, "t2").await && !live(&a, "t3").await);
}

/// A new password ends every session and forgets every device, on every instance; an import
/// with the same password ends nothing.
pub(super) async fn a_new_password_ends_sessions_and_devices_on_every_instance(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
    let now = now_us();
    a.create_session("t", &ana.id, now + HOUR)
        .await
        .expect("session");
    a.remember_device("d", &ana.id, now).await.expect("device");
    let live = || async { session(&b, "t").await.is_some() };
    assert!(live().await);
    a.upsert_account(&import("ana@example.it", "$argon2id$not-used"))
        .await
        .expect("the same import");
    assert!(live().await, "the same password keeps the session");
    assert!(b.known_device("d", &ana.id, now, HOUR).await.expect("read"));
    a.upsert_account(&import("ana@example.it", "new"))
        .await
        .expect("a new password");
    assert!(!live().await, "a new password ends the session");
    assert!(!b.known_device("d", &ana.id, now, HOUR).await.expect("read"));
    let row = b
        .account_by_email("ana@example.it")
        .await
        .expect("read")
        .expect("account");
    assert_eq!(row.password_hash, "new");
}

pub(super) async fn a_device_is_known_to_its_account_only_and_until_forgotten(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let now = 10 * HOUR;
    let known = |id, at| store.known_device("d", id, at, HOUR);
    assert!(!known(ana.id.as_str(), now).await.expect("read"));
    store
        .remember_device("d", &ana.id, now)
        .await
        .expect("device");
    assert!(known(ana.id.as_str(), now).await.expect("read"));
    assert!(!known(bea.id.as_str(), now).await.expect("read"));
    assert!(
        !known(ana.id.as_str(), now + 2 * HOUR).await.expect("read"),
        "unused too long"
    );
    // Another account's login neither takes the device over nor refreshes it.
    store
        .remember_device("d", &bea.id, now + HOUR)
        .await
        .expect("device");
    assert!(!known(bea.id.as_str(), now + HOUR).await.expect("read"));
    assert!(!known(ana.id.as_str(), now + HOUR + 1).await.expect("read"));
    // Its own login refreshes it.
    store
        .remember_device("d", &ana.id, now + HOUR)
        .await
        .expect("device");
    assert!(known(ana.id.as_str(), now + 2 * HOUR - 1)
        .await
        .expect("read"));
    store.forget_device("d").await.expect("forget");
    assert!(!known(ana.id.as_str(), now + HOUR).await.expect("read"));
}

pub(super) async fn a_sign_on_jti_is_used_once(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let now = 10 * HOUR;
    assert!(a.use_sso_jti("j", now + HOUR, now).await.expect("jti"));
    assert!(!a.use_sso_jti("j", now + HOUR, now).await.expect("jti"));
    assert!(
        !b.use_sso_jti("j", now + HOUR, now + 1).await.expect("jti"),
        "on another instance"
    );
    assert!(b.use_sso_jti("k", now + HOUR, now).await.expect("jti"));
    // Once expired it is swept, and the id may be seen again (its token has expired anyway).
    assert!(a
        .use_sso_jti("j", now + 3 * HOUR, now + 2 * HOUR)
        .await
        .expect("jti"));
}

pub(super) async fn instances_racing_on_one_jti_let_one_through(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let tries = (0..10).map(|n| {
        let store = if n % 2 == 0 { &a } else { &b };
        async move { store.use_sso_jti("same", i64::MAX, 0).await.expect("jti") }
    });
    let fresh = futures_util::future::join_all(tries).await;
    assert_eq!(fresh.iter().filter(|f| **f).count(), 1, "{fresh:?}");
}

pub(super) async fn login_attempts_are_counted_per_key_in_a_window(db: &impl Database) {
    let store = db.open().await;
    let t = 100 * HOUR;
    assert_eq!(store.attempts("k").await.expect("read"), None);
    assert_eq!(
        store.count_attempt("k", HOUR, t).await.expect("count"),
        (1, t)
    );
    assert_eq!(
        store.count_attempt("k", HOUR, t + 1).await.expect("count"),
        (2, t)
    );
    assert_eq!(
        store
            .count_attempt("other", HOUR, t + 1)
            .await
            .expect("count"),
        (1, t + 1)
    );
    assert_eq!(store.attempts("k").await.expect("read"), Some((2, t)));
    store.give_back_attempt("k").await.expect("give back");
    assert_eq!(store.attempts("k").await.expect("read"), Some((1, t)));
    store.give_back_attempt("k").await.expect("give back");
    store.give_back_attempt("k").await.expect("give back");
    assert_eq!(
        store.attempts("k").await.expect("read"),
        Some((0, t)),
        "never below 0"
    );
    store.count_attempt("k", HOUR, t + 2).await.expect("count");
    // A window that has ended starts again.
    assert_eq!(
        store
            .count_attempt("k", HOUR, t + HOUR)
            .await
            .expect("count"),
        (1, t + HOUR)
    );
    store.clear_attempts("k").await.expect("clear");
    assert_eq!(store.attempts("k").await.expect("read"), None);
    assert_eq!(
        store.attempts("other").await.expect("read"),
        Some((1, t + 1))
    );
    store
        .count_attempt("k", HOUR, t + 3 * HOUR)
        .await
        .expect("count");
    store.sweep_attempts(t + 2 * HOUR).await.expect("sweep");
    assert_eq!(store.attempts("other").await.expect("read"), None, "swept");
    assert_eq!(
        store.attempts("k").await.expect("read"),
        Some((1, t + 3 * HOUR))
    );
}

/// Wrong passwords spread over two instances at once are all counted, each once.
pub(super) async fn instances_count_every_attempt(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let t = 100 * HOUR;
    let tries = (0..20).map(|n| {
        let store = if n % 2 == 0 { &a } else { &b };
        async move { store.count_attempt("k", HOUR, t).await.expect("count").0 }
    });
    let mut seen = futures_util::future::join_all(tries).await;
    seen.sort();
    assert_eq!(seen, (1..=20).collect::<Vec<i64>>());
    assert_eq!(b.attempts("k").await.expect("read"), Some((20, t)));
}
