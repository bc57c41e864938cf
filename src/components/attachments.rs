//! Attachments of a new ticket or a reply (placeholder: a plain file picker; the full component
//! with progress, drag and drop and paste replaces it).

use helpdesk_core::api::Upload;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A finished upload, with when it was made (unattached uploads expire after a day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attached {
    pub upload: Upload,
    pub at_ms: f64,
}

pub const UPLOAD_TTL_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// Drops uploads that have expired on the server; says whether any were dropped.
pub fn drop_expired(files: &mut Vec<Attached>, now_ms: f64) -> bool {
    let before = files.len();
    files.retain(|f| now_ms - f.at_ms < UPLOAD_TTL_MS);
    files.len() != before
}

/// The file list and picker. `files` holds finished uploads (their ids go with the ticket or
/// reply); `pending` counts uploads still in flight, so submitting can wait for them.
#[component]
pub fn Attachments(
    #[prop(into)] id: String,
    files: RwSignal<Vec<Attached>>,
    pending: RwSignal<usize>,
) -> impl IntoView {
    let _ = pending;
    view! {
        <div class="attachments" id=id>
            <ul class="uploads">
                <For each=move || files.get() key=|f| f.upload.id.clone() let:f>
                    <li>
                        <span></span>
                        <span>{f.upload.name.clone()}" ("{crate::format::size(f.upload.size)}")"</span>
                        <button type="button" on:click={
                            let id = f.upload.id.clone();
                            move |_| files.update(|v| v.retain(|x| x.upload.id != id))
                        }>"Rimuovi"</button>
                    </li>
                </For>
            </ul>
        </div>
    }
}
