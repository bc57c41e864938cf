//! The outbox: a notification is claimed by one sender for a lease, so that instances sending at
//! once never send it twice, and one whose sender stopped is sent by another when the lease ends.

use super::*;
use helpdesk_server::storage::OUTBOX_LEASE_US;
use helpdesk_server::util::now_us;

/// Queues `n` notifications the way the server does, each with a ticket of its own; returns a
/// time at which all of them are due.
async fn queue(store: &impl Storage, n: u32) -> i64 {
    let ana = customer(store, "ana@example.it").await;
    let asked = Arc::new(AtomicUsize::new(0));
    for i in 1..=n {
        new(store
            .create_ticket(
                record(code(i), Status::Open, draft(&ana, "Avviso"), None),
                composer(&asked),
            )
            .await);
    }
    now_us()
}

fn ids(items: &[helpdesk_server::storage::OutboxItem]) -> Vec<i64> {
    items.iter().map(|i| i.id).collect()
}

pub(super) async fn a_claimed_notification_waits_for_its_lease(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let before = now_us() - 1;
    assert_eq!(a.next_notification_due().await.expect("due"), None);
    let now = queue(&a, 5).await;
    let due = a.next_notification_due().await.expect("due").expect("one");
    assert!((before..=now).contains(&due), "{due}");
    assert!(
        a.due_notifications(before, 10)
            .await
            .expect("due")
            .is_empty(),
        "not yet due"
    );
    let first = a.due_notifications(now, 3).await.expect("claim");
    let mine = ids(&first);
    assert_eq!(mine.len(), 3);
    assert!(
        mine.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {mine:?}"
    );
    assert_eq!(
        (
            first[0].to.as_str(),
            first[0].subject.as_str(),
            first[0].attempts
        ),
        ("ana@example.it", "Avviso", 0)
    );
    assert!(first[0].message_id.ends_with("@contract.test>"));
    // Claimed rows are not handed to another sender while their lease runs.
    let rest = b.due_notifications(now, 10).await.expect("claim");
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|i| !mine.contains(&i.id)));
    assert!(a
        .due_notifications(now + 1, 10)
        .await
        .expect("claim")
        .is_empty());
    assert!(b
        .due_notifications(now + OUTBOX_LEASE_US - 1, 10)
        .await
        .expect("claim")
        .is_empty());
    assert_eq!(
        b.next_notification_due().await.expect("due"),
        Some(now + OUTBOX_LEASE_US),
        "when the leases end"
    );
}

pub(super) async fn sent_is_never_again_and_failed_is_due_at_its_next_try(db: &impl Database) {
    let (a, b) = (db.open().await, db.open().await);
    let now = queue(&a, 2).await;
    let claimed = ids(&a.due_notifications(now, 10).await.expect("claim"));
    assert_eq!(claimed.len(), 2);
    a.mark_sent(claimed[0], now + 1).await.expect("sent");
    a.mark_failed(claimed[1], now + 5, "refused")
        .await
        .expect("failed");
    assert_eq!(b.next_notification_due().await.expect("due"), Some(now + 5));
    assert!(b
        .due_notifications(now + 4, 10)
        .await
        .expect("claim")
        .is_empty());
    let again = b.due_notifications(now + 5, 10).await.expect("claim");
    assert_eq!(
        ids(&again),
        [claimed[1]],
        "failed: due at its next try, lease or not"
    );
    assert_eq!(again[0].attempts, 1);
    b.mark_sent(claimed[1], now + 6).await.expect("sent");
    assert_eq!(a.next_notification_due().await.expect("due"), None);
    assert!(
        a.due_notifications(now + 2 * OUTBOX_LEASE_US, 10)
            .await
            .expect("claim")
            .is_empty(),
        "sent: never again"
    );
}

/// A sender that stopped without marking its claims: they pass to another instance once the
/// lease ends, and only then.
pub(super) async fn an_unmarked_claim_passes_to_another_instance_when_its_lease_ends(
    db: &impl Database,
) {
    let (a, b) = (db.open().await, db.open().await);
    let now = queue(&a, 3).await;
    let claimed = ids(&a.due_notifications(now, 10).await.expect("claim"));
    assert_eq!(claimed.len(), 3);
    let until = now + OUTBOX_LEASE_US;
    assert!(b
        .due_notifications(until - 1, 10)
        .await
        .expect("claim")
        .is_empty());
    let taken = b.due_notifications(until, 10).await.expect("claim");
    assert_eq!(ids(&taken), claimed);
    assert!(
        a.due_notifications(until, 10)
            .await
            .expect("claim")
            .is_empty(),
        "b holds them now"
    );
    for id in claimed {
        b.mark_sent(id, until).await.expect("sent");
    }
    assert_eq!(a.next_notification_due().await.expect("due"), None);
}
