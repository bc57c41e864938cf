//! Serving HTTP so that slow or idle clients cannot exhaust the server: time limits on request
//! headers and on idle keep-alive connections, a minimum transfer rate for request bodies and
//! responses, a bound on each connection's buffers, and a cap on open connections taken from the
//! open-file limit, where the connection stalled the longest makes room.
//!
//! The rate counts only bytes that are due: a body the handler is waiting for, a response the
//! socket does not take. Once a transfer has been due for [`RATE_WINDOW`], every further
//! [`RATE_WINDOW`] of due time must have moved [`MIN_RATE`] bytes a second, or the connection is
//! closed: one slow from its start after its first 10 s of due time, one that slows down about a
//! window after it did (checked every second). An idle keep-alive
//! connection, a handler at work, or a response whose next part the server itself awaits is owed
//! nothing. Response bytes count once the client's side has acknowledged them (`TIOCOUTQ`), not
//! when the kernel took them: its buffer can take megabytes at once and then none for a minute.
//!
//! Why our own accept loop rather than `axum::serve`: that one sets no timer, so hyper applies no
//! header timeout at all, and it has no cap. Hyper's own `header_read_timeout` (measured on hyper
//! 1.12) starts when a connection opens and again when each response ends, so it would give an idle
//! keep-alive connection no more time than slow headers; keep-alive must outlast a proxy's (nginx
//! keeps idle upstream connections 60 s), so the two limits are timed here, per connection.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long clients may take, how fast they must be, and how many may be connected at once.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest a client may take to send a request's headers: from the moment it connects, or
    /// from the first byte of a later request on a kept-alive connection.
    pub header_read: Duration,
    /// Longest a kept-alive connection may wait, silent, for its next request. Longer than a
    /// proxy's idle upstream timeout (nginx: 60 s), so a proxy never sends a request on a
    /// connection we have just closed.
    pub idle: Duration,
    /// The least a request's body or a response must move while it is due, in bytes a second,
    /// over each `rate_window` of due time once a transfer has been due that long.
    pub min_rate: u64,
    pub rate_window: Duration,
    /// Most connections open at once; past it, the one stalled the longest is closed to make
    /// room.
    pub max_connections: usize,
}

/// The least a transfer must move while it is due (1 KiB/s)...
pub const MIN_RATE: u64 = 1024;
/// ...over any window of this much due time, after its first one.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);
/// How often a connection with a request in progress checks its pace and publishes how far
/// behind it is (what eviction compares).
const PACE_TICK: Duration = Duration::from_secs(1);

/// Hyper's buffers per connection: the read buffer, which holds a request's headers and each
/// read of a body, and the write queue; also the largest header block (431 beyond it: the buffer
/// alone is a loose bound, its allocation may grow past it by half). Hyper's default is ~400 KB,
/// so that every connection holding unfinished headers cost 408 KB. 32 KiB keeps a 16 KiB header
/// beside large cookies.
pub const MAX_BUF: usize = 32 * 1024;
/// What all connections together may hold in buffers, whatever the open-file limit.
pub const CONNECTION_MEMORY_BUDGET: usize = 256 * 1024 * 1024;
/// What one connection holding `MAX_BUF` of unfinished headers costs the process at most: the
/// read buffer's allocation may grow to 48 KiB, and the connection's own state. Measured
/// (`header_memory_is_bounded_per_connection` in tests/security/dos_http.rs): 20 to 27 KiB on a
/// quiet machine, up to 65 KiB under load.
pub const CONNECTION_MEMORY: usize = 80 * 1024;
/// The highest cap the budget allows (3,276).
pub const MAX_CONNECTIONS: usize = CONNECTION_MEMORY_BUDGET / CONNECTION_MEMORY;

/// File descriptors kept out of the HTTP budget whatever the limit: the database pool (each
/// SQLite connection holds the database and its WAL), stored files being read or written, the
/// outbox, DNS lookups of the mail checks, logs.
const RESERVED_FILES: u64 = 64;

impl Limits {
    /// A 10 s header timeout, 1 KiB/s over 10 s for bodies and responses, the configured idle
    /// timeout, and the configured cap or else one taken from this process's open-file limit.
    pub fn for_this_process(config: &crate::config::Config) -> Limits {
        let nofile = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
            Ok((soft, _hard)) => soft,
            Err(e) => {
                tracing::warn!(error = %e, "open-file limit unknown; assuming 1024");
                1024
            }
        };
        let limits = Limits {
            header_read: Duration::from_secs(10),
            idle: config.http_idle_timeout,
            min_rate: MIN_RATE,
            rate_window: RATE_WINDOW,
            max_connections: config
                .http_max_connections
                .unwrap_or_else(|| connection_cap(nofile)),
        };
        tracing::info!(
            open_files = nofile,
            max_connections = limits.max_connections,
            "HTTP connection limit"
        );
        limits
    }
}

/// How many HTTP connections fit in an open-file limit: what the reserve leaves, less a quarter
/// for the SMTP intake, which has its own cap.
pub fn connection_cap(nofile: u64) -> usize {
    let rest = nofile.saturating_sub(RESERVED_FILES);
    let cap = rest - rest / 4;
    // At least a few, whatever the limit says; at most what the memory budget holds.
    usize::try_from(cap)
        .unwrap_or(MAX_CONNECTIONS)
        .clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// Connections kept open whatever the descriptors say.
const MIN_CONNECTIONS: usize = 16;

/// At the cap with no connection to close (all on pace), how often to look again.
const EVICT_RETRY: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown`, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    limits: Limits,
) {
    let table = Arc::new(Table::new());
    let tracker = TaskTracker::new();
    // Warnings about an attack, at most one a minute (full) or ten seconds (accept failing).
    let mut last_full: Option<Instant> = None;
    let mut last_warning: Option<Instant> = None;
    // Lowered when accepting runs out of descriptors (they are wanted elsewhere: SMTP, files),
    // and tried at the full cap again after a while.
    let mut cap = limits.max_connections;
    let mut lowered: Option<Instant> = None;
    'accept: loop {
        if lowered.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
            cap = limits.max_connections;
            lowered = None;
        }
        // Make room before accepting, so the next connection always has a place. A connection
        // chosen to close counts as gone: it closes within moments, and waiting for each one
        // would let a flood of reconnecting slow clients queue ahead of everyone in the backlog.
        loop {
            let room = table.room.notified();
            if table.make_room(cap) {
                break;
            }
            if last_full.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                tracing::warn!(
                    max = cap,
                    "HTTP connection limit reached: closing the connections stalled the longest"
                );
                last_full = Some(Instant::now());
            }
            // When every connection is on pace, none is chosen: look again as they change.
            tokio::select! {
                _ = shutdown.cancelled() => break 'accept,
                _ = room => {}
                _ = tokio::time::sleep(EVICT_RETRY) => {}
            }
        }
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let conn = table.register();
                tracker.spawn(connection(
                    stream,
                    peer,
                    app.clone(),
                    conn,
                    limits,
                    shutdown.clone(),
                ));
            }
            // The client gave up before we took its connection: nothing to do.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::Interrupted
                ) => {}
            // Out of file descriptors (EMFILE, ENFILE) or buffers: the connection stays in the
            // backlog and accept would fail again at once. Free a stalled connection's descriptor,
            // keep below this many connections for a while, and retry once one has closed (or
            // after 50 ms): neither a busy loop nor a stall that the backlog would feel.
            Err(e) => {
                if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(error = %e, open = table.len(), "accepting HTTP connections failed");
                    last_warning = Some(Instant::now());
                }
                cap = table.len().saturating_sub(1).max(MIN_CONNECTIONS);
                lowered = Some(Instant::now());
                let room = table.room.notified();
                table.make_room(cap);
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = room => {}
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// Serves one connection until it ends, is evicted, times out, falls below the minimum rate, or
/// the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    conn: Arc<Conn>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    // Valid while `serving` owns the stream, that is for as long as this task uses it.
    let fd = stream.as_raw_fd();
    let _registered = Registered(Arc::clone(&conn));
    let io = TokioIo::new(Watched {
        stream,
        conn: Arc::clone(&conn),
        waiting: false,
    });
    let in_service = Arc::clone(&conn);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let busy = Busy::start(Arc::clone(&in_service));
        // What `into_make_service_with_connect_info` gave handlers: the TCP peer.
        req.extensions_mut().insert(ConnectInfo(peer));
        let conn = Arc::clone(&in_service);
        let req = req.map(|body| Metered {
            body,
            conn,
            awaiting: false,
        });
        let app = app.clone();
        async move {
            let Ok(response) = app.oneshot(req).await;
            Ok::<_, Infallible>(response.map(|body| Tracked { body, _busy: busy }))
        }
    });
    let mut serving = pin!(http1::Builder::new()
        .keep_alive(true)
        .max_buf_size(MAX_BUF)
        .max_header_size(MAX_BUF)
        .serve_connection(io, service));
    // Checked again at least this often, so that no deadline is passed unseen: each one lies at
    // least this far after the change it follows (a response's end, a request's first byte).
    let tick = ms(limits.header_read.min(limits.idle));
    let mut pace = Pace::default();
    let mut stopping = false;
    loop {
        let now = conn.table.now_ms();
        let deadline = conn.deadline(&limits);
        if deadline.is_some_and(|d| d <= now) {
            tracing::debug!(%peer, "HTTP connection closed: no request in time");
            return;
        }
        // A request in progress, or the end of a response still waiting for the client.
        let (clock, transfer, due) = {
            let meter = conn.meter();
            (meter.clock(now), meter.transfer, meter.due())
        };
        let timing = transfer > 0 && (!conn.waiting() || due);
        if timing {
            let acknowledged = conn
                .written
                .load(Ordering::Relaxed)
                .saturating_sub(unacknowledged(fd));
            let moved = conn.body_bytes.load(Ordering::Relaxed) + acknowledged;
            match pace.observe(transfer, clock, moved, &limits) {
                Ok(behind) => conn.behind_ms.store(behind, Ordering::Release),
                Err(moved) => {
                    tracing::debug!(%peer, moved, "HTTP connection closed: slower than the minimum rate");
                    reset_on_close(fd);
                    return;
                }
            }
        }
        let next = if timing { ms(PACE_TICK) } else { tick };
        let check_at = deadline.map_or(now + next, |d| d.min(now + next));
        tokio::select! {
            served = serving.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "HTTP connection ended");
                }
                return;
            }
            _ = conn.evict.cancelled(), if !stopping => {
                if conn.waiting() || conn.behind_ms.load(Ordering::Acquire) > 0 {
                    tracing::debug!(%peer, "HTTP connection closed to make room");
                    reset_on_close(fd);
                    return;
                }
                // Chosen while it waited, but a request began since and keeps pace: that one is
                // answered, and the connection closes after it.
                {
                    let _open = conn.table.lock();
                    conn.table.not_closing(&conn);
                }
                stopping = true;
                serving.as_mut().graceful_shutdown();
            }
            _ = shutdown.cancelled(), if !stopping => {
                // A connection without a request in progress has nothing to finish.
                if conn.waiting() {
                    return;
                }
                stopping = true;
                serving.as_mut().graceful_shutdown();
            }
            _ = conn.began.notified() => {}
            _ = tokio::time::sleep_until(conn.table.instant(check_at)) => {}
        }
    }
}

/// Bytes written to the socket that the client's side has not acknowledged yet.
#[cfg(target_os = "linux")]
fn unacknowledged(fd: RawFd) -> u64 {
    let mut queued: libc::c_int = 0;
    // SAFETY: `fd` is this connection's open socket (see `connection`), and TIOCOUTQ (SIOCOUTQ)
    // writes one int through the pointer, which points to one.
    let done = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut queued as *mut libc::c_int) };
    if done == 0 {
        u64::try_from(queued).unwrap_or(0)
    } else {
        0
    }
}

/// Makes closing the socket a reset (SO_LINGER 0): what the kernel still holds for a client that
/// does not read (megabytes) is dropped with it, instead of being kept, and sent, after the close.
fn reset_on_close(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` is this connection's open socket (see `connection`); SO_LINGER reads one
    // `linger` of the size given.
    let _ = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
}

/// Elsewhere, what the kernel took counts as moved.
#[cfg(not(target_os = "linux"))]
fn unacknowledged(_fd: RawFd) -> u64 {
    0
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}

/// One connection's pace through its current transfer (a request and its response), kept by its
/// task. Times are milliseconds of due time (see [`Meter`]).
#[derive(Default)]
struct Pace {
    /// The transfer these figures are about; zero before the first.
    transfer: u64,
    /// Due time when the transfer was first seen.
    start: u64,
    /// (due time, bytes moved) at least a second of due time apart, oldest first: enough to look
    /// one window back.
    samples: VecDeque<(u64, u64)>,
    /// The last observation.
    last: (u64, u64),
    /// How far behind `min_rate` the transfer is: due time not paid for by bytes moved (each byte
    /// pays 1/min_rate s), never below zero, so no credit is banked.
    behind: u64,
}

impl Pace {
    /// Takes the due time and the bytes moved so far; `Ok` with how far behind the transfer is,
    /// or `Err` with what it moved in the last window when that is below the minimum.
    fn observe(
        &mut self,
        transfer: u64,
        clock: u64,
        moved: u64,
        limits: &Limits,
    ) -> Result<u64, u64> {
        if transfer != self.transfer {
            self.transfer = transfer;
            self.start = clock;
            self.samples.clear();
            self.samples.push_back((clock, moved));
            self.last = (clock, moved);
            self.behind = 0;
        }
        let rate = limits.min_rate.max(1);
        let (last_clock, last_moved) = self.last;
        let paid = moved.saturating_sub(last_moved).saturating_mul(1000) / rate;
        self.behind = (self.behind + clock.saturating_sub(last_clock)).saturating_sub(paid);
        self.last = (clock, moved);
        if self
            .samples
            .back()
            .is_none_or(|(at, _)| clock.saturating_sub(*at) >= ms(PACE_TICK))
        {
            self.samples.push_back((clock, moved));
        }
        let window = ms(limits.rate_window);
        if clock.saturating_sub(self.start) < window {
            return Ok(self.behind);
        }
        // The newest sample at least one window back.
        let cutoff = clock - window;
        while self.samples.get(1).is_some_and(|(at, _)| *at <= cutoff) {
            self.samples.pop_front();
        }
        let Some(&(_, then)) = self.samples.front() else {
            return Ok(self.behind);
        };
        let in_window = moved.saturating_sub(then);
        if in_window < rate.saturating_mul(window) / 1000 {
            return Err(in_window);
        }
        Ok(self.behind)
    }
}

/// The open connections, for the cap and for eviction.
struct Table {
    /// Times are milliseconds since this, plus one, so that zero can mean "none".
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// How many of them are chosen to close and have not yet.
    closing: std::sync::atomic::AtomicUsize,
    /// Signalled when a connection closes or starts waiting (it may then be evicted).
    room: tokio::sync::Notify,
}

impl Table {
    fn new() -> Table {
        Table {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            closing: std::sync::atomic::AtomicUsize::new(0),
            room: tokio::sync::Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        ms(self.epoch.elapsed()) + 1
    }

    fn instant(&self, at_ms: u64) -> Instant {
        self.epoch + Duration::from_millis(at_ms.saturating_sub(1))
    }

    /// The map stays consistent whatever panicked while holding it (each step is one insert or
    /// remove), so a poisoned lock is used as it is.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn register(self: &Arc<Self>) -> Arc<Conn> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            table: Arc::clone(self),
            waiting_since: AtomicU64::new(self.now_ms()),
            first_byte: AtomicU64::new(0),
            served: AtomicBool::new(false),
            evict: CancellationToken::new(),
            counted: AtomicBool::new(false),
            meter: Mutex::new(Meter::default()),
            body_bytes: AtomicU64::new(0),
            written: AtomicU64::new(0),
            behind_ms: AtomicU64::new(0),
            began: tokio::sync::Notify::new(),
        });
        self.lock().insert(id, Arc::clone(&conn));
        conn
    }

    /// Whether there is room for one more connection under `cap`, once the connections stalled
    /// the longest (see [`Conn::stalled_for`]) have been chosen to close, whatever they are
    /// doing. A normal client sends its request at once and reads its answer as it comes, so it
    /// is never one of them. They are chosen [`EVICT_BATCH`] at a time, so that one look through
    /// the table makes room for several connections; at most [`MAX_CLOSING`] are closing at
    /// once, so the descriptors in use stay within that of the cap.
    fn make_room(&self, cap: usize) -> bool {
        let open = self.lock();
        let closing = self.closing.load(Ordering::Acquire);
        let live = open.len().saturating_sub(closing);
        if live < cap {
            return true;
        }
        let budget = MAX_CLOSING.saturating_sub(closing);
        if budget == 0 {
            return false;
        }
        let needed = (live + 1 - cap).min(budget);
        let want = needed.max(EVICT_BATCH).min(budget);
        let now = self.now_ms();
        let mut stalled: Vec<(u64, &Arc<Conn>)> = open
            .values()
            .filter(|c| !c.evict.is_cancelled())
            .filter_map(|c| c.stalled_for(now).map(|for_ms| (for_ms, c)))
            .collect();
        if stalled.len() > want {
            stalled.select_nth_unstable_by(want - 1, |a, b| b.0.cmp(&a.0));
            stalled.truncate(want);
        }
        // Those needed now are the most stalled, whoever they are; the rest of the batch only if
        // clearly stalled, never a client that has just connected and is sending its request.
        stalled.sort_unstable_by_key(|(for_ms, _)| std::cmp::Reverse(*for_ms));
        let mut kept = 0;
        stalled.retain(|(for_ms, _)| {
            kept += 1;
            kept <= needed || *for_ms >= BATCH_MIN_STALL_MS
        });
        for (_, conn) in &stalled {
            conn.counted.store(true, Ordering::Release);
            conn.evict.cancel();
        }
        self.closing.fetch_add(stalled.len(), Ordering::AcqRel);
        live.saturating_sub(stalled.len()) < cap
    }

    /// A connection chosen to close will not close (it finishes a request first) or has closed.
    fn not_closing(&self, conn: &Conn) {
        if conn.counted.swap(false, Ordering::AcqRel) {
            self.closing.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Connections chosen to close at once when the cap is reached (more if more are needed)...
const EVICT_BATCH: usize = 16;
/// ...beyond those needed, only connections stalled this long.
const BATCH_MIN_STALL_MS: u64 = 1_000;
/// A connection waiting for its first request is not chosen before this (ms): a normal client's
/// request is on its way.
const FRESH_MS: u64 = 250;
/// Connections chosen to close that may still hold their descriptors at once.
const MAX_CLOSING: usize = 32;

/// One connection's state, shared by its task, its service and the accept loop.
struct Conn {
    id: u64,
    table: Arc<Table>,
    /// When it began waiting for a request (its start, or the end of its last response); zero
    /// while a request is in progress.
    waiting_since: AtomicU64,
    /// When the first byte arrived since it began waiting; zero if none has.
    first_byte: AtomicU64,
    /// Whether it has had a request: only then is its silence keep-alive, not a slow client.
    served: AtomicBool,
    evict: CancellationToken,
    /// Chosen to close, and counted in the table's `closing` until it has.
    counted: AtomicBool,
    /// What is due, and for how long it has been.
    meter: Mutex<Meter>,
    /// Request body bytes handed to handlers, and response bytes the socket took, in all.
    body_bytes: AtomicU64,
    written: AtomicU64,
    /// How far its request in progress is behind the minimum rate, in ms, as its task last saw.
    behind_ms: AtomicU64,
    /// Signalled when a request begins, so that its task starts timing it at once.
    began: tokio::sync::Notify,
}

impl Conn {
    fn waiting(&self) -> bool {
        self.waiting_since.load(Ordering::Acquire) != 0
    }

    fn meter(&self) -> std::sync::MutexGuard<'_, Meter> {
        self.meter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes that a body is now awaited (or no longer), or that the socket takes no more of a
    /// response (or takes it again).
    fn due(&self, side: Side, on: bool) {
        let now = self.table.now_ms();
        self.meter().set(side, on, now);
    }

    /// How long it has been stalled, for eviction; `None` for a request in progress that keeps
    /// pace. Waiting for its first request's headers: since it connected (from 250 ms on); for a later request's:
    /// since their first byte; an idle kept-alive connection: since its last answer; a request
    /// in progress: how far it is behind the minimum rate.
    fn stalled_for(&self, now: u64) -> Option<u64> {
        let since = self.waiting_since.load(Ordering::Acquire);
        if since != 0 {
            let first = self.first_byte.load(Ordering::Acquire);
            let served = self.served.load(Ordering::Acquire);
            let from = if first != 0 && served { first } else { since };
            let stalled = now.saturating_sub(from);
            // A client that has just connected may not have been read yet on a busy server.
            if !served && stalled < FRESH_MS {
                return None;
            }
            return Some(stalled);
        }
        // As its task last saw, or the wait now under way if longer (a body just begun is
        // not yet counted there).
        let behind = self.behind_ms.load(Ordering::Acquire);
        let meter = self.meter();
        let waiting_now = if meter.due() {
            now.saturating_sub(meter.due_from)
        } else {
            0
        };
        match behind.max(waiting_now) {
            0 => None,
            stalled => Some(stalled),
        }
    }

    /// When it must have sent its next request's headers; none while a request is in progress.
    fn deadline(&self, limits: &Limits) -> Option<u64> {
        let since = self.waiting_since.load(Ordering::Acquire);
        if since == 0 {
            return None;
        }
        if !self.served.load(Ordering::Acquire) {
            return Some(since + ms(limits.header_read));
        }
        match self.first_byte.load(Ordering::Acquire) {
            0 => Some(since + ms(limits.idle)),
            first => Some(first + ms(limits.header_read)),
        }
    }

    fn saw_bytes(&self) {
        if self.first_byte.load(Ordering::Relaxed) == 0 {
            let now = self.table.now_ms();
            let _ = self
                .first_byte
                .compare_exchange(0, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

/// Which way bytes are due.
#[derive(Clone, Copy)]
enum Side {
    /// A handler waits for the request's body.
    Read,
    /// The socket takes no more of the response.
    Write,
}

/// A connection's due time: how long, in all, a handler has waited for its request bodies or
/// its responses have waited for the client. Only that time is the client's to account for.
#[derive(Default)]
struct Meter {
    reading: bool,
    writing: bool,
    /// When the current stretch of due time began.
    due_from: u64,
    /// Due time before it.
    due_total: u64,
    /// Counts the requests begun, so that each is timed from its start.
    transfer: u64,
}

impl Meter {
    fn due(&self) -> bool {
        self.reading || self.writing
    }

    /// Due time so far.
    fn clock(&self, now: u64) -> u64 {
        if self.due() {
            self.due_total + now.saturating_sub(self.due_from)
        } else {
            self.due_total
        }
    }

    fn set(&mut self, side: Side, on: bool, now: u64) {
        let was = self.due();
        match side {
            Side::Read => self.reading = on,
            Side::Write => self.writing = on,
        }
        match (was, self.due()) {
            (false, true) => self.due_from = now,
            (true, false) => self.due_total += now.saturating_sub(self.due_from),
            _ => {}
        }
    }
}

/// Takes a connection out of the table when its task ends, however it ends.
struct Registered(Arc<Conn>);

impl Drop for Registered {
    fn drop(&mut self) {
        let table = &self.0.table;
        {
            let mut open = table.lock();
            open.remove(&self.0.id);
            table.not_closing(&self.0);
        }
        table.room.notify_one();
    }
}

/// A request in progress on a connection: from its headers to the end of its response.
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: Arc<Conn>) -> Busy {
        conn.served.store(true, Ordering::Release);
        conn.behind_ms.store(0, Ordering::Release);
        conn.meter().transfer += 1;
        conn.waiting_since.store(0, Ordering::Release);
        conn.began.notify_one();
        Busy(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.first_byte.store(0, Ordering::Release);
        conn.waiting_since
            .store(conn.table.now_ms(), Ordering::Release);
        conn.table.room.notify_one();
    }
}

/// A response body that keeps its connection busy until hyper has taken all of it.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that tells its connection's meter when a handler waits for it and what
/// arrives, so that a client sending it slower than the minimum rate is closed.
struct Metered {
    body: Incoming,
    conn: Arc<Conn>,
    /// A handler is waiting for the next part.
    awaiting: bool,
}

impl hyper::body::Body for Metered {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Pending => {
                if !this.awaiting {
                    this.awaiting = true;
                    this.conn.due(Side::Read, true);
                }
            }
            Poll::Ready(frame) => {
                if let Some(data) = frame
                    .as_ref()
                    .and_then(|f| f.as_ref().ok())
                    .and_then(Frame::data_ref)
                {
                    this.conn
                        .body_bytes
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                }
                if this.awaiting {
                    this.awaiting = false;
                    this.conn.due(Side::Read, false);
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        if self.awaiting {
            self.conn.due(Side::Read, false);
        }
    }
}

/// The TCP stream, noting when the first byte of a request arrives, what the socket takes of
/// responses, and when it takes nothing more (the client does not read).
struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
    /// A write waits for room in the socket.
    waiting: bool,
}

impl Watched {
    fn note_write<T>(&mut self, written: &Poll<io::Result<T>>, count: impl FnOnce(&T) -> usize) {
        match written {
            Poll::Pending => {
                if !self.waiting {
                    self.waiting = true;
                    self.conn.due(Side::Write, true);
                }
            }
            Poll::Ready(done) => {
                if let Ok(n) = done {
                    self.conn
                        .written
                        .fetch_add(count(n) as u64, Ordering::Relaxed);
                }
                if self.waiting {
                    self.waiting = false;
                    self.conn.due(Side::Write, false);
                }
            }
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.waiting {
            self.conn.due(Side::Write, false);
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.conn.saw_bytes();
        }
        read
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.note_write(&written, |n| *n);
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.note_write(&written, |n| *n);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_room_for_files_and_smtp_and_fits_the_memory_budget() {
        assert_eq!(connection_cap(256), 144);
        assert_eq!(connection_cap(1024), 720);
        assert_eq!(connection_cap(10), 16);
        assert_eq!(connection_cap(20_000), MAX_CONNECTIONS);
        assert_eq!(connection_cap(1 << 20), MAX_CONNECTIONS);
        const { assert!(MAX_CONNECTIONS * CONNECTION_MEMORY <= CONNECTION_MEMORY_BUDGET) };
    }

    fn limits() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(75),
            min_rate: MIN_RATE,
            rate_window: RATE_WINDOW,
            max_connections: 16,
        }
    }

    /// Feeds a transfer moving `per_second` bytes for every second it is due; the due second at
    /// which it is closed, if it is within `seconds`.
    fn closed_at(per_second: u64, seconds: u64) -> Option<u64> {
        let mut pace = Pace::default();
        (0..=seconds).find(|s| {
            pace.observe(1, s * 1000, s * per_second, &limits())
                .is_err()
        })
    }

    #[test]
    fn a_transfer_below_the_rate_is_closed_after_one_window_and_one_at_the_rate_never() {
        assert_eq!(closed_at(0, 60), Some(10));
        assert_eq!(closed_at(1, 60), Some(10));
        assert_eq!(closed_at(1000, 60), Some(10));
        assert_eq!(closed_at(1024, 600), None);
        assert_eq!(closed_at(100_000, 600), None);
    }

    #[test]
    fn a_transfer_that_slows_down_is_closed_within_a_window_and_a_bit() {
        let mut pace = Pace::default();
        assert!(pace.observe(1, 0, 0, &limits()).is_ok());
        let mut moved = 0;
        let mut closed = None;
        for s in 1..=60u64 {
            moved += if s <= 20 { 50_000 } else { 10 };
            if pace.observe(1, s * 1000, moved, &limits()).is_err() {
                closed = Some(s);
                break;
            }
        }
        // Slow after second 20: closed once the last fast second has left the window.
        assert_eq!(closed, Some(30));
    }

    #[test]
    fn only_time_due_is_counted() {
        let mut meter = Meter::default();
        meter.set(Side::Read, true, 1_000);
        meter.set(Side::Write, true, 1_500);
        meter.set(Side::Read, false, 2_000);
        // Still due: the write waits.
        assert_eq!(meter.clock(2_500), 1_500);
        meter.set(Side::Write, false, 3_000);
        // A handler at work, an idle connection: not due.
        assert_eq!(meter.clock(60_000), 2_000);
        meter.set(Side::Read, true, 60_000);
        assert_eq!(meter.clock(61_000), 3_000);
    }

    #[test]
    fn a_new_request_starts_a_new_window() {
        let mut pace = Pace::default();
        // Nine seconds due on a 9-byte body: not yet judged.
        assert!(pace.observe(1, 9_000, 9, &limits()).is_ok());
        // The next request on the same connection: judged from its own start.
        assert!(pace.observe(2, 9_000, 9, &limits()).is_ok());
        assert!(pace.observe(2, 18_000, 18, &limits()).is_ok());
        assert!(pace.observe(2, 19_000, 19, &limits()).is_err());
    }

    #[test]
    fn how_far_behind_grows_with_due_time_and_is_paid_by_bytes() {
        let mut pace = Pace::default();
        assert_eq!(pace.observe(1, 0, 0, &limits()), Ok(0));
        assert_eq!(pace.observe(1, 3_000, 0, &limits()), Ok(3_000));
        // 2 KiB pays two seconds.
        assert_eq!(pace.observe(1, 4_000, 2048, &limits()), Ok(2_000));
        // Far ahead banks nothing.
        assert_eq!(pace.observe(1, 5_000, 1_000_000, &limits()), Ok(0));
        assert_eq!(pace.observe(1, 6_000, 1_000_000, &limits()), Ok(1_000));
    }
}
