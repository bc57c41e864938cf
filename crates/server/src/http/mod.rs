//! The HTTP surface: the API under `/api/v1`, the built app, health, and security headers.

pub mod app_files;
pub mod events;
pub mod extract;
pub mod openapi;
pub mod serve;
pub mod services;
pub mod session;
pub mod staff;
pub mod tickets;
pub mod uploads;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use openapi::Contract;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Helpdesk API",
        description = "The customer side of the hosting provider's helpdesk."
    ),
    paths(
        session::login,
        session::sso_login,
        session::logout,
        session::me,
        session::update_me,
        session::retry_mail_delivery,
        services::services,
        services::assess_subject,
        services::mail_rejections,
        tickets::list,
        tickets::create,
        tickets::show,
        tickets::reply,
        tickets::close,
        tickets::reopen,
        tickets::open_on_service,
        staff::reply,
        staff::mail,
        events::events,
        uploads::upload,
        uploads::download,
    ),
    modifiers(&Contract)
)]
pub struct ApiDoc;

/// Largest JSON body the API reads (a description may be 50,000 characters).
const JSON_BODY_LIMIT: usize = 512 * 1024;

pub fn api_router() -> Router<AppState> {
    let json = Router::new()
        .merge(session::router())
        .merge(services::router())
        .merge(tickets::router())
        .merge(staff::router())
        .merge(events::router())
        .route("/openapi.json", get(openapi))
        .layer(middleware::from_fn(refuse_declared_oversize));
    Router::new()
        .merge(json)
        // Its own limit and its own check before the body (see `uploads::upload`).
        .merge(uploads::router())
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(api_headers))
}

/// A body whose declared length is over the limit is refused before any of it is read, and before
/// `100 Continue`: hyper sends that only once a handler reads the body, and this one never does
/// (the connection then closes instead of reading the rest).
async fn refuse_declared_oversize(req: Request<axum::body::Body>, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > JSON_BODY_LIMIT as u64) {
        return ApiError::TooLarge(crate::texts::Msg::RequestTooLarge).into_response();
    }
    next.run(req).await
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => ApiError::Internal(anyhow::anyhow!("database: {e}")).into_response(),
    }
}

/// API answers are never cached and never rendered as a page.
async fn api_headers(req: Request<axum::body::Body>, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    resp
}

async fn common_headers(req: Request<axum::body::Body>, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin-allow-popups"),
    );
    resp
}

/// The whole application, mounted under the configured base path.
pub fn router(state: AppState, app: app_files::AppFiles) -> Router {
    let inner = Router::new()
        .nest("/api/v1", api_router())
        .route("/healthz", get(healthz))
        .merge(app.router())
        .layer(middleware::from_fn(common_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state.clone());
    let base = state.config.base_path.clone();
    let app = if base.is_empty() {
        inner
    } else {
        Router::new()
            .nest_service(&base, inner)
            .fallback(|| async { ApiError::NotFound })
    };
    // Outermost, so that every error the API answers (extractors' and fallbacks' too) is written
    // in the request's language.
    app.layer(middleware::from_fn(crate::error::localize_errors))
}
