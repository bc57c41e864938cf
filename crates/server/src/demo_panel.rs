//! The demo control panel (`HELPDESK_DEMO_PANEL_BIND`, demo mode only): a page on another site
//! than the helpdesk that embeds the widget as the provider's panel would. It signs sign-on
//! tokens for the demo customer, has a page per service with a "Chiedi assistenza su questo
//! servizio" link that prefills the service, and logs the widget's events. Its header is a bar of
//! one line, as panels' are, which a phone cannot fit (the page scrolls sideways there), and
//! `data-top` keeps it free of the open widget. `?preload=idle|now|off` on any of its pages sets
//! the loader's `data-preload` (and its links keep it), so benchmarks measure each mode.
//! `cargo xtask run` alone turns it on (at http://localhost:8081/), so tests and second
//! instances never collide on its port.

use crate::state::AppState;
use crate::storage::prelude::*;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use helpdesk_core::api::Service;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;

/// The customer logged in to the demo panel.
pub const DEMO_CUSTOMER: &str = "demo@example.it";

#[derive(Clone)]
struct Panel {
    state: AppState,
    /// The helpdesk's address as the browser reaches it (where widget.js is).
    helpdesk: String,
}

/// Binds the panel's listener and serves it until shutdown.
pub async fn start(
    state: AppState,
    bind: SocketAddr,
    helpdesk: String,
    shutdown: CancellationToken,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    use anyhow::Context;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the demo panel on {bind}"))?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/", get(home))
        .route("/servizi/{id}", get(service_page))
        .route("/helpdesk-token", get(token))
        .route("/panel.js", get(script))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Pagina non trovata") })
        // No site may frame the panel: a page of its own, logged in as the demo customer, under
        // someone else's frame is a clickjacking target. (It frames the widget, not the reverse.)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(Panel { state, helpdesk });
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "demo panel stopped");
        }
    });
    tracing::info!(%addr, "demo control panel listening");
    Ok((addr, task))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn services(state: &AppState) -> Vec<Service> {
    let Ok(Some(account)) = state.store.account_by_email(DEMO_CUSTOMER).await else {
        return Vec::new();
    };
    state
        .store
        .services(&account.customer.id)
        .await
        .unwrap_or_default()
}

/// The `preload` of the page's query, when it is one of the loader's own values (anything else
/// leaves the loader's default).
fn preload(uri: &Uri) -> Option<&'static str> {
    let value = uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("preload="))?;
    ["idle", "now", "off"].into_iter().find(|v| *v == value)
}

/// What the panel's links add to keep the page's `preload`.
fn keep(preload: Option<&str>) -> String {
    preload.map(|p| format!("?preload={p}")).unwrap_or_default()
}

fn page(panel: &Panel, preload: Option<&str>, title: &str, body: &str) -> Response {
    let html = format!(
        r##"<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Pannello di controllo NewMediaLabs (demo)</title>
<style>
body {{ margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #17202a; background: #eef1f5; }}
header {{ display: flex; gap: 1rem; align-items: center; height: 3rem; box-sizing: border-box; padding: 0 1.25rem; white-space: nowrap; background: #1d2733; color: #fff; }}
header a {{ color: #fff; font-weight: 700; text-decoration: none; }}
header .who {{ margin-left: auto; }}
header button {{ font: inherit; }}
main {{ max-width: 60rem; margin: 0 auto; padding: 1.25rem; }}
.card {{ background: #fff; border: 1px solid #c9d2dc; border-radius: .5rem; padding: 1rem 1.25rem; margin-bottom: 1rem; }}
a {{ color: #0b5cad; }}
#events {{ font: 14px/1.4 ui-monospace, monospace; }}
</style>
<script>window.Helpdesk=window.Helpdesk||function(){{(Helpdesk.q=Helpdesk.q||[]).push(arguments)}};</script>
<script src="{helpdesk}/widget.js" async data-accent="#00606b" data-radius="10px" data-top="4rem"{preload}></script>
<script src="/panel.js" defer></script>
</head>
<body>
<header><a href="/{keep}">NewMediaLabs · Pannello di controllo</a><span>(demo)</span>
<span class="who">Mario Rossi</span><button type="button" id="panel-logout">Esci dal pannello</button></header>
<main>
{body}
<section class="card" aria-labelledby="events-title">
<h2 id="events-title">Eventi del widget</h2>
<ol id="events" aria-live="polite"></ol>
</section>
</main>
</body>
</html>"##,
        title = esc(title),
        helpdesk = esc(&panel.helpdesk),
        preload = preload
            .map(|p| format!(" data-preload=\"{}\"", esc(p)))
            .unwrap_or_default(),
        keep = esc(&keep(preload)),
    );
    let mut resp = Html(html).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

async fn home(State(panel): State<Panel>, uri: Uri) -> Response {
    let preload = preload(&uri);
    let items: String = services(&panel.state)
        .await
        .iter()
        .map(|s| {
            format!(
                "<li><a href=\"/servizi/{}{}\">{} — {}</a></li>",
                esc(s.panel_id.as_deref().unwrap_or(&s.id)),
                esc(&keep(preload)),
                esc(&s.product),
                esc(&s.identifier)
            )
        })
        .collect();
    let body = format!(
        "<section class=\"card\"><h1>I tuoi servizi</h1><ul>{items}</ul>\
         <p>L'assistenza è nel pulsante in basso a destra: ti riconosce senza password.</p></section>"
    );
    page(&panel, preload, "I tuoi servizi", &body)
}

async fn service_page(State(panel): State<Panel>, Path(id): Path<String>, uri: Uri) -> Response {
    let preload = preload(&uri);
    let all = services(&panel.state).await;
    // The panel knows its services by its own ids.
    let Some(s) = all
        .iter()
        .find(|s| s.panel_id.as_deref() == Some(id.as_str()))
    else {
        return (StatusCode::NOT_FOUND, "Servizio non trovato").into_response();
    };
    let body = format!(
        "<section class=\"card\"><h1>{} — {}</h1><p>Stato: {}</p>\
         <p><a href=\"#\" id=\"ask\" data-service=\"{}\">Chiedi assistenza su questo servizio</a></p>\
         <p><a href=\"/{}\">Tutti i servizi</a></p></section>",
        esc(&s.product),
        esc(&s.identifier),
        esc(s.status.as_str()),
        esc(&id),
        esc(&keep(preload)),
    );
    page(&panel, preload, &s.identifier, &body)
}

/// What the panel's own server does for the widget: a short-lived token naming the customer
/// logged in to the panel (here always the demo customer).
async fn token(State(panel): State<Panel>) -> Response {
    let Ok(Some(account)) = panel.state.store.account_by_email(DEMO_CUSTOMER).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "").into_response();
    };
    let now = crate::util::now_us() / 1_000_000;
    match crate::sso::sign_for_demo(
        &panel.state.config.sso,
        DEMO_CUSTOMER,
        &account.customer.name,
        now,
    ) {
        Ok(jwt) => ([(header::CACHE_CONTROL, "no-store")], jwt).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "demo panel cannot sign a token");
            (StatusCode::SERVICE_UNAVAILABLE, "").into_response()
        }
    }
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PANEL_JS,
    )
        .into_response()
}

/// The panel page's use of the widget: sign-on, prefill from a service page, the event log.
const PANEL_JS: &str = r#"Helpdesk('sso', function (done) {
  fetch('/helpdesk-token').then(function (r) { return r.ok ? r.text() : ''; }).then(done, function () { done(''); });
});
function log(name, detail) {
  var li = document.createElement('li');
  li.textContent = new Date().toLocaleTimeString('it-IT') + ' ' + name + (detail ? ' ' + JSON.stringify(detail) : '');
  var list = document.getElementById('events');
  if (list) list.appendChild(li);
}
['ready', 'open', 'close', 'ticket:created', 'unread'].forEach(function (name) {
  Helpdesk('on', name, function (e) { log(name, name === 'ticket:created' || name === 'unread' ? e : null); });
});
document.addEventListener('click', function (e) {
  var ask = e.target.closest && e.target.closest('[data-service]');
  if (ask) {
    e.preventDefault();
    Helpdesk('prefill', { service: ask.getAttribute('data-service') });
    Helpdesk('new-ticket');
  }
  if (e.target.id === 'panel-logout') { Helpdesk('logout'); log('logout'); }
});
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_loaders_own_preload_values_reach_the_page() {
        let of = |q: &str| preload(&q.parse::<Uri>().unwrap());
        assert_eq!(of("/?preload=now"), Some("now"));
        assert_eq!(of("/servizi/1?x=1&preload=off"), Some("off"));
        assert_eq!(of("/?preload=idle"), Some("idle"));
        assert_eq!(of("/"), None);
        assert_eq!(of("/?preload=%22%3E%3Cscript%3E"), None);
        assert_eq!(of("/?preload=NOW"), None);
        assert_eq!(keep(Some("off")), "?preload=off");
        assert_eq!(keep(None), "");
    }
}
