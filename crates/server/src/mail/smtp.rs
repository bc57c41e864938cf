//! The SMTP listener: `mailin` speaks the protocol, this drives it over tokio with bounded lines,
//! messages, connections, clients, memory and time, and answers `250` only once the message is
//! committed.
//!
//! The driver reads DATA itself. `mailin` ends DATA at whatever line `.\r\n` it is handed, so
//! which bytes make a line is the driver's decision, and the driver once decided wrongly: it split
//! DATA at every LF, so `<LF>.<LF>` or `<LF>.<CR><LF>` ended a message early and what followed was
//! read as a second envelope (SMTP smuggling). Now, per RFC 5321 §4.1.1.4, only
//! `<CR><LF>.<CR><LF>` ends DATA. A bare LF or CR elsewhere is taken as data (old mailers send
//! them, and mail-parser reads such lines), but a message with a line holding only `.` next to a
//! bare LF or CR is refused with a 554: its sender's software and ours would disagree on where it
//! ends, which is the very ambiguity smuggling exploits (Postfix's `smtpd_forbid_bare_newline`
//! refuses it too). Either way one DATA phase is at most one message.

use super::auth::{Connection, SenderAuth};
use super::{ingest, AuthSource, Envelope, IngestError, MAX_RAW_BYTES};
use crate::state::AppState;
use anyhow::Context;
use mailin::{Action, Handler, Response, SessionBuilder};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Limits of the listener.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections at once, from everyone.
    pub max_connections: usize,
    /// Connections at once from one client address (for IPv6, its /64).
    pub max_connections_per_client: usize,
    /// Messages a client address may start (`MAIL FROM`) at once, refilled at `messages_per_hour`.
    pub message_burst: u32,
    pub messages_per_hour: u32,
    /// Loopback clients (the local MTA relaying to this listener) are exempt from the two
    /// per-client limits, as Postfix exempts `$mynetworks` from its client limits. Every other
    /// limit holds for them too.
    pub exempt_loopback: bool,
    /// A command line longer than this is refused; a data line is taken in pieces.
    pub max_line: usize,
    /// Waiting for the client's next line.
    pub idle: Duration,
    /// The whole session, however busy: a client that holds a slot with NOOPs or a trickle of
    /// data is closed at this age.
    pub max_session: Duration,
    /// Commands since the last message (NOOP, RSET, HELO, refused ones...): past this the client
    /// is making no progress and is closed.
    pub max_commands_per_message: usize,
    /// Recipients of one message.
    pub max_recipients: usize,
    /// DATA kept in memory per connection; past this it goes to an unnamed file in the data folder,
    /// so that stalled transfers cost disk, not memory.
    pub data_in_memory: usize,
    /// Bytes of received messages read back into memory and ingested at once, over all
    /// connections.
    pub ingest_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 200,
            max_connections_per_client: 10,
            message_burst: 30,
            messages_per_hour: 360,
            exempt_loopback: true,
            max_line: 4096,
            idle: Duration::from_secs(300),
            max_session: Duration::from_secs(600),
            max_commands_per_message: 100,
            max_recipients: 20,
            data_in_memory: 64 * 1024,
            ingest_budget: 32 * 1024 * 1024,
        }
    }
}

/// Binds `config.smtp_bind` (if set) and serves until `shutdown`. Returns the bound address.
pub async fn start(
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<(SocketAddr, tokio::task::JoinHandle<()>)>> {
    let Some(bind) = state.config.smtp_bind else {
        return Ok(None);
    };
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding SMTP {bind}"))?;
    let addr = listener.local_addr()?;
    let checker = if state.config.mail_require_auth {
        let checker = SenderAuth::system(&state.config.mail_domain).or_else(|e| {
            // Without DNS every check fails: messages are quarantined, never let through.
            tracing::error!(error = %e, "no DNS resolver: incoming e-mail will fail sender authentication");
            SenderAuth::offline(&state.config.mail_domain)
        })?;
        Some(Arc::new(checker))
    } else {
        None
    };
    let task = tokio::spawn(serve(
        listener,
        state.clone(),
        checker,
        Limits::default(),
        shutdown.clone(),
    ));
    tracing::info!(%addr, "SMTP intake listening");
    Ok(Some((addr, task)))
}

/// What every session of one listener shares.
struct Shared {
    state: AppState,
    checker: Option<Arc<SenderAuth>>,
    limits: Limits,
    clients: Arc<Clients>,
    /// [`Limits::ingest_budget`] in KiB.
    ingest_budget: Semaphore,
}

/// Accepts connections until `shutdown`, then lets sessions finish their current command.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    checker: Option<Arc<SenderAuth>>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let shared = Arc::new(Shared {
        state,
        checker,
        clients: Arc::new(Clients::new(&limits)),
        ingest_budget: Semaphore::new(budget_kib(limits.ingest_budget)),
        limits,
    });
    let mut sessions = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        while sessions.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "SMTP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Refusals are written without waiting: a new socket's buffer always has room for a line,
        // and a client that reads nothing must not hold up the accept loop.
        let Some(client) = shared.clients.open(peer.ip()) else {
            tracing::info!(%peer, "SMTP connection refused: too many from this address");
            let _ = stream.try_write(
                b"421 4.7.0 Too many connections from your address, try again later\r\n",
            );
            continue;
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            let _ = stream.try_write(b"421 4.3.2 Too many connections, try again later\r\n");
            continue;
        };
        let shared = Arc::clone(&shared);
        let stop = shutdown.clone();
        sessions.spawn(async move {
            if let Err(e) = session(stream, peer, &shared, &stop).await {
                tracing::debug!(%peer, error = %e, "SMTP session ended");
            }
            drop(permit);
            drop(client);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(8), async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    sessions.abort_all();
}

fn budget_kib(bytes: usize) -> usize {
    (bytes / 1024).clamp(1, Semaphore::MAX_PERMITS)
}

// ----- per client address: connections and message rate -----

/// Per client address: its open connections and its bucket of messages. Entries go when their
/// address has nothing open and a full bucket, so the map stays as small as the active clients.
struct Clients {
    map: Mutex<HashMap<IpAddr, Client>>,
    max_open: usize,
    burst: f64,
    per_second: f64,
    exempt_loopback: bool,
}

struct Client {
    open: usize,
    tokens: f64,
    at: Instant,
}

/// An open connection counted against its address until dropped.
struct ClientSlot {
    clients: Arc<Clients>,
    key: Option<IpAddr>,
}

/// The address limits apply to: an IPv6 client controls a whole /64, so that is one client.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl Client {
    fn refill(&mut self, now: Instant, burst: f64, per_second: f64) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(burst);
        self.at = now;
    }
}

impl Clients {
    fn new(limits: &Limits) -> Self {
        Clients {
            map: Mutex::new(HashMap::new()),
            max_open: limits.max_connections_per_client,
            burst: f64::from(limits.message_burst),
            per_second: f64::from(limits.messages_per_hour) / 3600.0,
            exempt_loopback: limits.exempt_loopback,
        }
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        self.exempt_loopback && client_key(ip).is_loopback()
    }

    /// Counts a new connection, or `None` when its address has too many open.
    fn open(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        if self.exempt(ip) {
            return Some(ClientSlot {
                clients: Arc::clone(self),
                key: None,
            });
        }
        let key = client_key(ip);
        let now = Instant::now();
        let mut map = self.map.lock().ok()?;
        if map.len() > 10_000 {
            let (burst, rate) = (self.burst, self.per_second);
            map.retain(|_, c| {
                c.refill(now, burst, rate);
                c.open > 0 || c.tokens < burst
            });
        }
        let c = map.entry(key).or_insert(Client {
            open: 0,
            tokens: self.burst,
            at: now,
        });
        if c.open >= self.max_open {
            return None;
        }
        c.open += 1;
        Some(ClientSlot {
            clients: Arc::clone(self),
            key: Some(key),
        })
    }

    /// Takes one message from the address's bucket; `false` when it is empty.
    fn take_message(&self, ip: IpAddr) -> bool {
        if self.exempt(ip) {
            return true;
        }
        let Ok(mut map) = self.map.lock() else {
            return false;
        };
        let now = Instant::now();
        let c = map.entry(client_key(ip)).or_insert(Client {
            open: 0,
            tokens: self.burst,
            at: now,
        });
        c.refill(now, self.burst, self.per_second);
        if c.tokens >= 1.0 {
            c.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let Ok(mut map) = self.clients.map.lock() else {
            return;
        };
        let (burst, rate) = (self.clients.burst, self.clients.per_second);
        if let Some(c) = map.get_mut(&key) {
            c.open = c.open.saturating_sub(1);
            c.refill(Instant::now(), burst, rate);
            if c.open == 0 && c.tokens >= burst {
                map.remove(&key);
            }
        }
    }
}

// ----- the protocol -----

/// What `mailin` tells the handler, shared with the driver that owns the socket.
#[derive(Default)]
struct Transaction {
    helo: String,
    mail_from: String,
    recipients: Vec<String>,
    in_data: bool,
    complete: bool,
}

#[derive(Clone)]
struct IntakeHandler {
    tx: Arc<Mutex<Transaction>>,
    intake: Arc<[String]>,
    max_recipients: usize,
    clients: Arc<Clients>,
}

/// What a client sends as `MAIL FROM:<>` (a bounce), rewritten because `mailin` has no syntax for it.
const NULL_SENDER: &str = "@";

impl IntakeHandler {
    fn with<R>(&self, f: impl FnOnce(&mut Transaction) -> R) -> Option<R> {
        self.tx.lock().ok().map(|mut t| f(&mut t))
    }
}

impl Handler for IntakeHandler {
    fn helo(&mut self, _ip: IpAddr, domain: &str) -> Response {
        self.with(|t| t.helo = domain.chars().take(255).collect());
        mailin::response::OK
    }

    fn mail(&mut self, ip: IpAddr, _domain: &str, from: &str) -> Response {
        // Counted when a message starts, so that a client over its rate sends no data in vain.
        if !self.clients.take_message(ip) {
            tracing::info!(%ip, "SMTP message refused: too many from this address");
            return Response::custom(
                450,
                "4.7.1 Too many messages from your address, try again later".into(),
            );
        }
        let from = if from == NULL_SENDER {
            String::new()
        } else {
            from.to_string()
        };
        self.with(|t| {
            t.mail_from = from;
            t.recipients.clear();
            t.complete = false;
        });
        mailin::response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let to = to.trim().to_lowercase();
        if !self.intake.contains(&to) {
            return Response::custom(550, "5.1.1 No such mailbox here".into());
        }
        let max = self.max_recipients;
        match self.with(|t| {
            if t.recipients.len() >= max {
                false
            } else {
                if !t.recipients.contains(&to) {
                    t.recipients.push(to);
                }
                true
            }
        }) {
            Some(true) => mailin::response::OK,
            _ => Response::custom(452, "4.5.3 Too many recipients".into()),
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.with(|t| t.in_data = true);
        mailin::response::START_DATA
    }

    fn data_end(&mut self) -> Response {
        self.with(|t| {
            t.in_data = false;
            t.complete = true;
        });
        // Replaced by the driver once the message is committed (or not).
        mailin::response::OK
    }
}

// ----- DATA: where it ends, and where it is kept -----

fn is_break(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// One DATA phase as the driver reads it.
struct DataPhase {
    spool: Spool,
    /// The last two bytes received (at first, the DATA command's CRLF).
    last: [u8; 2],
    /// A line holding only `.` next to a bare CR or LF was seen (see the module's comment).
    ambiguous_end: bool,
}

impl DataPhase {
    fn new(dir: PathBuf, in_memory: usize) -> Self {
        DataPhase {
            spool: Spool::new(dir, in_memory),
            last: *b"\r\n",
            ambiguous_end: false,
        }
    }

    /// Whether `line`, read from here, is the end of DATA: `.<CR><LF>` right after a CRLF.
    fn ends_with(&self, line: &[u8]) -> bool {
        self.last == *b"\r\n" && line == b".\r\n"
    }

    /// Takes one line (or piece of an overlong one) of data, undoing dot-stuffing.
    async fn take(&mut self, line: &[u8]) {
        let line_start = self.last[1] == b'\n';
        for &b in line {
            if is_break(self.last[0]) && self.last[1] == b'.' && is_break(b) {
                self.ambiguous_end = true;
            }
            self.last = [self.last[1], b];
        }
        let content = match line.split_first() {
            Some((b'.', rest)) if line_start => rest,
            _ => line,
        };
        self.spool.write(content).await;
    }
}

/// The bytes of a message as they arrive: in memory up to a point, then in an unnamed file in
/// the data folder (gone with the process, whatever happens). At most [`MAX_RAW_BYTES`] are kept.
struct Spool {
    dir: PathBuf,
    in_memory: usize,
    mem: Vec<u8>,
    file: Option<tokio::fs::File>,
    len: usize,
    /// More arrived than `MAX_RAW_BYTES`: only the start is kept.
    truncated: bool,
    /// Could not be written: the message is answered with a temporary failure.
    failed: bool,
}

impl Spool {
    fn new(dir: PathBuf, in_memory: usize) -> Self {
        Spool {
            dir,
            in_memory,
            mem: Vec::new(),
            file: None,
            len: 0,
            truncated: false,
            failed: false,
        }
    }

    async fn write(&mut self, buf: &[u8]) {
        if self.failed || self.truncated {
            return;
        }
        let buf = if self.len + buf.len() > MAX_RAW_BYTES {
            self.truncated = true;
            &buf[..MAX_RAW_BYTES - self.len]
        } else {
            buf
        };
        if self.file.is_none() && self.mem.len() + buf.len() > self.in_memory {
            match open_spool_file(&self.dir).await {
                Ok(mut f) => {
                    let spilled = f.write_all(&self.mem).await;
                    self.mem = Vec::new();
                    if let Err(e) = spilled {
                        return self.fail(&e);
                    }
                    self.file = Some(f);
                }
                Err(e) => return self.fail(&e),
            }
        }
        match &mut self.file {
            Some(f) => {
                if let Err(e) = f.write_all(buf).await {
                    return self.fail(&e);
                }
            }
            None => self.mem.extend_from_slice(buf),
        }
        self.len += buf.len();
    }

    fn fail(&mut self, e: &io::Error) {
        tracing::warn!(error = %e, "SMTP data could not be spooled; the sender will retry");
        self.failed = true;
        self.mem = Vec::new();
        self.file = None;
    }

    async fn into_bytes(self) -> io::Result<Vec<u8>> {
        let Some(mut f) = self.file else {
            return Ok(self.mem);
        };
        f.flush().await?;
        f.seek(io::SeekFrom::Start(0)).await?;
        let mut raw = Vec::with_capacity(self.len);
        f.take(self.len as u64).read_to_end(&mut raw).await?;
        Ok(raw)
    }
}

/// A DATA phase read from bytes in memory as [`session`] reads one from a client (the same line
/// reader, terminator and dot-stuffing; kept in memory, never delivered): the entry of the SMTP
/// fuzz target, `helpdesk_server::fuzzing::smtp_data`. Returns the bytes consumed up to and
/// including the terminator, the message kept and whether it is refused as ambiguous; `None` when
/// the bytes never end DATA.
#[doc(hidden)]
pub async fn data_phase_in_memory(input: &[u8]) -> Option<(usize, Vec<u8>, bool)> {
    let mut r = BufReader::with_capacity(16 * 1024, input);
    let mut phase = DataPhase::new(PathBuf::new(), MAX_RAW_BYTES);
    let mut line = Vec::new();
    let mut consumed = 0;
    loop {
        let n = read_line_capped(&mut r, &mut line, DATA_PIECE).await.ok()?;
        if n == 0 {
            return None;
        }
        consumed += n;
        if phase.ends_with(&line) {
            let ambiguous = phase.ambiguous_end;
            let kept = phase.spool.into_bytes().await.ok()?;
            return Some((consumed, kept, ambiguous));
        }
        phase.take(&line).await;
    }
}

async fn open_spool_file(dir: &Path) -> io::Result<tokio::fs::File> {
    let dir = dir.to_path_buf();
    let file = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)?;
        tempfile::tempfile_in(&dir)
    })
    .await
    .map_err(io::Error::other)??;
    Ok(tokio::fs::File::from_std(file))
}

/// Reads up to `max` bytes of one line (with its `\n`). Returns the bytes read (0 at the end of
/// the stream); the line is complete when it ends with `\n`.
async fn read_line_capped<R: AsyncBufRead + Unpin>(
    r: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<usize> {
    line.clear();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(line.len());
        }
        let room = max - line.len();
        let take = buf
            .iter()
            .take(room)
            .position(|&b| b == b'\n')
            .map(|p| p + 1);
        match take {
            Some(n) => {
                line.extend_from_slice(&buf[..n]);
                r.consume(n);
                return Ok(line.len());
            }
            None => {
                let n = buf.len().min(room);
                line.extend_from_slice(&buf[..n]);
                r.consume(n);
                if line.len() >= max {
                    return Ok(line.len());
                }
            }
        }
    }
}

/// Command lines as `mailin` wants them: ending in CRLF, and a bounce's `MAIL FROM:<>` spelt so
/// that it parses.
fn normalise_command(line: &[u8]) -> Vec<u8> {
    let mut l = line.to_vec();
    while matches!(l.last(), Some(b'\n' | b'\r')) {
        l.pop();
    }
    let upper = l.to_ascii_uppercase();
    if upper.starts_with(b"MAIL FROM:<>") {
        let mut fixed = format!("MAIL FROM:<{NULL_SENDER}>").into_bytes();
        fixed.extend_from_slice(&l[12..]);
        l = fixed;
    }
    l.extend_from_slice(b"\r\n");
    l
}

async fn reply<W: tokio::io::AsyncWrite + Unpin>(w: &mut W, res: &Response) -> io::Result<()> {
    let mut out = Vec::with_capacity(64);
    res.write_to(&mut out)?;
    w.write_all(&out).await?;
    w.flush().await
}

const DATA_PIECE: usize = 16 * 1024;

async fn session(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    shutdown: &CancellationToken,
) -> io::Result<()> {
    let state = &shared.state;
    let limits = &shared.limits;
    let deadline = Instant::now() + limits.max_session;
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::with_capacity(16 * 1024, r);
    let handler = IntakeHandler {
        tx: Arc::new(Mutex::new(Transaction::default())),
        intake: Arc::from(vec![
            state.config.mail_tech.clone(),
            state.config.mail_sales.clone(),
        ]),
        max_recipients: limits.max_recipients,
        clients: Arc::clone(&shared.clients),
    };
    let tx = Arc::clone(&handler.tx);
    let mut session =
        SessionBuilder::new(state.config.mail_domain.clone()).build(peer.ip(), handler);
    reply(&mut w, &session.greeting()).await?;

    let mut line = Vec::with_capacity(1024);
    let mut data: Option<DataPhase> = None;
    let mut commands = 0usize;
    loop {
        let max = if data.is_some() {
            DATA_PIECE
        } else {
            limits.max_line
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::select! {
            // Between commands a stopping server says goodbye; inside DATA it lets the message in.
            _ = shutdown.cancelled(), if data.is_none() => {
                reply(&mut w, &mailin::response::NO_SERVICE).await?;
                return Ok(());
            }
            r = tokio::time::timeout(limits.idle.min(left), read_line_capped(&mut r, &mut line, max)) => r,
        };
        let n = match read {
            Ok(r) => r?,
            Err(_) => {
                let why = if Instant::now() >= deadline {
                    "4.4.2 Session lasted too long, closing connection"
                } else {
                    "4.4.2 Idle for too long, closing connection"
                };
                tracing::info!(%peer, why, "SMTP session closed");
                let _ = reply(&mut w, &Response::custom(421, why.into())).await;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        let complete_line = line.last() == Some(&b'\n');

        if let Some(phase) = &mut data {
            if !phase.ends_with(&line) {
                phase.take(&line).await;
                continue;
            }
            let Some(phase) = data.take() else { continue };
            // mailin's own 250 is not sent: the answer waits for the commit.
            session.process(b".\r\n");
            commands = 0;
            let res = if phase.ambiguous_end {
                tracing::info!(%peer, "SMTP message refused: a lone '.' beside a bare CR or LF");
                take_envelope(&tx, peer.ip());
                Response::custom(
                    554,
                    "5.5.2 Message refused: a line holding only \".\" next to a bare CR or LF \
                     (only CRLF.CRLF ends DATA, RFC 5321 section 4.1.1.4)"
                        .into(),
                )
            } else if phase.spool.failed {
                take_envelope(&tx, peer.ip());
                Response::custom(451, "4.3.0 Temporary local problem, try again later".into())
            } else {
                deliver(shared, peer.ip(), &tx, phase.spool).await
            };
            reply(&mut w, &res).await?;
            continue;
        }

        commands += 1;
        if commands > limits.max_commands_per_message {
            tracing::info!(%peer, "SMTP session closed: commands without a message");
            let _ = reply(
                &mut w,
                &Response::custom(
                    421,
                    "4.7.0 Too many commands without a message, closing connection".into(),
                ),
            )
            .await;
            return Ok(());
        }
        if !complete_line {
            // Swallow the rest of an overlong command, then refuse it.
            while line.last() != Some(&b'\n') {
                if read_line_capped(&mut r, &mut line, limits.max_line).await? == 0 {
                    return Ok(());
                }
            }
            reply(&mut w, &Response::custom(500, "5.5.2 Line too long".into())).await?;
            continue;
        }
        let res = session.process(&normalise_command(&line));
        if res.action != Action::NoReply {
            reply(&mut w, &res).await?;
        }
        if res.action == Action::Close {
            return Ok(());
        }
        if tx.lock().map(|t| t.in_data).unwrap_or(false) {
            data = Some(DataPhase::new(
                state.config.mail_dir(),
                limits.data_in_memory,
            ));
        }
    }
}

/// The envelope of the message just received, leaving the transaction ready for the next.
fn take_envelope(tx: &Mutex<Transaction>, ip: IpAddr) -> Option<(Vec<String>, Connection)> {
    let mut t = tx.lock().ok()?;
    let recipients = std::mem::take(&mut t.recipients);
    let conn = Connection {
        ip,
        helo: t.helo.clone(),
        mail_from: t.mail_from.clone(),
    };
    t.complete = false;
    Some((recipients, conn))
}

/// Hands a received message to the intake; the reply says whether it is safely recorded. Only
/// [`Limits::ingest_budget`] bytes of messages are in memory at once: the others wait their turn.
async fn deliver(shared: &Shared, ip: IpAddr, tx: &Mutex<Transaction>, spool: Spool) -> Response {
    let state = &shared.state;
    let Some((recipients, conn)) = take_envelope(tx, ip) else {
        return mailin::response::INTERNAL_ERROR;
    };
    let kib = (spool.len / 1024 + 1).min(budget_kib(shared.limits.ingest_budget));
    let Ok(_budget) = shared
        .ingest_budget
        .acquire_many(u32::try_from(kib).unwrap_or(u32::MAX))
        .await
    else {
        return mailin::response::INTERNAL_ERROR;
    };
    let complete = !spool.truncated;
    let raw = match spool.into_bytes().await {
        Ok(raw) => raw,
        Err(e) => {
            tracing::error!(error = %e, "spooled e-mail unreadable; the sender will retry");
            return Response::custom(451, "4.3.0 Temporary local problem, try again later".into());
        }
    };
    let auth = match shared.checker.as_deref() {
        Some(checker) => AuthSource::Smtp {
            checker,
            conn: conn.clone(),
        },
        None => AuthSource::Headers,
    };
    let env = Envelope {
        recipients,
        return_path: Some(conn.mail_from),
        auth,
    };
    match ingest(&state.store, &state.config, raw, complete, env).await {
        Ok(done) => {
            if done.queued_mail {
                state.outbox_wake.notify_one();
            }
            Response::custom(250, format!("2.0.0 OK {}", done.id))
        }
        Err(IngestError::Busy) => {
            Response::custom(451, "4.3.0 Message being processed, try again later".into())
        }
        Err(e) => {
            tracing::error!(error = %e, "e-mail not recorded; the sender will retry");
            Response::custom(451, "4.3.0 Temporary local problem, try again later".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounces_null_sender_is_rewritten_so_that_it_parses() {
        assert_eq!(normalise_command(b"MAIL FROM:<>\r\n"), b"MAIL FROM:<@>\r\n");
        assert_eq!(
            normalise_command(b"mail from:<> BODY=8BITMIME\n"),
            b"MAIL FROM:<@> BODY=8BITMIME\r\n"
        );
        assert_eq!(
            normalise_command(b"RCPT TO:<a@b.it>\n"),
            b"RCPT TO:<a@b.it>\r\n"
        );
    }

    #[tokio::test]
    async fn long_lines_are_read_in_pieces() {
        let data = b"abcdef\nxy\n".to_vec();
        let mut r = BufReader::new(&data[..]);
        let mut line = Vec::new();
        assert_eq!(read_line_capped(&mut r, &mut line, 4).await.unwrap(), 4);
        assert_eq!(line, b"abcd");
        read_line_capped(&mut r, &mut line, 4).await.unwrap();
        assert_eq!(line, b"ef\n");
        read_line_capped(&mut r, &mut line, 4).await.unwrap();
        assert_eq!(line, b"xy\n");
        assert_eq!(read_line_capped(&mut r, &mut line, 4).await.unwrap(), 0);
    }

    async fn data_of(wire: &[u8]) -> (Vec<u8>, bool, usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut phase = DataPhase::new(dir.path().to_path_buf(), 8);
        let mut r = BufReader::new(wire);
        let mut line = Vec::new();
        let mut consumed = 0;
        while read_line_capped(&mut r, &mut line, 5).await.unwrap() > 0 {
            consumed += line.len();
            if phase.ends_with(&line) {
                break;
            }
            phase.take(&line).await;
        }
        let ambiguous = phase.ambiguous_end;
        (phase.spool.into_bytes().await.unwrap(), ambiguous, consumed)
    }

    #[tokio::test]
    async fn only_crlf_dot_crlf_ends_data_and_a_lone_dot_beside_a_bare_newline_is_flagged() {
        let (data, ambiguous, used) = data_of(b"a\r\n..b\r\n.\r\nMAIL").await;
        assert_eq!(
            (data.as_slice(), ambiguous, used),
            (&b"a\r\n.b\r\n"[..], false, 11)
        );
        for wire in [
            &b"a\n.\nMAIL FROM:<x@y>\r\n.\r\n"[..],
            b"a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n",
            b"a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n",
            b"a\r.\r\nMAIL FROM:<x@y>\r\n.\r\n",
            b".\nMAIL FROM:<x@y>\r\n.\r\n",
        ] {
            let (data, ambiguous, used) = data_of(wire).await;
            assert!(ambiguous, "{:?}", String::from_utf8_lossy(wire));
            assert_eq!(used, wire.len(), "read to the real end");
            assert!(data.ends_with(b"MAIL FROM:<x@y>\r\n"), "{data:?}");
        }
        // Bare LFs elsewhere are data.
        let (data, ambiguous, _) = data_of(b"a\nb\n..c\r\n.\r\n").await;
        assert!(!ambiguous);
        assert_eq!(data, b"a\nb\n.c\r\n");
    }

    #[test]
    fn a_clients_connections_and_messages_are_capped_and_loopback_may_be_exempt() {
        let limits = Limits {
            max_connections_per_client: 2,
            message_burst: 3,
            messages_per_hour: 1,
            exempt_loopback: false,
            ..Limits::default()
        };
        let clients = Arc::new(Clients::new(&limits));
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::2".parse().unwrap();
        let a = clients.open(ip).unwrap();
        let _b = clients.open(same_64).unwrap();
        assert!(clients.open(ip).is_none());
        drop(a);
        assert!(clients.open(ip).is_some());
        assert!((0..3).all(|_| clients.take_message(ip)));
        assert!(!clients.take_message(same_64));
        assert!(clients.take_message("192.0.2.1".parse().unwrap()));

        let exempt = Arc::new(Clients::new(&Limits::default()));
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let slots: Vec<_> = (0..50).filter_map(|_| exempt.open(lo)).collect();
        assert_eq!(slots.len(), 50);
        assert!((0..100).all(|_| exempt.take_message(lo)));
    }
}
