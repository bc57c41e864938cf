//! Live events for signed-in customers (`GET /api/v1/events`, see `http/events.rs`): a new
//! message or a status change on one of their tickets, whoever wrote it and through whichever
//! process or instance.
//!
//! The database is the source: one poller per process reads the messages added since the last
//! one it handed out (one query on the primary key every [`POLL_EVERY`], however many streams are
//! open) and hands each to the streams of the ticket's customer, in memory. An idle stream costs
//! no database work; a reconnecting one reads what it missed once (see `http/events.rs`).
//!
//! Events are handed out strictly in `seq` order, and the poller's `cursor` means "every message
//! up to here has been handed out": a stream that subscribes at cursor `c` gets every later one
//! from the hub, and what it missed up to `c` from the database, so nothing is lost or doubled.

use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::MessageEvent;
use helpdesk_core::api::MessageKind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often the poller looks for new messages: a reply reaches the customer within about this.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// Rows read at once; more are read at once after a full batch.
const BATCH: u32 = 500;
/// Events one stream may have queued; a stream that falls this far behind (its client does not
/// read) is ended, and its client's reconnection reads what it missed from the database.
const STREAM_QUEUE: usize = 256;
/// How long a hole in `seq` may stay before the poller goes past it (PostgreSQL only).
///
/// On PostgreSQL identity values are taken when a row is inserted but become visible when its
/// transaction commits, so two replies committing at once may show `seq` 101 before 100. Handing
/// out 101 and moving on would lose 100 for every stream; so the poller stops at a hole and waits
/// for it to fill. A hole that stays is a value whose transaction rolled back (nothing to hand
/// out): after this wait the poller goes past it. The one assumption is that no transaction
/// inserting a message stays uncommitted this long after a later one committed (they are a few
/// writes each); one that did would still be in the ticket, only not sent live. A hole costs the
/// events behind it at most this much delay, and only when a write rolled back.
///
/// On SQLite one writer commits one transaction after another, so what is visible is always a
/// prefix of `seq` and a hole is a row that will never come: it is passed at once.
pub const GAP_WAIT: Duration = Duration::from_secs(5);

/// One event as sent: its id (the message's `seq`), type, and JSON data.
#[derive(Debug)]
pub struct Live {
    pub seq: i64,
    pub name: &'static str,
    pub data: String,
}

impl Live {
    pub fn from_row(e: &MessageEvent) -> Live {
        let name = match e.kind {
            MessageKind::Message => "message",
            MessageKind::Event => "status",
        };
        let data = serde_json::json!({
            "ticket": e.code,
            "message_id": e.message_id,
            "kind": e.kind,
            "author_kind": e.author_kind,
            // The status an event set, else the ticket's as the poller read it.
            "status": e.status.unwrap_or(e.ticket_status),
            "ticket_status": e.ticket_status,
        })
        .to_string();
        Live {
            seq: e.seq,
            name,
            data,
        }
    }
}

/// The streams open in this process, per customer, and where the poller is.
pub struct Hub {
    inner: Mutex<Inner>,
    per_customer: usize,
    max: usize,
    /// Whether a hole in `seq` can be passed at once (SQLite; see [`GAP_WAIT`]).
    commits_in_order: bool,
    /// Cancelled when the server stops: every stream ends, and the connections close instead of
    /// holding graceful shutdown.
    pub closed: CancellationToken,
}

struct Inner {
    /// Every message with `seq` up to this has been handed out (or was before this process).
    cursor: i64,
    /// A hole found at `cursor`, and when: see [`GAP_WAIT`].
    gap: Option<(i64, Instant)>,
    next_id: u64,
    total: usize,
    streams: HashMap<String, Vec<Listener>>,
}

/// One open stream: its id and where its events go.
type Listener = (u64, mpsc::Sender<Arc<Live>>);

/// The limit a new stream met.
#[derive(Debug)]
pub struct Full;

/// A stream's place in the hub: every event after `since` arrives on `rx`. Dropping it (the
/// connection ends) frees its place.
pub struct Subscription {
    pub since: i64,
    pub rx: mpsc::Receiver<Arc<Live>>,
    hub: Arc<Hub>,
    account_id: String,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut inner = self.hub.lock();
        let Some(list) = inner.streams.get_mut(&self.account_id) else {
            return;
        };
        let before = list.len();
        list.retain(|(id, _)| *id != self.id);
        let removed = before - list.len();
        if list.is_empty() {
            inner.streams.remove(&self.account_id);
        }
        inner.total -= removed;
    }
}

impl Hub {
    /// Starts at `cursor`, the highest `seq` when the process starts: earlier messages are only
    /// ever replayed to a stream that asks for them.
    pub fn new(cursor: i64, per_customer: usize, max: usize, commits_in_order: bool) -> Arc<Hub> {
        Arc::new(Hub {
            inner: Mutex::new(Inner {
                cursor,
                gap: None,
                next_id: 0,
                total: 0,
                streams: HashMap::new(),
            }),
            per_customer,
            max,
            commits_in_order,
            closed: CancellationToken::new(),
        })
    }

    /// Each step under the lock leaves the map consistent, so a poisoned lock is used as it is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for one more stream of `account_id`, or [`Full`] at either limit.
    pub fn subscribe(self: &Arc<Self>, account_id: &str) -> Result<Subscription, Full> {
        let mut inner = self.lock();
        let mine = inner.streams.get(account_id).map_or(0, Vec::len);
        if mine >= self.per_customer || inner.total >= self.max {
            return Err(Full);
        }
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        let id = inner.next_id;
        inner.next_id += 1;
        inner.total += 1;
        inner
            .streams
            .entry(account_id.to_string())
            .or_default()
            .push((id, tx));
        Ok(Subscription {
            since: inner.cursor,
            rx,
            hub: Arc::clone(self),
            account_id: account_id.to_string(),
            id,
        })
    }

    fn cursor(&self) -> i64 {
        self.lock().cursor
    }

    /// Hands out `rows` (read after the cursor, in `seq` order) up to the first hole that may
    /// still fill; whether the cursor moved.
    fn deliver(&self, rows: &[MessageEvent]) -> bool {
        let mut inner = self.lock();
        let start = inner.cursor;
        for row in rows {
            if row.seq <= inner.cursor {
                continue;
            }
            if row.seq != inner.cursor + 1 && !self.commits_in_order {
                let cursor = inner.cursor;
                match inner.gap {
                    Some((at, since)) if at == cursor => {
                        if since.elapsed() < GAP_WAIT {
                            break;
                        }
                        tracing::debug!(
                            after = cursor,
                            next = row.seq,
                            "live events: passing a hole in seq"
                        );
                    }
                    _ => {
                        inner.gap = Some((cursor, Instant::now()));
                        break;
                    }
                }
            }
            inner.gap = None;
            inner.cursor = row.seq;
            let Some(list) = inner.streams.get_mut(&row.account_id) else {
                continue;
            };
            let live = Arc::new(Live::from_row(row));
            let before = list.len();
            // A stream that does not keep up is let go: its connection ends once it has sent
            // what is queued, and the reconnection reads the rest from the database.
            list.retain(|(_, tx)| tx.try_send(Arc::clone(&live)).is_ok());
            let removed = before - list.len();
            if list.is_empty() {
                inner.streams.remove(&row.account_id);
            }
            inner.total -= removed;
        }
        inner.cursor != start
    }
}

/// The process's one poller: reads new messages every [`POLL_EVERY`] and hands them out, until
/// `shutdown`, when it ends every stream.
pub async fn poller(state: AppState, shutdown: CancellationToken) {
    let hub = &state.events;
    let mut last_warning: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                hub.closed.cancel();
                return;
            }
            _ = tokio::time::sleep(POLL_EVERY) => {}
        }
        loop {
            let rows = match state
                .store
                .message_events(hub.cursor(), i64::MAX, None, BATCH)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                        tracing::warn!(error = %e, "live events: reading new messages failed");
                        last_warning = Some(Instant::now());
                    }
                    break;
                }
            };
            let full = rows.len() == BATCH as usize;
            if !hub.deliver(&rows) || !full {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_core::api::{AuthorKind, Status};

    fn row(seq: i64, account: &str) -> MessageEvent {
        MessageEvent {
            seq,
            account_id: account.into(),
            code: "T1".into(),
            message_id: format!("m{seq}"),
            kind: MessageKind::Message,
            author_kind: AuthorKind::Staff,
            status: None,
            ticket_status: Status::Open,
        }
    }

    #[test]
    fn a_hole_in_seq_holds_later_events_on_postgresql_and_not_on_sqlite() {
        let pg = Hub::new(10, 6, 100, false);
        let mut sub = pg.subscribe("a").unwrap();
        assert!(pg.deliver(&[row(11, "a"), row(13, "a")]));
        assert_eq!(sub.rx.try_recv().unwrap().seq, 11);
        assert!(sub.rx.try_recv().is_err(), "13 waits for 12");
        assert!(pg.deliver(&[row(12, "b"), row(13, "a")]));
        assert_eq!(sub.rx.try_recv().unwrap().seq, 13);

        let lite = Hub::new(10, 6, 100, true);
        let mut sub = lite.subscribe("a").unwrap();
        assert!(lite.deliver(&[row(13, "a")]));
        assert_eq!(sub.rx.try_recv().unwrap().seq, 13);
    }

    #[test]
    fn limits_count_open_streams_and_free_them_when_dropped() {
        let hub = Hub::new(0, 2, 3, true);
        let a1 = hub.subscribe("a").unwrap();
        let _a2 = hub.subscribe("a").unwrap();
        assert!(hub.subscribe("a").is_err());
        let _b1 = hub.subscribe("b").unwrap();
        assert!(hub.subscribe("c").is_err(), "three in all");
        drop(a1);
        assert!(hub.subscribe("c").is_ok());
    }
}
