//! Serves the built app: hashed assets (precompressed, cached for a year) and index.html for
//! every app route, with the base path, the app's settings and a CSP that names its one script.

use crate::config::Config;
use crate::state::AppState;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use helpdesk_core::api::AppConfig;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// The placeholder Trunk is given as public URL; replaced by the base path when served.
pub const BASE_PLACEHOLDER: &str = "/__HELPDESK_BASE__/";

#[derive(Clone)]
pub struct AppFiles {
    dir: std::path::PathBuf,
    index: Arc<IndexPage>,
}

struct IndexPage {
    html: String,
    csp: String,
    /// The page's validator: a visit that has it already gets a 304 and no page again.
    etag: HeaderValue,
}

impl AppFiles {
    /// Reads and prepares index.html once; without a built app, a page says how to build it.
    pub fn load(config: &Config) -> Self {
        let raw = std::fs::read_to_string(config.app_dir.join("index.html")).unwrap_or_else(|_| {
            tracing::warn!(dir = %config.app_dir.display(), "no built app found; run `cargo xtask run`");
            "<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>Helpdesk</title></head>\
             <body><p>L'app non è stata compilata: esegui <code>cargo xtask run</code>.</p></body></html>"
                .to_string()
        });
        AppFiles {
            dir: config.app_dir.clone(),
            index: Arc::new(prepare_index(&raw, config)),
        }
    }

    pub fn router(&self) -> Router<AppState> {
        let index = self.index.clone();
        let serve_index = move |headers: HeaderMap| {
            let index = index.clone();
            async move { index_response(&index, &headers) }
        };
        let files = ServeDir::new(&self.dir)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false)
            .fallback(get(serve_index.clone()).with_state(()));
        Router::new()
            .route("/", get(serve_index.clone()))
            .route("/index.html", get(serve_index))
            .fallback_service(files)
            .layer(middleware::from_fn(asset_cache))
            // The page itself (the app's files are precompressed, and keep their encoding).
            .layer(CompressionLayer::new())
    }
}

fn index_response(index: &IndexPage, headers: &HeaderMap) -> Response {
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == index.etag || tag.trim() == "*");
    let mut resp = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Html(index.html.clone()).into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, index.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&index.csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// Trunk names built assets `name-<16 hex>.ext`: those never change and are cached for a year.
async fn asset_cache(req: Request<axum::body::Body>, next: Next) -> Response {
    let hashed = is_hashed_asset(req.uri().path());
    let mut resp = next.run(req).await;
    if resp.status() == StatusCode::OK && !resp.headers().contains_key(header::CACHE_CONTROL) {
        let v = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(v));
    }
    resp
}

pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.split(['-', '.', '_'])
        .any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn html_attr_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn prepare_index(raw: &str, config: &Config) -> IndexPage {
    let base = format!("{}/", config.base_path);
    let mut html = raw.replace(BASE_PLACEHOLDER, &base);
    let app_config = AppConfig {
        base: config.base_path.clone(),
        demo: config.demo,
        password_reset_url: config.password_reset_url.clone(),
        max_upload_bytes: config.max_upload_bytes,
        frame_ancestors: config.frame_ancestors.clone(),
    };
    let json = serde_json::to_string(&app_config).unwrap_or_default();
    let head = format!(
        "<base href=\"{}\"><meta name=\"helpdesk-config\" content=\"{}\">",
        html_attr_escape(&base),
        html_attr_escape(&json)
    );
    if let Some(i) = html.find("<head>") {
        html.insert_str(i + "<head>".len(), &head);
    }
    // Inline scripts (Trunk's loader) and the inlined stylesheet are allowed by their hash, and
    // nothing else is.
    let scripts = inline_hashes(&html, "script");
    let styles = inline_hashes(&html, "style");
    let csp = format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{scripts}; style-src 'self'{styles}; \
         img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
         base-uri 'self'; form-action 'self'; frame-ancestors {}",
        config.frame_ancestors
    );
    let digest = Sha256::digest(html.as_bytes());
    let tag: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let etag =
        HeaderValue::from_str(&format!("\"{tag}\"")).unwrap_or(HeaderValue::from_static("\"0\""));
    IndexPage { html, csp, etag }
}

/// `'sha256-…'` sources for the bodies of the page's inline `<element>`s (those without `src`).
fn inline_hashes(html: &str, element: &str) -> String {
    let open = format!("<{element}");
    let close = format!("</{element}>");
    let mut hashes = String::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(len) = after[body_start..].find(&close) else {
            break;
        };
        if !tag.contains(" src=") {
            let body = &after[body_start..body_start + len];
            let digest =
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
            hashes.push_str(&format!(" 'sha256-{digest}'"));
        }
        rest = &after[body_start + len..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_asset_names_are_recognised() {
        assert!(is_hashed_asset("/helpdesk-app-0123456789abcdef_bg.wasm"));
        assert!(is_hashed_asset("/main-0123456789abcdef.css"));
        assert!(!is_hashed_asset("/favicon.svg"));
        assert!(!is_hashed_asset("/"));
    }

    #[test]
    fn the_index_gets_its_base_settings_and_a_csp_naming_its_script_and_style() {
        let mut config = Config::for_tests(std::env::temp_dir());
        config.base_path = "/PanelNML".into();
        let raw = "<html><head><style>p{color:red}</style><script type=\"module\">import init from '/__HELPDESK_BASE__/app.js';</script></head></html>";
        let page = prepare_index(raw, &config);
        assert!(page.html.contains("<base href=\"/PanelNML/\">"));
        assert!(page.html.contains("'/PanelNML/app.js'"));
        assert!(page.html.contains("&quot;base&quot;:&quot;/PanelNML&quot;"));
        let sources = |directive: &str| {
            page.csp
                .split(';')
                .find(|d| d.trim_start().starts_with(directive))
                .map(|d| d.matches("'sha256-").count())
        };
        assert_eq!(sources("script-src"), Some(1), "{}", page.csp);
        assert_eq!(sources("style-src"), Some(1), "{}", page.csp);
        assert!(!page.csp.contains("unsafe-inline"));
    }
}
