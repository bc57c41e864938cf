//! The app's pieces (issue 23): the wizard's wasm is fetched only when the wizard is first
//! opened, and when that fetch fails (the server answers 503) the page says so in a sentence
//! with a button that tries again, which works; the app stays alive. A signed-out visitor is
//! sent to the login before the page's piece is fetched.

use helpdesk_e2e::{start_in, Env};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A front for the server on another port: every request passes through, one request at a
/// time per connection (so that each is seen), except the first request for a wasm piece whose
/// name contains `piece`, which gets a 503 as an overloaded server would answer.
struct Front {
    addr: SocketAddr,
    /// Requests seen for the piece: the failed one and those after it.
    asked: Arc<AtomicUsize>,
}

impl Front {
    async fn start(upstream: SocketAddr, piece: &'static str) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let _ = pass(client, upstream, piece, counter).await;
                });
            }
        });
        Front { addr, asked }
    }
}

async fn pass(
    mut client: TcpStream,
    upstream: SocketAddr,
    piece: &str,
    asked: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
    let name = path.rsplit('/').next().unwrap_or("");
    if name.contains(piece) && name.ends_with(".wasm") && asked.fetch_add(1, Ordering::SeqCst) == 0
    {
        let body = "Service Unavailable";
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(answer.as_bytes()).await?;
        return client.shutdown().await;
    }
    // The request goes on with `connection: close`, so the browser's next request comes on a
    // connection of its own, through this same check.
    let mut lines: Vec<&str> = text
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("connection: close");
    let mut forwarded = (lines.join("\r\n") + "\r\n\r\n").into_bytes();
    forwarded.extend_from_slice(&head[end..]);
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&forwarded).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

/// A browser in `lang` at `path` of the app through a [`Front`] whose wasm named with `piece`
/// fails once.
async fn through_front(lang: &str, path: &str, piece: &'static str) -> (Env, Front) {
    let env = start_in(lang, |_| {}).await;
    let upstream = env.server.as_ref().expect("server").addr;
    let front = Front::start(upstream, piece).await;
    env.browser
        .goto(&format!("http://{}{path}", front.addr))
        .await
        .expect("navigate");
    (env, front)
}

/// Signs in through the front, opens the wizard (whose piece fails once), sees the failure and
/// its retry, retries and gets the wizard.
async fn wizard_piece_fails_once(lang: &str, texts: [&str; 6]) {
    let [sign_in, new_ticket, failed, retry, first_step, my_tickets] = texts;
    let (env, front) = through_front(lang, "/login", "wizard").await;
    env.by_role("button", sign_in).await;
    env.submit_login("demo@example.it").await;
    // The list's own piece has arrived: its table of tickets is shown.
    env.by_role_any("table").await;
    env.click_role("link", new_ticket).await;

    let alert = env.by_role_any("alert").await;
    let said = alert.text().await.expect("text");
    assert!(said.contains(failed), "the failure says {said:?}");
    assert_eq!(
        front.asked.load(Ordering::SeqCst),
        1,
        "the piece was asked once"
    );
    // The app is alive: the way back to the list is offered beside the retry.
    env.by_role("link", my_tickets).await;

    env.click_role("button", retry).await;
    env.until(
        "the wizard's first step",
        &format!(
            "return [...document.querySelectorAll('form.card')].some(f => \
             f.innerText.includes({first_step:?})) && !allByRole('alert').length"
        ),
    )
    .await;
    assert_eq!(
        front.asked.load(Ordering::SeqCst),
        2,
        "the retry fetched the piece again"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_piece_that_fails_to_load_offers_a_retry_that_works() {
    wizard_piece_fails_once(
        "it-IT",
        [
            "Accedi",
            "Apri un ticket",
            "Non è stato possibile caricare questa pagina",
            "Riprova",
            "Tipo di assistenza",
            "I miei ticket",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_piece_that_fails_to_load_offers_a_retry_in_english() {
    wizard_piece_fails_once(
        "en-GB",
        [
            "Sign in",
            "Open a ticket",
            "This page could not be loaded",
            "Try again",
            "Kind of help",
            "My tickets",
        ],
    )
    .await;
}

/// A signed-out visitor who opens the wizard's address is sent to the login without the
/// wizard's piece being fetched; once signed in, the wizard's piece is fetched (here it fails
/// once, is tried again) and the wizard opens where they were going.
#[tokio::test]
async fn a_signed_out_visitor_gets_the_login_before_any_piece_of_the_page() {
    let (env, front) = through_front("it-IT", "/nuovo", "wizard").await;
    env.by_label("E-mail").await;
    env.until(
        "the login's address",
        "return location.pathname === '/login'",
    )
    .await;
    // Whatever the app does next on its own, it does not ask for the wizard.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(
        front.asked.load(Ordering::SeqCst),
        0,
        "the wizard's piece was fetched for a signed-out visitor"
    );

    env.submit_login("demo@example.it").await;
    // Back where they were going: now the wizard's piece is asked for (and fails once).
    env.click_role("button", "Riprova").await;
    env.until(
        "the wizard's first step",
        "return location.pathname === '/nuovo' && [...document.querySelectorAll('form.card')]\
         .some(f => f.innerText.includes('Tipo di assistenza')) && !allByRole('alert').length",
    )
    .await;
    assert_eq!(front.asked.load(Ordering::SeqCst), 2);
    env.stop().await;
}

/// When the app's own wasm fails to arrive (the server answers 503 for it), the first view says
/// so in the visitor's language, with the focus on a button that tries again; trying again
/// brings the login.
async fn app_fails_once(lang: &str, texts: [&str; 3]) {
    let [failed, retry, sign_in] = texts;
    let (env, front) = through_front(lang, "/login", "helpdesk-app").await;
    let alert = env.by_role_any("alert").await;
    let said = alert.text().await.expect("text");
    assert!(said.contains(failed), "the failure says {said:?}");
    let button = env.by_role("button", retry).await;
    assert!(env.is_focused(&button).await, "the retry has the focus");
    assert_eq!(
        front.asked.load(Ordering::SeqCst),
        1,
        "the app was asked once"
    );

    env.click_role("button", retry).await;
    env.by_role("button", sign_in).await;
    env.by_label("E-mail").await;
    assert_eq!(
        front.asked.load(Ordering::SeqCst),
        2,
        "trying again fetched the app again"
    );
    assert!(
        env.js("return allByRole('alert').length").await == 0,
        "no failure is left on the page"
    );
    env.stop().await;
}

#[tokio::test]
async fn the_app_that_fails_to_arrive_says_so_and_tries_again() {
    app_fails_once(
        "it-IT",
        [
            "Non è stato possibile caricare l'assistenza clienti",
            "Riprova",
            "Accedi",
        ],
    )
    .await;
}

#[tokio::test]
async fn the_app_that_fails_to_arrive_says_so_in_english() {
    app_fails_once(
        "en-GB",
        [
            "Customer support could not be loaded",
            "Try again",
            "Sign in",
        ],
    )
    .await;
}

/// The page arrives with its stylesheet inside it and paints the first view before it asks for
/// the app's wasm (what keeps the first view quick on a slow phone, and Lighthouse's largest paint
/// the first view's card); the app then takes the page, styled: the inline style passes the CSP.
#[tokio::test]
async fn the_first_view_is_painted_before_the_app_is_asked_for() {
    let env = helpdesk_e2e::start().await;
    env.goto("/login").await;
    env.by_label("E-mail").await;
    let seen = env
        .js(
            "const paint = performance.getEntriesByName('first-contentful-paint')[0];
             const files = performance.getEntriesByType('resource').map(e => e.name);
             const wasm = performance.getEntriesByType('resource')
                 .filter(e => /helpdesk-app-[0-9a-f]+_bg\\.wasm$/.test(e.name));
             const button = [...document.querySelectorAll('button')]
                 .find(b => b.textContent.trim() === 'Accedi');
             return {
                 painted: paint ? paint.startTime : null,
                 asked: wasm.map(e => e.startTime),
                 stylesheets: files.filter(n => n.endsWith('.css')),
                 button: button ? getComputedStyle(button).backgroundColor : null,
             };",
        )
        .await;
    let painted = seen["painted"].as_f64().expect("a first contentful paint");
    let asked: Vec<f64> = seen["asked"]
        .as_array()
        .expect("the wasm's entries")
        .iter()
        .filter_map(|t| t.as_f64())
        .collect();
    assert_eq!(asked.len(), 1, "the main wasm asked for once: {seen}");
    assert!(
        asked[0] >= painted,
        "the wasm was asked for at {} ms, before the first view was painted at {painted} ms",
        asked[0]
    );
    assert_eq!(seen["stylesheets"], serde_json::json!([]), "{seen}");
    // The brand's blue of style/main.css (--brand): the page is styled, not bare HTML.
    assert_eq!(seen["button"], "rgb(11, 92, 173)", "{seen}");
    env.stop().await;
}
