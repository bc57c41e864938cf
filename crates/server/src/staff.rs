//! A staff reply, one path for the API, the `staff reply` command and the demo data.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::{NewMessage, Viewer};
use helpdesk_core::api::{AuthorKind, Channel, Customer, StaffReply, Ticket};
use helpdesk_core::limits::{self, char_len};
use helpdesk_core::text;

pub async fn reply(
    state: &AppState,
    staff: &Customer,
    code: &str,
    req: &StaffReply,
) -> ApiResult<Ticket> {
    // Empty once cleaned and trimmed, or longer as sent than the document's `maxLength`.
    let body = text::multi_line(&req.body);
    if char_len(&body) == 0 || req.body.chars().count() > limits::BODY_MAX_CHARS {
        return Err(ApiError::field(
            "body",
            "invalid_length",
            "Il testo della risposta è vuoto o troppo lungo.",
        ));
    }
    let composer = state.clone();
    let (name, body) = (staff.name.clone(), body.trim().to_string());
    let (t, _) = state
        .store
        .add_message(
            Viewer::Staff,
            code,
            NewMessage::text(staff, AuthorKind::Staff, Channel::Web, &body.clone()),
            req.status,
            None,
            move |ctx| {
                Some(crate::notify::staff_reply(
                    &composer.config,
                    ctx,
                    &name,
                    &body,
                ))
            },
        )
        .await?;
    state.outbox_wake.notify_one();
    Ok(t)
}
