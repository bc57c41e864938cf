//! Serving HTTP so that slow or idle clients cannot exhaust the server: time limits on request
//! headers and on idle keep-alive connections, and a cap on open connections taken from the
//! open-file limit, where the connection that has waited longest for a request makes room.
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
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
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

/// How long clients may take, and how many may be connected at once.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest a client may take to send a request's headers: from the moment it connects, or
    /// from the first byte of a later request on a kept-alive connection.
    pub header_read: Duration,
    /// Longest a kept-alive connection may wait, silent, for its next request. Longer than a
    /// proxy's idle upstream timeout (nginx: 60 s), so a proxy never sends a request on a
    /// connection we have just closed.
    pub idle: Duration,
    /// Longest a request's body may stall, no byte arriving while a handler waits for one
    /// (nginx's `client_body_timeout`); the handler then sees an error and answers it.
    pub body_stall: Duration,
    /// Longest a response may wait for the client to read it, no byte leaving (nginx's
    /// `send_timeout`); the connection is then closed.
    pub write_stall: Duration,
    /// Most connections open at once; past it, the one that has waited longest without a request
    /// in progress is closed to make room.
    pub max_connections: usize,
}

/// File descriptors kept out of the HTTP budget whatever the limit: the database pool (each
/// SQLite connection holds the database and its WAL), stored files being read or written, the
/// outbox, DNS lookups of the mail checks, logs.
const RESERVED_FILES: u64 = 64;

impl Limits {
    /// A 10 s header timeout, 30 s for a stalled body or response, the configured idle timeout,
    /// and the configured cap or else one taken from this process's open-file limit.
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
            body_stall: Duration::from_secs(30),
            write_stall: Duration::from_secs(30),
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
    // At least a few, whatever the limit says; at most what memory comfortably holds.
    (cap as usize).clamp(MIN_CONNECTIONS, 10_000)
}

/// Connections kept open whatever the descriptors say.
const MIN_CONNECTIONS: usize = 16;

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
        // Make room before accepting, so the next connection always has a place.
        while table.len() >= cap {
            if last_full.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                tracing::warn!(
                    max = cap,
                    "HTTP connection limit reached: closing the connections that wait longest"
                );
                last_full = Some(Instant::now());
            }
            let room = table.room.notified();
            table.evict_one();
            tokio::select! {
                _ = shutdown.cancelled() => break 'accept,
                _ = room => {}
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
            // backlog and accept would fail again at once. Free an idle connection's descriptor,
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
                table.evict_one();
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

/// Serves one connection until it ends, is evicted, times out, or the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    conn: Arc<Conn>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let _registered = Registered(Arc::clone(&conn));
    let io = TokioIo::new(Watched {
        stream,
        conn: Arc::clone(&conn),
        write_stall: limits.write_stall,
        stalled: None,
    });
    let in_service = Arc::clone(&conn);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let busy = Busy::start(Arc::clone(&in_service));
        // What `into_make_service_with_connect_info` gave handlers: the TCP peer.
        req.extensions_mut().insert(ConnectInfo(peer));
        let req = req.map(|body| StallLimited {
            body,
            limit: limits.body_stall,
            stalled: None,
        });
        let app = app.clone();
        async move {
            let Ok(response) = app.oneshot(req).await;
            Ok::<_, Infallible>(response.map(|body| Tracked { body, _busy: busy }))
        }
    });
    let mut serving = pin!(http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service));
    // Checked again at least this often, so that no deadline is passed unseen: each one lies at
    // least this far after the change it follows (a response's end, a request's first byte).
    let tick = ms(limits.header_read.min(limits.idle));
    let mut stopping = false;
    loop {
        let now = conn.table.now_ms();
        let check_at = match conn.deadline(&limits) {
            Some(deadline) if deadline <= now => {
                tracing::debug!(%peer, "HTTP connection closed: no request in time");
                return;
            }
            Some(deadline) => deadline.min(now + tick),
            None => now + tick,
        };
        tokio::select! {
            served = serving.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "HTTP connection ended");
                }
                return;
            }
            _ = conn.evict.cancelled(), if !stopping => {
                if conn.waiting() {
                    tracing::debug!(%peer, "HTTP connection closed to make room");
                    return;
                }
                // Chosen while it waited, but a request began since: that one is answered, and
                // the connection closes after it.
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
            _ = tokio::time::sleep_until(conn.table.instant(check_at)) => {}
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}

/// The open connections, for the cap and for eviction.
struct Table {
    /// Times are milliseconds since this, plus one, so that zero can mean "none".
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Signalled when a connection closes or starts waiting (it may then be evicted).
    room: tokio::sync::Notify,
}

impl Table {
    fn new() -> Table {
        Table {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
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
        });
        self.lock().insert(id, Arc::clone(&conn));
        conn
    }

    /// Closes the connection that has waited longest without a request in progress, unless one
    /// is already closing. Slow-header clients are always among the oldest waiters; a real client
    /// sends its headers at once, so its connection is busy before anyone could evict it.
    fn evict_one(&self) {
        let open = self.lock();
        // One at a time: a connection chosen while waiting closes within moments.
        if open.values().any(|c| c.evict.is_cancelled() && c.waiting()) {
            return;
        }
        let oldest = open
            .values()
            .filter(|c| !c.evict.is_cancelled())
            .filter_map(|c| match c.waiting_since.load(Ordering::Acquire) {
                0 => None,
                since => Some((since, c)),
            })
            .min_by_key(|(since, _)| *since);
        if let Some((_, conn)) = oldest {
            conn.evict.cancel();
        }
    }
}

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
}

impl Conn {
    fn waiting(&self) -> bool {
        self.waiting_since.load(Ordering::Acquire) != 0
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

/// Takes a connection out of the table when its task ends, however it ends.
struct Registered(Arc<Conn>);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.table.lock().remove(&self.0.id);
        self.0.table.room.notify_one();
    }
}

/// A request in progress on a connection: from its headers to the end of its response.
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: Arc<Conn>) -> Busy {
        conn.served.store(true, Ordering::Release);
        conn.waiting_since.store(0, Ordering::Release);
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

/// A request body that fails once no byte has come for `limit` while it was awaited, so that a
/// client that stops sending a body does not hold its handler and its connection for ever.
struct StallLimited {
    body: Incoming,
    limit: Duration,
    /// Running while the body is awaited and nothing arrives.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl hyper::body::Body for StallLimited {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Pending => {
                let limit = this.limit;
                let stalled = this
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                if stalled.as_mut().poll(cx).is_ready() {
                    let e = io::Error::new(io::ErrorKind::TimedOut, "request body stalled");
                    return Poll::Ready(Some(Err(e.into())));
                }
                Poll::Pending
            }
            Poll::Ready(frame) => {
                this.stalled = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The TCP stream, noting when the first byte of a request arrives.
/// Also fails a write that has waited `write_stall` for the client to read (nginx's
/// `send_timeout`), so that a client that stops reading a response does not hold it for ever.
struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
    write_stall: Duration,
    /// Running while a write waits for room in the socket.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Watched {
    /// Passes on a write's outcome; a wait past the limit becomes an error that ends the
    /// connection.
    fn limit_stall<T>(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if written.is_ready() {
            self.stalled = None;
            return written;
        }
        let limit = self.write_stall;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if stalled.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )));
        }
        Poll::Pending
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
        this.limit_stall(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.limit_stall(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.stream).poll_flush(cx);
        this.limit_stall(cx, flushed)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::connection_cap;

    #[test]
    fn the_connection_cap_leaves_room_for_files_and_smtp() {
        assert_eq!(connection_cap(256), 144);
        assert_eq!(connection_cap(1024), 720);
        assert_eq!(connection_cap(10), 16);
        assert_eq!(connection_cap(1 << 20), 10_000);
    }
}
