//! Uploads and what they count: an allowance per window and a quota of bytes kept, both checked
//! in the write that records the file, so that instances racing for the last of either cannot
//! both pass.

use super::*;
use helpdesk_server::storage::{Allowance, Charge, UsageKind, Viewer, UPLOAD_TTL_US};
use helpdesk_server::util::now_us;

/// A charge of `amount` against an allowance of `max` bytes per hour and a quota of 150 bytes.
fn bytes(amount: i64, max: i64) -> Charge {
    Charge {
        rate: Some(Allowance {
            kind: UsageKind::UploadBytes,
            amount,
            max,
            window_us: HOUR,
        }),
        quota_bytes: Some(150),
    }
}

pub(super) async fn an_upload_is_charged_its_rate_and_quota(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let now = now_us();
    store
        .insert_upload(&ana.id, &file("f1", 60), bytes(60, 100))
        .await
        .expect("upload");
    let (used, ends) = store
        .usage_in_window(&ana.id, UsageKind::UploadBytes, HOUR, now)
        .await
        .expect("usage");
    assert_eq!(used, 60);
    assert!(ends > now && ends <= now + HOUR + 60_000_000, "{ends}");
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 60);
    match store
        .insert_upload(&ana.id, &file("f2", 50), bytes(50, 100))
        .await
    {
        Err(StoreError::RateLimited {
            kind: UsageKind::UploadBytes,
            retry_after_secs,
        }) => assert!(
            (3500..=3600).contains(&retry_after_secs),
            "{retry_after_secs}"
        ),
        other => panic!("expected the allowance used up, got {other:?}"),
    }
    // Refused: nothing counted, nothing stored.
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 60);
    assert!(store
        .file_for(Viewer::Staff, "f2")
        .await
        .expect("read")
        .is_none());
    // The quota: 60 + 100 > 150, and the allowance is not charged for a refusal.
    let quota_only = Charge {
        rate: None,
        quota_bytes: Some(150),
    };
    match store
        .insert_upload(&ana.id, &file("f3", 100), quota_only)
        .await
    {
        Err(StoreError::QuotaExceeded { quota: 150 }) => {}
        other => panic!("expected the quota exceeded, got {other:?}"),
    }
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 60);
    // Within both, it passes and both count it.
    store
        .insert_upload(&ana.id, &file("f4", 40), bytes(40, 100))
        .await
        .expect("upload");
    let (used, _) = store
        .usage_in_window(&ana.id, UsageKind::UploadBytes, HOUR, now)
        .await
        .expect("usage");
    assert_eq!(
        (used, store.stored_bytes(&ana.id).await.expect("bytes")),
        (100, 100)
    );
}

pub(super) async fn an_upload_is_read_by_its_owner_and_staff_until_it_expires(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let now = now_us();
    store
        .insert_upload(&ana.id, &file("f1", 60), Charge::default())
        .await
        .expect("upload");
    let f = store
        .file_for(Viewer::Customer(&ana.id), "f1")
        .await
        .expect("read")
        .expect("her own upload");
    assert_eq!(
        (f.name.as_str(), f.size, f.account_id.as_str(), f.message_id),
        ("f1.txt", 60, ana.id.as_str(), None)
    );
    assert_eq!(f.content_type, "text/plain");
    assert!(store
        .file_for(Viewer::Customer(&bea.id), "f1")
        .await
        .expect("read")
        .is_none());
    assert!(store
        .file_for(Viewer::Staff, "f1")
        .await
        .expect("read")
        .is_some());
    assert_eq!(
        store
            .pending_uploads(&ana.id, now - HOUR)
            .await
            .expect("pending"),
        1
    );
    assert_eq!(
        store
            .pending_uploads(&bea.id, now - HOUR)
            .await
            .expect("pending"),
        0
    );
    assert!(store.expire_uploads(now).await.expect("expire").is_empty());
    let gone = store
        .expire_uploads(now + UPLOAD_TTL_US + 60_000_000)
        .await
        .expect("expire");
    assert_eq!(gone, ["f1"]);
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 0);
    assert_eq!(
        store
            .pending_uploads(&ana.id, now - HOUR)
            .await
            .expect("pending"),
        0
    );
    assert!(store
        .file_for(Viewer::Staff, "f1")
        .await
        .expect("read")
        .is_none());
}

/// An upload attached to a ticket is read by that ticket's customer and staff, is no longer
/// pending nor expires, and cannot be attached again nor by someone else.
pub(super) async fn an_attached_file_is_read_by_the_tickets_customer(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let now = now_us();
    for (who, id) in [(&ana, "f1"), (&bea, "g1")] {
        store
            .insert_upload(&who.id, &file(id, 10), Charge::default())
            .await
            .expect("upload");
    }
    let theirs = ["g1".to_string()];
    let mut d = draft(&ana, "Con l'allegato di un'altra");
    d.first.upload_ids = &theirs;
    let r = store
        .create_ticket(record(code(1), Status::Open, d, None), silent)
        .await;
    assert!(matches!(r, Err(StoreError::UploadUnavailable(_))), "{r:?}");

    let mine = ["f1".to_string()];
    let mut d = draft(&ana, "Con allegato");
    d.first.upload_ids = &mine;
    let t = new(store
        .create_ticket(record(code(1), Status::Open, d, None), silent)
        .await);
    let attached: Vec<_> = t.messages[0]
        .attachments
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(attached, ["f1"]);
    let f = store
        .file_for(Viewer::Customer(&ana.id), "f1")
        .await
        .expect("read")
        .expect("on her ticket");
    assert_eq!(f.message_id.as_deref(), Some(t.messages[0].id.as_str()));
    assert!(store
        .file_for(Viewer::Customer(&bea.id), "f1")
        .await
        .expect("read")
        .is_none());
    assert_eq!(
        store
            .pending_uploads(&ana.id, now - HOUR)
            .await
            .expect("pending"),
        0
    );
    let gone = store
        .expire_uploads(now + UPLOAD_TTL_US + 60_000_000)
        .await
        .expect("expire");
    assert_eq!(gone, ["g1"], "only the upload on no ticket");
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 10);

    let mut d = draft(&ana, "Di nuovo");
    d.first.upload_ids = &mine;
    let r = store
        .create_ticket(record(code(2), Status::Open, d, None), silent)
        .await;
    assert!(
        matches!(r, Err(StoreError::UploadUnavailable(_))),
        "used once: {r:?}"
    );
}

/// Usage is per account and kind; a window that has ended starts again.
pub(super) async fn a_usage_window_ends_and_starts_again(db: &impl Database) {
    let store = db.open().await;
    let ana = customer(&store, "ana@example.it").await;
    let bea = customer(&store, "bea@example.it").await;
    let now = now_us();
    store
        .insert_upload(&ana.id, &file("f1", 30), bytes(30, 100))
        .await
        .expect("upload");
    let usage = |id, kind, at| store.usage_in_window(id, kind, HOUR, at);
    assert_eq!(
        usage(ana.id.as_str(), UsageKind::UploadBytes, now)
            .await
            .expect("usage")
            .0,
        30
    );
    assert_eq!(
        usage(ana.id.as_str(), UsageKind::Tickets, now)
            .await
            .expect("usage")
            .0,
        0
    );
    assert_eq!(
        usage(bea.id.as_str(), UsageKind::UploadBytes, now)
            .await
            .expect("usage")
            .0,
        0
    );
    assert_eq!(store.stored_bytes(&bea.id).await.expect("bytes"), 0);
    let later = now + 2 * HOUR;
    assert_eq!(
        usage(ana.id.as_str(), UsageKind::UploadBytes, later)
            .await
            .expect("usage"),
        (0, later + HOUR)
    );
    // Within its window the allowance counts what was used.
    store
        .insert_upload(&ana.id, &file("f2", 90), bytes(90, 100))
        .await
        .expect_err("not within this window");
    assert_eq!(store.stored_bytes(&ana.id).await.expect("bytes"), 30);
}

/// Two instances racing for one allowance of five: exactly five pass, the rest are told to wait.
pub(super) async fn instances_racing_for_an_allowance_of_five_pass_five(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let ana = customer(&a, "ana@example.it").await;
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
        let (store, ana) = (if n % 2 == 0 { &a } else { &b }, &ana);
        async move {
            store
                .insert_upload(&ana.id, &file(&format!("r{n}"), 1), one())
                .await
        }
    });
    let results = futures_util::future::join_all(tries).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        5,
        "{results:?}"
    );
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(StoreError::RateLimited { .. }))));
    assert_eq!(b.stored_bytes(&ana.id).await.expect("bytes"), 5);
    assert_eq!(
        a.usage_in_window(&ana.id, UsageKind::Tickets, HOUR, now_us())
            .await
            .expect("usage")
            .0,
        5
    );
}
