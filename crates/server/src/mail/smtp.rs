//! The SMTP listener: `mailin` speaks the protocol, this drives it over tokio with bounded lines,
//! messages, connections and time, and answers `250` only once the message is committed.

use super::auth::{Connection, SenderAuth};
use super::{ingest, AuthSource, Envelope, IngestError, MAX_RAW_BYTES};
use crate::state::AppState;
use anyhow::Context;
use mailin::{Action, Handler, Response, SessionBuilder};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Limits of the listener.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// A command line longer than this is refused; a data line is taken in pieces.
    pub max_line: usize,
    /// Waiting for the client's next line.
    pub idle: Duration,
    /// Recipients of one message.
    pub max_recipients: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 200,
            max_line: 4096,
            idle: Duration::from_secs(300),
            max_recipients: 20,
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

/// Accepts connections until `shutdown`, then lets sessions finish their current command.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    checker: Option<Arc<SenderAuth>>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let limits = Arc::new(limits);
    let mut sessions = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        while sessions.try_join_next().is_some() {}
        let (mut stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "SMTP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            let _ = stream
                .write_all(b"421 4.3.2 Too many connections, try again later\r\n")
                .await;
            continue;
        };
        let state = state.clone();
        let checker = checker.clone();
        let limits = Arc::clone(&limits);
        let stop = shutdown.clone();
        sessions.spawn(async move {
            if let Err(e) = session(stream, peer, &state, checker.as_deref(), &limits, &stop).await
            {
                tracing::debug!(%peer, error = %e, "SMTP session ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(8), async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    sessions.abort_all();
}

/// What `mailin` tells the handler, shared with the driver that owns the socket.
#[derive(Default)]
struct Transaction {
    helo: String,
    mail_from: String,
    recipients: Vec<String>,
    data: Vec<u8>,
    /// More arrived than `MAX_RAW_BYTES`: only the start is kept.
    truncated: bool,
    in_data: bool,
    complete: bool,
}

#[derive(Clone)]
struct IntakeHandler {
    tx: Arc<Mutex<Transaction>>,
    intake: Arc<[String]>,
    max_recipients: usize,
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

    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        let from = if from == NULL_SENDER {
            String::new()
        } else {
            from.to_string()
        };
        self.with(|t| {
            t.mail_from = from;
            t.recipients.clear();
            t.data.clear();
            t.truncated = false;
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
        self.with(|t| {
            t.in_data = true;
            t.data.clear();
            t.truncated = false;
        });
        mailin::response::START_DATA
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.with(|t| append(t, buf));
        Ok(())
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

fn append(t: &mut Transaction, buf: &[u8]) {
    if t.truncated {
        return;
    }
    if t.data.len() + buf.len() > MAX_RAW_BYTES {
        let room = MAX_RAW_BYTES - t.data.len();
        t.data.extend_from_slice(&buf[..room]);
        t.truncated = true;
    } else {
        t.data.extend_from_slice(buf);
    }
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

async fn session(
    stream: TcpStream,
    peer: SocketAddr,
    state: &AppState,
    checker: Option<&SenderAuth>,
    limits: &Limits,
    shutdown: &CancellationToken,
) -> io::Result<()> {
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
    };
    let shared = Arc::clone(&handler.tx);
    let mut session =
        SessionBuilder::new(state.config.mail_domain.clone()).build(peer.ip(), handler);
    reply(&mut w, &session.greeting()).await?;

    let data_piece = 64 * 1024;
    let mut line = Vec::with_capacity(1024);
    let mut at_line_start = true;
    loop {
        let in_data = shared.lock().map(|t| t.in_data).unwrap_or(false);
        let max = if in_data { data_piece } else { limits.max_line };
        let read = tokio::select! {
            // Between commands a stopping server says goodbye; inside DATA it lets the message in.
            _ = shutdown.cancelled(), if !in_data => {
                reply(&mut w, &mailin::response::NO_SERVICE).await?;
                return Ok(());
            }
            r = tokio::time::timeout(limits.idle, read_line_capped(&mut r, &mut line, max)) => r,
        };
        let n = match read {
            Ok(r) => r?,
            Err(_) => {
                let _ = reply(
                    &mut w,
                    &Response::custom(421, "4.4.2 Idle for too long, closing connection".into()),
                )
                .await;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        let complete_line = line.last() == Some(&b'\n');

        if in_data {
            if !at_line_start {
                // The rest of an overlong line: data as it is, never a terminator or dot-stuffed.
                if let Ok(mut t) = shared.lock() {
                    append(&mut t, &line);
                }
            } else {
                // A terminator with a bare LF is still the end of the message.
                let res = if line == b".\n" {
                    session.process(b".\r\n")
                } else {
                    session.process(&line)
                };
                let done = shared.lock().map(|t| t.complete).unwrap_or(false);
                if done {
                    // mailin's own 250 is not sent: the answer waits for the commit.
                    let res = deliver(state, checker, peer.ip(), &shared).await;
                    reply(&mut w, &res).await?;
                } else if res.action != Action::NoReply {
                    reply(&mut w, &res).await?;
                }
            }
            at_line_start = complete_line;
            continue;
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
        at_line_start = true;
    }
}

/// The message just received and its envelope, leaving the transaction ready for the next.
fn take_message(
    shared: &Mutex<Transaction>,
    ip: IpAddr,
) -> Option<(Vec<u8>, bool, Vec<String>, Connection)> {
    let mut t = shared.lock().ok()?;
    let data = std::mem::take(&mut t.data);
    let truncated = t.truncated;
    let recipients = std::mem::take(&mut t.recipients);
    let conn = Connection {
        ip,
        helo: t.helo.clone(),
        mail_from: t.mail_from.clone(),
    };
    t.complete = false;
    t.truncated = false;
    Some((data, truncated, recipients, conn))
}

/// Hands a received message to the intake; the reply says whether it is safely recorded.
async fn deliver(
    state: &AppState,
    checker: Option<&SenderAuth>,
    ip: IpAddr,
    shared: &Mutex<Transaction>,
) -> Response {
    let Some((data, truncated, recipients, conn)) = take_message(shared, ip) else {
        return mailin::response::INTERNAL_ERROR;
    };
    let auth = match checker {
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
    match ingest(&state.store, &state.config, data, !truncated, env).await {
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
}
