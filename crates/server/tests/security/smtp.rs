//! SMTP-level attacks on the real listener over loopback: smuggling a second message through one
//! DATA phase, holding connection slots, flooding from one address, and stalled DATA phases that
//! once cost the server their whole size in memory.

use crate::helpers::{spawn_with, TestApp};
use crate::process::{ServerProcess, Spec};
use helpdesk_server::mail::smtp::{self, Limits};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};

/// A bare SMTP client, so that the test decides every byte on the wire.
struct Client {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

/// One reply: its code and its text (all lines).
#[derive(Debug)]
struct Reply {
    code: u16,
    text: String,
}

const LIMIT: Duration = Duration::from_secs(30);

impl Client {
    /// Connects from `from` (any 127.x.y.z: every loopback address is a distinct client).
    async fn connect_from(from: &str, to: SocketAddr) -> (Self, Reply) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(format!("{from}:0").parse().expect("address"))
            .expect("bind the client address");
        let stream = tokio::time::timeout(LIMIT, socket.connect(to))
            .await
            .expect("connected in time")
            .expect("connect");
        Self::over(stream).await
    }

    async fn over(stream: TcpStream) -> (Self, Reply) {
        stream.set_nodelay(true).expect("nodelay");
        let (r, w) = stream.into_split();
        let mut c = Client {
            r: BufReader::new(r),
            w,
        };
        let greeting = c.reply().await.expect("a greeting");
        (c, greeting)
    }

    /// The next reply, or `None` when the server closed the connection.
    async fn reply(&mut self) -> Option<Reply> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(LIMIT, self.r.read_line(&mut line))
                .await
                .expect("the server answers in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            text.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
                return Some(Reply { code, text });
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.expect("write");
    }

    async fn command(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await.expect("a reply")
    }

    /// Whether the server has closed the connection (reading gives the end of the stream).
    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            LIMIT,
            tokio::io::AsyncReadExt::read_to_end(&mut self.r, &mut rest),
        )
        .await;
        matches!(read, Ok(Ok(_)) | Ok(Err(_)))
    }

    /// A whole message, CRLF line ends and dot-stuffed; returns the reply to its end.
    async fn message(&mut self, from: &str, raw: &str) -> Reply {
        let mail = self.command(&format!("MAIL FROM:<{from}>")).await;
        if mail.code != 250 {
            return mail;
        }
        assert_eq!(self.command("RCPT TO:<hd@smacloud.it>").await.code, 250);
        assert_eq!(self.command("DATA").await.code, 354);
        let mut wire = String::new();
        for line in raw.lines() {
            if line.starts_with('.') {
                wire.push('.');
            }
            wire.push_str(line);
            wire.push_str("\r\n");
        }
        wire.push_str(".\r\n");
        self.send(wire.as_bytes()).await;
        self.reply().await.expect("a reply to the message")
    }
}

/// The demo server with its SMTP listener (sender authentication off: the demo's senders have no
/// DNS records, and smuggling is about the protocol, not about who may send).
async fn spawn_smtp() -> (TestApp, SocketAddr) {
    let app = spawn_with(|c| {
        c.mail_require_auth = false;
        c.smtp_bind = Some("127.0.0.1:0".parse().expect("address"));
    })
    .await;
    let addr = app
        .running
        .as_ref()
        .and_then(|r| r.smtp_addr)
        .expect("SMTP listening");
    (app, addr)
}

/// A second listener of the same server with the given limits.
async fn listener_with(app: &TestApp, limits: Limits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let shutdown = app.running.as_ref().expect("running").shutdown.clone();
    tokio::spawn(smtp::serve(
        listener,
        app.state().clone(),
        None,
        limits,
        shutdown,
    ));
    addr
}

async fn count(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(app.state().store.sqlite().expect("SQLite").pool())
        .await
        .expect("count")
}

#[tokio::test]
async fn one_data_phase_never_yields_two_messages_whatever_its_mix_of_bare_lf_and_crlf() {
    let (app, addr) = spawn_smtp().await;
    let tickets_of_altro =
        "SELECT COUNT(*) FROM tickets WHERE account_id = (SELECT id FROM accounts WHERE email = ?)";
    let altro_before = count(&app, tickets_of_altro, "altro@example.it").await;
    let separators: [&[u8]; 8] = [
        b"\n.\n",
        b"\r\n.\n",
        b"\n.\r\n",
        b"\r.\r\n",
        b"\n.\r",
        b"\r\n.\r",
        b"\r.\n",
        b"\n..\n.\n",
    ];
    for (i, sep) in separators.iter().enumerate() {
        let shown = String::from_utf8_lossy(sep).escape_debug().to_string();
        let (mut c, greeting) = Client::connect_from("127.0.0.1", addr).await;
        assert_eq!(greeting.code, 220);
        assert_eq!(c.command("EHLO attacker.example").await.code, 250);
        // The whole attack in one write, as a relay that does not see these as line ends would
        // pass it on: the first message, the fake end, then a second envelope for another
        // customer and the real end.
        let mut wire = format!(
            "MAIL FROM:<demo@example.it>\r\nRCPT TO:<hd@smacloud.it>\r\nDATA\r\n\
             From: demo@example.it\r\nTo: hd@smacloud.it\r\nSubject: Errore 500 su blog-mario.it prova {i}\r\n\
             Message-ID: <outer-{i}@example.it>\r\n\r\nIl blog risponde con errore 500."
        )
        .into_bytes();
        wire.extend_from_slice(sep);
        wire.extend_from_slice(
            format!(
                "MAIL FROM:<altro@example.it>\r\nRCPT TO:<hd@smacloud.it>\r\nDATA\r\n\
                 From: altro@example.it\r\nTo: hd@smacloud.it\r\nSubject: Contrabbandato {i}\r\n\
                 Message-ID: <smuggled-{i}@example.it>\r\n\r\nChiudete il mio account.\r\n.\r\nQUIT\r\n"
            )
            .as_bytes(),
        );
        c.send(&wire).await;
        let mut codes = Vec::new();
        let mut end_reply = String::new();
        while let Some(r) = c.reply().await {
            if codes.len() == 3 {
                end_reply = r.text.clone();
            }
            codes.push(r.code);
            if r.code == 221 {
                break;
            }
        }
        // MAIL, RCPT, DATA, the one end of DATA, QUIT: the smuggled commands were data.
        assert_eq!(codes.len(), 5, "{shown}: replies {codes:?}");
        assert_eq!(&codes[..3], &[250, 250, 354], "{shown}");
        assert_eq!(codes[4], 221, "{shown}");
        assert!(
            codes[3] == 250 || (500..600).contains(&codes[3]),
            "{shown}: {end_reply}"
        );
        if codes[3] != 250 {
            assert!(end_reply.contains("CRLF"), "a clear refusal: {end_reply}");
        }
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM mail_intake WHERE subject LIKE ?",
                "Contrabbandato%"
            )
            .await,
            0,
            "{shown}: the smuggled message was never a message"
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM tickets WHERE subject LIKE ?",
                "Contrabbandato%"
            )
            .await,
            0,
            "{shown}"
        );
        let outer = count(
            &app,
            "SELECT COUNT(*) FROM tickets WHERE subject LIKE ?",
            &format!("Errore 500 su blog-mario.it prova {i}"),
        )
        .await;
        assert!(outer <= 1, "{shown}: {outer} tickets for one DATA phase");
    }
    assert_eq!(
        count(&app, tickets_of_altro, "altro@example.it").await,
        altro_before,
        "no ticket for the other customer"
    );

    // Bare LFs that are no attempt at an end are data: such a message is taken, once.
    let (mut c, _) = Client::connect_from("127.0.0.1", addr).await;
    c.command("EHLO old-mailer.example").await;
    c.send(
        b"MAIL FROM:<demo@example.it>\r\nRCPT TO:<hd@smacloud.it>\r\nDATA\r\n\
          From: demo@example.it\nTo: hd@smacloud.it\nSubject: Errore 500 su blog-mario.it da un vecchio client\n\n\
          righe con LF soltanto\r\n.\r\n",
    )
    .await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(c.reply().await.map_or(0, |r| r.code));
    }
    assert_eq!(codes, [250, 250, 354, 250]);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM tickets WHERE subject = ?",
            "Errore 500 su blog-mario.it da un vecchio client"
        )
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_only_sends_noop_or_rset_is_closed_and_its_slot_freed() {
    let (app, addr) = spawn_smtp().await;
    for junk in ["NOOP", "RSET", "HELO loop.example"] {
        let (mut c, _) = Client::connect_from("127.0.0.1", addr).await;
        let mut closed_after = None;
        for n in 1..=500 {
            match c.command(junk).await.code {
                250 => continue,
                421 => {
                    closed_after = Some(n);
                    break;
                }
                other => panic!("{junk}: unexpected {other}"),
            }
        }
        let n = closed_after.unwrap_or_else(|| panic!("{junk} kept the connection 500 times"));
        assert!(n <= 101, "{junk}: closed only after {n}");
        assert!(c.closed().await, "{junk}: the connection is closed");
    }
    // A client that delivers messages is making progress and is not cut off.
    let (mut c, _) = Client::connect_from("127.0.0.1", addr).await;
    c.command("EHLO busy.example").await;
    for i in 0..3 {
        for _ in 0..60 {
            assert_eq!(c.command("NOOP").await.code, 250);
        }
        let r = c
            .message(
                "nobody@unknown.example",
                &format!(
                    "From: nobody@unknown.example\nTo: hd@smacloud.it\nSubject: n. {i}\n\nciao"
                ),
            )
            .await;
        assert_eq!(r.code, 250, "{}", r.text);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_session_is_closed_at_its_age_limit_however_busy_it_keeps() {
    let (app, _) = spawn_smtp().await;
    let addr = listener_with(
        &app,
        Limits {
            max_session: Duration::from_secs(3),
            ..Limits::default()
        },
    )
    .await;
    let started = Instant::now();
    let (mut c, _) = Client::connect_from("127.0.0.1", addr).await;
    c.command("EHLO slow.example").await;
    c.command("MAIL FROM:<x@slow.example>").await;
    c.command("RCPT TO:<hd@smacloud.it>").await;
    assert_eq!(c.command("DATA").await.code, 354);
    // A trickle of data, one line a few hundred milliseconds apart: never idle, never done.
    let reply = loop {
        assert!(started.elapsed() < Duration::from_secs(25), "never closed");
        // The write fails once the server has closed; the reply below says why.
        let _ = c.w.write_all(b"Subject: a trickle\r\n").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut peek = [0u8; 1];
        if let Ok(Ok(1)) =
            tokio::time::timeout(Duration::from_millis(10), c.r.get_mut().peek(&mut peek)).await
        {
            break c.reply().await.expect("a goodbye");
        }
    };
    assert_eq!(reply.code, 421, "{}", reply.text);
    assert!(reply.text.contains("too long"), "{}", reply.text);
    assert!(c.closed().await);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM mail_intake WHERE subject = ?",
            "a trickle"
        )
        .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn one_address_gets_a_few_connections_while_others_still_get_in() {
    let (app, _) = spawn_smtp().await;
    let addr = listener_with(
        &app,
        Limits {
            max_connections_per_client: 5,
            exempt_loopback: false,
            ..Limits::default()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let (c, greeting) = Client::connect_from("127.0.0.2", addr).await;
        assert_eq!(greeting.code, 220);
        held.push(c);
    }
    let (mut sixth, refused) = Client::connect_from("127.0.0.2", addr).await;
    assert_eq!(refused.code, 421, "{}", refused.text);
    assert!(refused.text.contains("your address"), "{}", refused.text);
    assert!(sixth.closed().await);
    let (_, other) = Client::connect_from("127.0.0.3", addr).await;
    assert_eq!(other.code, 220, "another address is not locked out");
    // A closed connection gives its slot back.
    drop(held.pop());
    let mut greeted = false;
    for _ in 0..50 {
        let (_, g) = Client::connect_from("127.0.0.2", addr).await;
        if g.code == 220 {
            greeted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(greeted, "the slot came back");
    app.stop().await;
}

#[tokio::test]
async fn one_address_sends_a_bounded_number_of_messages_and_is_told_to_come_back_later() {
    let (app, _) = spawn_smtp().await;
    let addr = listener_with(
        &app,
        Limits {
            message_burst: 3,
            messages_per_hour: 1,
            exempt_loopback: false,
            ..Limits::default()
        },
    )
    .await;
    let (mut c, _) = Client::connect_from("127.0.0.4", addr).await;
    c.command("EHLO flood.example").await;
    for i in 0..3 {
        let r = c
            .message(
                "flood@unknown.example",
                &format!(
                    "From: flood@unknown.example\nTo: hd@smacloud.it\nSubject: flood {i}\n\nx"
                ),
            )
            .await;
        assert_eq!(r.code, 250, "{}", r.text);
    }
    let over = c.command("MAIL FROM:<flood@unknown.example>").await;
    assert_eq!(over.code, 450, "{}", over.text);
    assert!(over.text.contains("Too many messages"), "{}", over.text);
    // A new connection does not refill the bucket.
    let (mut again, _) = Client::connect_from("127.0.0.4", addr).await;
    again.command("EHLO flood.example").await;
    assert_eq!(
        again
            .command("MAIL FROM:<flood@unknown.example>")
            .await
            .code,
        450
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM mail_intake WHERE sender = ?",
            "flood@unknown.example"
        )
        .await,
        3
    );
    // Someone else is served.
    let (mut other, _) = Client::connect_from("127.0.0.5", addr).await;
    other.command("EHLO other.example").await;
    let r = other
        .message(
            "someone@unknown.example",
            "From: someone@unknown.example\nTo: hd@smacloud.it\nSubject: ciao\n\nx",
        )
        .await;
    assert_eq!(r.code, 250, "{}", r.text);
    app.stop().await;
}

// ----- memory of stalled DATA phases, measured on the server as its own process -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_stalled_nine_mib_data_phases_cost_the_server_little_memory() {
    let server = ServerProcess::start(Spec {
        env: &[("HELPDESK_MAIL_REQUIRE_AUTH", "0"), ("HELPDESK_DEMO", "0")],
        smtp: true,
        ..Spec::default()
    })
    .await;
    let smtp = server.smtp.expect("an SMTP address");
    let (mut probe, _) = Client::over(TcpStream::connect(smtp).await.expect("connect")).await;
    probe.command("EHLO probe.example").await;
    let before = server.rss_kib();

    let chunk: Vec<u8> =
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
            .repeat(1024);
    let nine_mib = 9 * 1024 * 1024;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let chunk = chunk.clone();
        tasks.spawn(async move {
            let (mut c, _) = Client::over(TcpStream::connect(smtp).await.expect("connect")).await;
            c.command("EHLO stall.example").await;
            c.command(&format!("MAIL FROM:<stall{i}@unknown.example>"))
                .await;
            c.command("RCPT TO:<hd@smacloud.it>").await;
            assert_eq!(c.command("DATA").await.code, 354);
            c.send(b"From: x@unknown.example\r\nSubject: stalled\r\n\r\n")
                .await;
            let mut sent = 0;
            while sent < nine_mib {
                c.send(&chunk).await;
                sent += chunk.len();
            }
            // Then nothing: the DATA phase is left open.
            c
        });
    }
    let mut stalled = Vec::new();
    while let Some(c) = tasks.join_next().await {
        stalled.push(c.expect("a stalled client"));
    }
    // Let the server read what the kernel still buffers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = server.rss_kib();
    let grew_mib = during.saturating_sub(before) / 1024;
    eprintln!(
        "40 stalled 9 MiB DATA phases: server RSS {} MiB before, {} MiB during (+{grew_mib} MiB)",
        before / 1024,
        during / 1024
    );
    assert!(
        grew_mib < 64,
        "40 stalled DATA phases took {grew_mib} MiB of the server's memory"
    );
    // The server still takes mail meanwhile.
    let r = probe
        .message(
            "probe@unknown.example",
            "From: probe@unknown.example\nTo: hd@smacloud.it\nSubject: still here\n\nx",
        )
        .await;
    assert_eq!(r.code, 250, "{}", r.text);
    drop(stalled);
    // The spooled data was in unnamed files: nothing is left behind once the clients are gone.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mail_dir = server
        .dir
        .as_ref()
        .expect("its own folder")
        .path()
        .join("mail");
    let left = std::fs::read_dir(&mail_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        left,
        1,
        "only the probe's raw message is in {}",
        mail_dir.display()
    );
}
