//! The SMTP listener: Stalwart's sans-IO `smtp-proto` parses each command line, our own dialogue
//! decides the answer, and this drives both over tokio with bounded lines, messages, connections,
//! clients, memory and time, and answers `250` only once the message is committed.
//!
//! The driver reads DATA itself (the engine's own DATA reader is not used), so which bytes make a
//! line, and which line ends a message, is the driver's decision, and the driver once decided
//! wrongly: it split DATA at every LF, so `<LF>.<LF>` or `<LF>.<CR><LF>` ended a message early and
//! what followed was read as a second envelope (SMTP smuggling). Now, per RFC 5321 §4.1.1.4, only
//! `<CR><LF>.<CR><LF>` ends DATA. A bare LF or CR elsewhere is taken as data (old mailers send
//! them, and mail-parser reads such lines), but a message with a line holding only `.` next to a
//! bare LF or CR is refused with a 554: its sender's software and ours would disagree on where it
//! ends, which is the very ambiguity smuggling exploits (Postfix's `smtpd_forbid_bare_newline`
//! refuses it too). Either way one DATA phase is at most one message.
//!
//! The engine is handed one whole command line at a time, never more than [`Limits::max_line`]
//! bytes and never the bytes after it, so a command can neither run into the next one nor into
//! DATA.

use super::auth::{Connection, SenderAuth};
use super::{ingest, AuthSource, Envelope, IngestError, MAX_RAW_BYTES};
use crate::state::AppState;
use anyhow::Context;
use smtp_proto::{Error as SyntaxError, Request};
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

/// Where the client stands in the dialogue (RFC 5321 §4.1.4: the order of commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before HELO or EHLO.
    Greeted,
    /// Introduced, no message under way.
    Ready,
    /// `MAIL FROM` taken, no recipient yet.
    Sender,
    /// At least one recipient taken: DATA may come.
    Recipients,
}

/// What the driver does once the answer to a command is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Continue,
    /// Read the message (the answer was `354`).
    Data,
    Close,
}

/// One session's side of the dialogue: `smtp-proto` parses each command line, this keeps the
/// envelope and decides the answer. No I/O here: the driver feeds it lines and sends its bytes.
struct Dialogue {
    ip: IpAddr,
    /// Our name, in the greeting and the answer to HELO / EHLO.
    domain: String,
    /// The addresses mail is taken for.
    intake: [String; 2],
    max_recipients: usize,
    clients: Arc<Clients>,
    stage: Stage,
    helo: String,
    /// Empty for a bounce (`MAIL FROM:<>`, RFC 5321's null reverse-path).
    mail_from: String,
    recipients: Vec<String>,
}

/// One answer on the wire with its enhanced status code (RFC 3463), which the EHLO answer
/// announces (`ENHANCEDSTATUSCODES`).
fn answer(code: u16, esc: [u8; 3], text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    // Writing to a Vec cannot fail.
    let _ = smtp_proto::Response::new(code, esc[0], esc[1], esc[2], text).write(&mut out);
    out
}

fn ok() -> Vec<u8> {
    answer(250, [2, 0, 0], "OK")
}

/// A stopping server's goodbye between commands.
fn shutting_down() -> Vec<u8> {
    answer(421, [4, 3, 2], "Service shutting down, closing connection")
}

fn temporary_failure() -> Vec<u8> {
    answer(451, [4, 3, 0], "Temporary local problem, try again later")
}

impl Dialogue {
    fn new(
        ip: IpAddr,
        domain: &str,
        intake: [String; 2],
        max_recipients: usize,
        clients: Arc<Clients>,
    ) -> Self {
        Dialogue {
            ip,
            domain: domain.to_string(),
            intake,
            max_recipients,
            clients,
            stage: Stage::Greeted,
            helo: String::new(),
            mail_from: String::new(),
            recipients: Vec::new(),
        }
    }

    fn greeting(&self) -> Vec<u8> {
        format!("220 {} ESMTP\r\n", self.domain).into_bytes()
    }

    /// Forgets the message under way (RSET, a new HELO, the end of DATA).
    fn reset(&mut self) {
        self.mail_from.clear();
        self.recipients.clear();
        if self.stage != Stage::Greeted {
            self.stage = Stage::Ready;
        }
    }

    /// The envelope of the message just received; the dialogue is ready for the next one.
    fn end_of_data(&mut self) -> (Vec<String>, Connection) {
        let recipients = std::mem::take(&mut self.recipients);
        let conn = Connection {
            ip: self.ip,
            helo: self.helo.clone(),
            mail_from: std::mem::take(&mut self.mail_from),
        };
        self.reset();
        (recipients, conn)
    }

    /// Answers one complete command line (ending in LF, at most [`Limits::max_line`] bytes).
    fn command(&mut self, line: &[u8]) -> (Vec<u8>, Then) {
        let request = match Request::parse(&mut line.iter()) {
            Ok(r) => r,
            Err(e) => return (refusal(&e), Then::Continue),
        };
        let reply = match request {
            Request::Ehlo { host } => {
                self.hello(&host);
                let mut ehlo = smtp_proto::EhloResponse::new(self.domain.as_str());
                ehlo.capabilities =
                    smtp_proto::EXT_8BIT_MIME | smtp_proto::EXT_ENHANCED_STATUS_CODES;
                let mut out = Vec::with_capacity(128);
                // Writing to a Vec cannot fail.
                let _ = ehlo.write(&mut out);
                out
            }
            Request::Helo { host } => {
                self.hello(&host);
                format!("250 {}\r\n", self.domain).into_bytes()
            }
            Request::Mail { from } => self.mail(&from.address),
            Request::Rcpt { to } => self.rcpt(&to.address),
            Request::Data => match self.stage {
                Stage::Recipients => {
                    return (
                        b"354 Start mail input; end with <CRLF>.<CRLF>\r\n".to_vec(),
                        Then::Data,
                    )
                }
                Stage::Sender => answer(503, [5, 5, 1], "No valid recipients"),
                Stage::Greeted | Stage::Ready => answer(503, [5, 5, 1], "MAIL first"),
            },
            Request::Rset => {
                self.reset();
                ok()
            }
            Request::Noop { .. } => ok(),
            Request::Quit => return (answer(221, [2, 0, 0], "Goodbye"), Then::Close),
            Request::Vrfy { .. } => answer(
                252,
                [2, 5, 0],
                "Cannot verify the address, send the message",
            ),
            Request::Help { .. } => answer(
                214,
                [2, 0, 0],
                "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT",
            ),
            // LMTP, TLS, authentication, CHUNKING and the rest are not offered: a relay delivers
            // here with plain SMTP.
            Request::Lhlo { .. } => answer(500, [5, 5, 1], "Command not recognized"),
            Request::Expn { .. }
            | Request::Auth { .. }
            | Request::StartTls
            | Request::Bdat { .. }
            | Request::Burl { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. } => answer(502, [5, 5, 1], "Command not implemented"),
        };
        (reply, Then::Continue)
    }

    /// HELO or EHLO: a new start, whatever was under way.
    fn hello(&mut self, host: &str) {
        self.helo = host.chars().take(255).collect();
        self.stage = Stage::Ready;
        self.reset();
    }

    fn mail(&mut self, from: &str) -> Vec<u8> {
        match self.stage {
            Stage::Greeted => return answer(503, [5, 5, 1], "Say HELO or EHLO first"),
            Stage::Sender | Stage::Recipients => {
                return answer(503, [5, 5, 1], "Nested MAIL command")
            }
            Stage::Ready => {}
        }
        // Counted when a message starts, so that a client over its rate sends no data in vain.
        if !self.clients.take_message(self.ip) {
            tracing::info!(ip = %self.ip, "SMTP message refused: too many from this address");
            return answer(
                450,
                [4, 7, 1],
                "Too many messages from your address, try again later",
            );
        }
        // An empty reverse-path is a bounce's (or another notification's): taken as such.
        self.mail_from = from.to_string();
        self.recipients.clear();
        self.stage = Stage::Sender;
        answer(250, [2, 1, 0], "OK")
    }

    fn rcpt(&mut self, to: &str) -> Vec<u8> {
        if !matches!(self.stage, Stage::Sender | Stage::Recipients) {
            return answer(503, [5, 5, 1], "MAIL first");
        }
        let to = to.trim().to_lowercase();
        if !self.intake.contains(&to) {
            return answer(550, [5, 1, 1], "No such mailbox here");
        }
        if self.recipients.len() >= self.max_recipients {
            return answer(452, [4, 5, 3], "Too many recipients");
        }
        if !self.recipients.contains(&to) {
            self.recipients.push(to);
        }
        self.stage = Stage::Recipients;
        answer(250, [2, 1, 5], "OK")
    }
}

/// The answer to a line the engine could not parse.
fn refusal(e: &SyntaxError) -> Vec<u8> {
    match e {
        SyntaxError::UnknownCommand => answer(500, [5, 5, 1], "Command not recognized"),
        SyntaxError::InvalidSenderAddress => answer(501, [5, 1, 7], "Invalid sender address"),
        SyntaxError::InvalidRecipientAddress => answer(501, [5, 1, 3], "Invalid recipient address"),
        SyntaxError::SyntaxError { syntax } => answer(501, [5, 5, 2], &format!("Syntax: {syntax}")),
        SyntaxError::InvalidParameter { param } => {
            answer(501, [5, 5, 4], &format!("Invalid {param} parameter"))
        }
        // The parameter is the client's text: not echoed.
        SyntaxError::UnsupportedParameter { .. } => answer(555, [5, 5, 4], "Unsupported parameter"),
        SyntaxError::NeedsMoreData { .. }
        | SyntaxError::ResponseTooLong
        | SyntaxError::InvalidResponse { .. } => answer(500, [5, 5, 2], "Syntax error"),
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

async fn send<W: tokio::io::AsyncWrite + Unpin>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes).await?;
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
    let mut dialogue = Dialogue::new(
        peer.ip(),
        &state.config.mail_domain,
        [
            state.config.mail_tech.clone(),
            state.config.mail_sales.clone(),
        ],
        limits.max_recipients,
        Arc::clone(&shared.clients),
    );
    send(&mut w, &dialogue.greeting()).await?;

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
                send(&mut w, &shutting_down()).await?;
                return Ok(());
            }
            r = tokio::time::timeout(limits.idle.min(left), read_line_capped(&mut r, &mut line, max)) => r,
        };
        let n = match read {
            Ok(r) => r?,
            Err(_) => {
                let why = if Instant::now() >= deadline {
                    "Session lasted too long, closing connection"
                } else {
                    "Idle for too long, closing connection"
                };
                tracing::info!(%peer, why, "SMTP session closed");
                let _ = send(&mut w, &answer(421, [4, 4, 2], why)).await;
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
            let envelope = dialogue.end_of_data();
            commands = 0;
            // The answer waits for the commit.
            let res = if phase.ambiguous_end {
                tracing::info!(%peer, "SMTP message refused: a lone '.' beside a bare CR or LF");
                answer(
                    554,
                    [5, 5, 2],
                    "Message refused: a line holding only \".\" next to a bare CR or LF \
                     (only CRLF.CRLF ends DATA, RFC 5321 section 4.1.1.4)",
                )
            } else if phase.spool.failed {
                temporary_failure()
            } else {
                deliver(shared, envelope, phase.spool).await
            };
            send(&mut w, &res).await?;
            continue;
        }

        commands += 1;
        if commands > limits.max_commands_per_message {
            tracing::info!(%peer, "SMTP session closed: commands without a message");
            let _ = send(
                &mut w,
                &answer(
                    421,
                    [4, 7, 0],
                    "Too many commands without a message, closing connection",
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
            send(&mut w, &answer(500, [5, 5, 2], "Line too long")).await?;
            continue;
        }
        let (res, then) = dialogue.command(&line);
        send(&mut w, &res).await?;
        match then {
            Then::Continue => {}
            Then::Close => return Ok(()),
            Then::Data => {
                data = Some(DataPhase::new(
                    state.config.mail_dir(),
                    limits.data_in_memory,
                ));
            }
        }
    }
}

/// Hands a received message to the intake; the answer says whether it is safely recorded. Only
/// [`Limits::ingest_budget`] bytes of messages are in memory at once: the others wait their turn.
async fn deliver(
    shared: &Shared,
    (recipients, conn): (Vec<String>, Connection),
    spool: Spool,
) -> Vec<u8> {
    let state = &shared.state;
    let kib = (spool.len / 1024 + 1).min(budget_kib(shared.limits.ingest_budget));
    let Ok(_budget) = shared
        .ingest_budget
        .acquire_many(u32::try_from(kib).unwrap_or(u32::MAX))
        .await
    else {
        return temporary_failure();
    };
    let complete = !spool.truncated;
    let raw = match spool.into_bytes().await {
        Ok(raw) => raw,
        Err(e) => {
            tracing::error!(error = %e, "spooled e-mail unreadable; the sender will retry");
            return temporary_failure();
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
            answer(250, [2, 0, 0], &format!("OK {}", done.id))
        }
        Err(IngestError::Busy) => {
            answer(451, [4, 3, 0], "Message being processed, try again later")
        }
        Err(e) => {
            tracing::error!(error = %e, "e-mail not recorded; the sender will retry");
            temporary_failure()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialogue(max_recipients: usize) -> Dialogue {
        Dialogue::new(
            "192.0.2.7".parse().unwrap(),
            "helpdesk.example",
            ["hd@smacloud.it".into(), "sales@smacloud.it".into()],
            max_recipients,
            Arc::new(Clients::new(&Limits::default())),
        )
    }

    /// The code and text of the answer to `line`, and what follows it.
    fn say(d: &mut Dialogue, line: &str) -> (String, Then) {
        let (bytes, then) = d.command(line.as_bytes());
        (String::from_utf8(bytes).unwrap(), then)
    }

    #[test]
    fn a_bounces_null_sender_is_taken_as_it_is_sent() {
        for mail in ["MAIL FROM:<>\r\n", "mail from:<> BODY=8BITMIME\n"] {
            let mut d = dialogue(20);
            say(&mut d, "EHLO mx.example.it\r\n");
            d.mail_from = "left over".into();
            let (reply, _) = say(&mut d, mail);
            assert!(reply.starts_with("250 2.1.0"), "{mail:?}: {reply}");
            say(&mut d, "RCPT TO:<HD@smacloud.it>\r\n");
            assert_eq!(say(&mut d, "DATA\r\n").1, Then::Data);
            let (to, conn) = d.end_of_data();
            assert_eq!(
                (to, conn.mail_from.as_str()),
                (vec!["hd@smacloud.it".to_string()], "")
            );
            assert_eq!(conn.helo, "mx.example.it");
        }
    }

    #[test]
    fn commands_are_taken_in_their_order_only() {
        let mut d = dialogue(2);
        let greeting = String::from_utf8(d.greeting()).unwrap();
        assert_eq!(greeting, "220 helpdesk.example ESMTP\r\n");
        assert!(say(&mut d, "MAIL FROM:<a@b.it>\r\n").0.starts_with("503 "));
        let (ehlo, _) = say(&mut d, "EHLO client.example\r\n");
        assert!(ehlo.starts_with("250-helpdesk.example"), "{ehlo}");
        assert!(
            ehlo.contains("8BITMIME") && ehlo.contains("ENHANCEDSTATUSCODES"),
            "{ehlo}"
        );
        assert!(
            !ehlo.contains("STARTTLS") && !ehlo.contains("CHUNKING"),
            "{ehlo}"
        );
        assert!(say(&mut d, "RCPT TO:<hd@smacloud.it>\r\n")
            .0
            .starts_with("503 "));
        assert!(say(&mut d, "DATA\r\n").0.starts_with("503 "));
        assert!(say(&mut d, "MAIL FROM:<a@b.it>\r\n").0.starts_with("250 "));
        assert!(say(&mut d, "MAIL FROM:<a@b.it>\r\n").0.starts_with("503 "));
        assert!(
            say(&mut d, "DATA\r\n").0.starts_with("503 "),
            "no recipient yet"
        );
        assert!(say(&mut d, "RCPT TO:<info@smacloud.it>\r\n")
            .0
            .starts_with("550 5.1.1"));
        assert!(say(&mut d, "RCPT TO:<hd@smacloud.it>\r\n")
            .0
            .starts_with("250 "));
        assert!(say(&mut d, "RCPT TO:<sales@smacloud.it>\r\n")
            .0
            .starts_with("250 "));
        assert!(say(&mut d, "RCPT TO:<hd@smacloud.it>\r\n")
            .0
            .starts_with("452 4.5.3"));
        // RSET forgets the message, not the introduction.
        assert!(say(&mut d, "RSET\r\n").0.starts_with("250 "));
        assert!(say(&mut d, "DATA\r\n").0.starts_with("503 "));
        assert!(say(&mut d, "MAIL FROM:<a@b.it>\r\n").0.starts_with("250 "));
        for (line, code) in [
            ("NOOP\r\n", "250 "),
            ("VRFY hd\r\n", "252 "),
            ("STARTTLS\r\n", "502 "),
            ("AUTH PLAIN AGFiAGM=\r\n", "502 "),
            ("BDAT 10 LAST\r\n", "502 "),
            ("XYZZY\r\n", "500 "),
            ("MAIL FROM:<a@b.it\r\n", "501 "),
            ("\r\n", "500 "),
        ] {
            let (reply, then) = say(&mut d, line);
            assert!(reply.starts_with(code), "{line:?}: {reply}");
            assert_eq!(then, Then::Continue);
        }
        assert_eq!(say(&mut d, "QUIT\r\n").1, Then::Close);
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
