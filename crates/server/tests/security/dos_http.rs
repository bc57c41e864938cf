//! Slow and idle HTTP clients (slowloris): the real server binary, under an open-file limit of
//! 256, closes connections that trickle their headers or sit idle, and keeps answering normal
//! requests while 300 such clients attack it.

use crate::process::{ServerProcess, Spec};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The server under an open-file limit, without SMTP.
async fn start(open_files: u64, env: &[(&str, &str)]) -> ServerProcess {
    ServerProcess::start(Spec {
        env,
        open_files: Some(open_files),
        ..Spec::default()
    })
    .await
}

/// Sends one complete request and reads its whole response (headers and a sized body).
async fn request(stream: &mut TcpStream, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .expect("request sent");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text;
            }
        }
        let n = timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a response within 10 s")
            .expect("reading the response");
        assert!(n > 0, "the server closed instead of answering: {text:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

/// How a connection ended, seen from the client.
#[derive(Debug, PartialEq)]
enum End {
    /// The server closed it (EOF or reset) after this long.
    ClosedAfter(Duration),
    /// Still open when the client gave up.
    StillOpen,
}

/// Reads until the server closes the connection or `limit` has passed since `since`.
async fn wait_for_close(stream: &mut TcpStream, since: Instant, limit: Duration) -> End {
    read_until_close(stream, since, limit).await.0
}

/// The same, with whatever the server sent meanwhile.
async fn read_until_close(
    stream: &mut TcpStream,
    since: Instant,
    limit: Duration,
) -> (End, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let left = limit.saturating_sub(since.elapsed());
        let end = match timeout(left, stream.read(&mut buf)).await {
            Err(_) => End::StillOpen,
            Ok(Ok(0)) | Ok(Err(_)) => End::ClosedAfter(since.elapsed()),
            Ok(Ok(n)) => {
                got.extend_from_slice(&buf[..n]);
                continue;
            }
        };
        return (end, String::from_utf8_lossy(&got).into_owned());
    }
}

/// One slowloris connection: request headers that never end, one byte every two seconds, until
/// the server closes it or `limit` passes.
async fn trickle(addr: SocketAddr, limit: Duration) -> End {
    let opened = Instant::now();
    let Ok(Ok(mut stream)) = timeout(Duration::from_secs(10), TcpStream::connect(addr)).await
    else {
        // Refused or not taken in 10 s: the server holds nothing for it.
        return End::ClosedAfter(opened.elapsed());
    };
    let head = b"GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut buf = [0u8; 1024];
    for i in 0.. {
        if opened.elapsed() > limit {
            return End::StillOpen;
        }
        let byte = head.get(i).copied().unwrap_or(b'a');
        if stream.write_all(&[byte]).await.is_err() {
            return End::ClosedAfter(opened.elapsed());
        }
        match timeout(Duration::from_secs(2), stream.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0)) | Ok(Err(_)) => return End::ClosedAfter(opened.elapsed()),
            // Whatever it answered, the headers were never complete: wait for the close.
            Ok(Ok(_)) => {}
        }
    }
    End::StillOpen
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_slow_header_clients_under_256_open_files_neither_starve_normal_requests_nor_stay_connected(
) {
    let server = start(256, &[]).await;
    slowloris(&server, "cap from the open-file limit").await;
}

/// With a cap above what the descriptors allow, accepting fails (EMFILE) before the cap is
/// reached: the server must recover by itself, without a busy loop or a long pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_clients_that_exhaust_the_open_files_before_the_cap_still_do_not_starve_normal_requests(
) {
    let server = start(256, &[("HELPDESK_HTTP_MAX_CONNECTIONS", "1000")]).await;
    slowloris(&server, "cap above the open-file limit").await;
}

/// 300 slow-header clients for 12 s while a customer sends normal requests: every request is
/// answered in seconds, and every slow connection is closed by the server within 30 s.
async fn slowloris(server: &ServerProcess, what: &str) {
    let addr = server.addr;
    let attack = Duration::from_secs(12);
    let limit = Duration::from_secs(30);
    let started = Instant::now();

    // 300 attackers; each one whose connection is closed opens another a second later.
    let connections = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::new();
    for _ in 0..300 {
        let connections = Arc::clone(&connections);
        attackers.push(tokio::spawn(async move {
            let mut ends = Vec::new();
            while started.elapsed() < attack {
                connections.fetch_add(1, Ordering::Relaxed);
                let end = trickle(addr, limit + Duration::from_secs(5)).await;
                let still_open = end == End::StillOpen;
                ends.push(end);
                if still_open {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            ends
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Meanwhile a customer's requests, each on a new connection: every one is answered.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut latencies = Vec::new();
    while started.elapsed() < attack {
        let sent = Instant::now();
        let answer = client.get(server.url("/api/v1/me")).send().await;
        let took = sent.elapsed();
        match answer {
            Ok(r) => assert_eq!(
                r.status(),
                reqwest::StatusCode::UNAUTHORIZED,
                "a normal request during the attack"
            ),
            Err(e) => panic!(
                "a normal request {:?} into the attack was not answered: {e}",
                started.elapsed()
            ),
        }
        assert!(
            took < Duration::from_secs(5),
            "a normal request took {took:?}"
        );
        latencies.push(took);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut ends = Vec::new();
    for a in attackers {
        ends.extend(a.await.expect("attacker task"));
    }
    let open = ends.iter().filter(|e| **e == End::StillOpen).count();
    let longest = ends
        .iter()
        .filter_map(|e| match e {
            End::ClosedAfter(d) => Some(*d),
            End::StillOpen => None,
        })
        .max()
        .unwrap_or_default();
    latencies.sort();
    println!(
        "{what}: slow clients: {} connections, longest held {longest:?}; normal requests: {} answered, \
         p50 {:?}, p99 {:?}, max {:?}",
        connections.load(Ordering::Relaxed),
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
    );
    assert_eq!(
        open,
        0,
        "slow connections still open after {limit:?}: {open} of {}",
        ends.len()
    );
    assert!(longest < limit, "a slow connection was held {longest:?}");
    // The server is still itself afterwards.
    let r = client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("health after the attack");
    assert!(r.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = start(256, &[("HELPDESK_HTTP_IDLE_TIMEOUT", "3")]).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let first = request(&mut stream, "/api/v1/me").await;
    assert!(first.starts_with("HTTP/1.1 401"), "{first}");
    // Kept alive: a second request on the same connection is answered.
    let second = request(&mut stream, "/api/v1/me").await;
    assert!(second.starts_with("HTTP/1.1 401"), "{second}");
    let idle_from = Instant::now();
    match wait_for_close(&mut stream, idle_from, Duration::from_secs(20)).await {
        End::ClosedAfter(d) => assert!(
            d >= Duration::from_millis(2500),
            "closed after {d:?}, before the 3 s idle timeout"
        ),
        End::StillOpen => panic!("an idle connection was still open after 20 s"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_must_arrive_within_ten_seconds_while_a_kept_alive_connection_may_wait_longer() {
    let server = start(256, &[]).await;
    let limit = Duration::from_secs(25);

    // Connected, and nothing sent: closed by the header timeout.
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let silent_from = Instant::now();
    // A request answered, then the next one started and never finished: the header timeout
    // again, counted from its first byte, not the longer idle timeout.
    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    request(&mut stalled, "/api/v1/me").await;
    stalled
        .write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: 127")
        .await
        .expect("half a request");
    let stalled_from = Instant::now();
    // A request answered, then silence: kept open past the header timeout (idle: 75 s).
    let mut idle = TcpStream::connect(server.addr).await.expect("connect");
    request(&mut idle, "/api/v1/me").await;

    let (silent_end, stalled_end) = tokio::join!(
        wait_for_close(&mut silent, silent_from, limit),
        wait_for_close(&mut stalled, stalled_from, limit),
    );
    for (what, end) in [("silent", silent_end), ("stalled", stalled_end)] {
        match end {
            End::ClosedAfter(d) => assert!(
                d >= Duration::from_secs(8) && d < Duration::from_secs(20),
                "the {what} connection was closed after {d:?}, not about 10 s"
            ),
            End::StillOpen => panic!("the {what} connection was still open after {limit:?}"),
        }
    }
    let again = request(&mut idle, "/api/v1/me").await;
    assert!(
        again.starts_with("HTTP/1.1 401"),
        "the kept-alive connection after the header timeout: {again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_that_stops_arriving_and_a_response_nobody_reads_are_each_ended_within_thirty_seconds(
) {
    let server = start(256, &[]).await;
    let (body_end, (reader_end, answers)) =
        tokio::join!(stall_a_body(server.addr), stop_reading(server.addr));

    println!(
        "stalled body: {:?}, {} bytes answered; unread responses: {reader_end:?}, {answers} of \
         {PIPELINED} delivered",
        body_end.0,
        body_end.1.len()
    );
    let (end, answer) = body_end;
    match end {
        End::ClosedAfter(d) => assert!(
            d >= Duration::from_secs(25) && d < Duration::from_secs(45),
            "closed {d:?} after the body stalled, not about 30 s: {answer:?}"
        ),
        End::StillOpen => panic!("a stalled body held its connection for 50 s: {answer:?}"),
    }
    // If it answered, it said the request was at fault, not the server.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );

    assert!(
        matches!(reader_end, End::ClosedAfter(_)),
        "a connection whose client stopped reading was still open after 50 s"
    );
    assert!(
        answers < PIPELINED,
        "all {answers} answers were delivered: the client was not cut off"
    );
}

/// Sends headers and the start of a body, then nothing: what the server answers, and when it
/// closes.
async fn stall_a_body(addr: SocketAddr) -> (End, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .expect("headers and the start of a body");
    let stalled_from = Instant::now();
    read_until_close(&mut stream, stalled_from, Duration::from_secs(50)).await
}

/// Requests the API document (26 KB) this many times at once: more than any socket buffers hold.
const PIPELINED: usize = 200;

/// Asks for many answers, reads none for 40 s, then reads: how the connection ended, and how
/// many answers arrived. A connection still held would deliver every answer and stay open.
async fn stop_reading(addr: SocketAddr) -> (End, usize) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    let requests = "GET /api/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(PIPELINED);
    stream
        .write_all(requests.as_bytes())
        .await
        .expect("requests sent");
    tokio::time::sleep(Duration::from_secs(40)).await;
    let (end, text) = read_until_close(&mut stream, Instant::now(), Duration::from_secs(10)).await;
    (end, text.matches("HTTP/1.1 200").count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_closes_idle_connections_at_once_and_lets_a_request_in_flight_finish() {
    let app = crate::helpers::spawn_app().await;
    let addr = app.running.as_ref().expect("running").addr;
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    let first = request(&mut idle, "/api/v1/me").await;
    assert!(first.starts_with("HTTP/1.1 401"), "{first}");
    // A login whose body is half sent: its handler is waiting for the rest.
    let body = br#"{"email":"nobody@example.com","password":"wrong-password"}"#;
    let (head, tail) = body.split_at(20);
    let mut in_flight = TcpStream::connect(addr).await.expect("connect");
    let headers = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight
        .write_all(headers.as_bytes())
        .await
        .expect("headers");
    in_flight.write_all(head).await.expect("half the body");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let stopping = tokio::spawn(app.stop());
    let since = Instant::now();
    match wait_for_close(&mut idle, since, Duration::from_secs(10)).await {
        End::ClosedAfter(d) => assert!(d < Duration::from_secs(5), "idle closed after {d:?}"),
        End::StillOpen => panic!("an idle connection outlived the stop by 10 s"),
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "a new connection was taken after the stop"
    );
    in_flight
        .write_all(tail)
        .await
        .expect("the rest of the body");
    let (end, answer) = read_until_close(&mut in_flight, since, Duration::from_secs(20)).await;
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the login in flight was not answered: {answer:?}"
    );
    assert!(
        matches!(end, End::ClosedAfter(_)),
        "the connection stayed open after its last answer"
    );
    timeout(Duration::from_secs(20), stopping)
        .await
        .expect("the server stops within 20 s")
        .expect("stop task");
}
