//! `GET /api/v1/events`: the signed-in customer's live events as server-sent events (see
//! `crate::events` for where they come from).
//!
//! Our accept loop (http/serve.rs) lets such a stream live: a response whose next part the
//! handler has not produced yet owes nothing to the minimum rate, and the keep-alive comments
//! are taken by the socket at once; only a client that stops reading falls below the rate and is
//! closed, as for any response.

use crate::auth::AuthAccount;
use crate::error::{ApiError, ApiResult};
use crate::events::Live;
use crate::state::AppState;
use crate::storage::prelude::*;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, StreamExt};
use helpdesk_core::api::Role;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// A comment at least this often, so that proxies and browsers keep an idle stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(20);
/// Missed events sent at most on one reconnection; with more, the stream ends after them and the
/// client's next reconnection (with the last of them as `Last-Event-ID`) goes on.
const REPLAY_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

#[utoipa::path(get, path = "/api/v1/events", operation_id = "events",
    params(("Last-Event-ID" = Option<i64>, Header,
        description = "the id of the last event received: every later one is sent first")),
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "server-sent events, each with `id` (grows, the message's order), `event` (`message` or `status`) and JSON `data`: `ticket` (its code), `message_id`, `kind` (`message` or `event`), `author_kind`, `status` (the status an event set, else the ticket's) and `ticket_status`; counts per status are not sent (the list answers them). A `: keep-alive` comment every 20 s."),
        (status = 401, body = helpdesk_core::api::ErrorResponse, description = "not signed in"),
        (status = 403, body = helpdesk_core::api::ErrorResponse, description = "staff have no event stream"),
        (status = 429, body = helpdesk_core::api::ErrorResponse, description = "`too_many_streams`: the customer, or the server, holds as many streams as allowed")))]
pub async fn events(
    State(state): State<AppState>,
    auth: AuthAccount,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // Staff see every ticket and answer from the staff endpoint: no stream of their own.
    if auth.account.role == Role::Staff {
        return Err(ApiError::Forbidden);
    }
    // A malformed id counts as none: the stream starts from now, as on a first connection.
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n >= 0);
    let account_id = auth.account.id;
    let sub = state
        .events
        .subscribe(&account_id)
        .map_err(|_| ApiError::TooManyStreams { retry_after: 10 })?;

    // Subscribed first, then read: what the poller hands out from now on comes from the hub, what
    // it handed out before (up to `since`) from the database, so nothing falls in between.
    let mut replay = Vec::new();
    let mut more = false;
    if let Some(last) = last.filter(|l| *l < sub.since) {
        let rows = state
            .store
            .message_events(last, sub.since, Some(&account_id), REPLAY_LIMIT)
            .await?;
        more = rows.len() == REPLAY_LIMIT as usize;
        replay = rows.iter().map(|r| Arc::new(Live::from_row(r))).collect();
    }
    // A client that has seen more than this process's poller (it was on another instance) gets
    // only what is newer.
    let seen = last.unwrap_or(0);
    let closed = state.events.closed.clone();
    let live = stream::unfold(sub, |mut sub| async move {
        let next = sub.rx.recv().await?;
        Some((next, sub))
    })
    .filter(move |e| std::future::ready(e.seq > seen));
    let events = if more {
        stream::iter(replay).boxed()
    } else {
        stream::iter(replay).chain(live).boxed()
    };
    let events = events
        .map(|e| {
            Ok::<_, Infallible>(
                Event::default()
                    .id(e.seq.to_string())
                    .event(e.name)
                    .data(&e.data),
            )
        })
        .take_until(closed.cancelled_owned());
    let mut resp = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // nginx would otherwise hold the events in its buffer.
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}
