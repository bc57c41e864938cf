//! Our e-mails to the customer's address come back (issue 21): a notice on every page while the
//! server's mark lasts, with the reason, since when, what to do, and a button that clears the
//! mark and has the server send one test e-mail.
//!
//! The mark comes from `GET /me`, read when a session begins (a login, a reload) and again when
//! the app regains the focus (the customer comes back from their mailbox or the panel): not once
//! per page.

use crate::api::{use_api, Api, ApiError};
use crate::format::datetime;
use crate::i18n::*;
use crate::session::Session;
use helpdesk_core::api::{MailDelivery, MailDeliveryReason};
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// The mark as last read, shared by every page.
#[derive(Clone, Copy)]
struct Mark(RwSignal<Option<MailDelivery>>);

/// Focus events closer than this to the last read are one (a click from the panel into the
/// widget's frame, then on a field of the page).
const REFRESH_MS: f64 = 2_000.0;

split!(
    signed_in,
    /// Reads the mark from the server, with the code of a signed-in customer's piece (src/live.rs):
    /// a visitor who has not signed in never fetches it.
    fn read_mark(
        api: Api,
        mark: Mark,
    ) -> Result<std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>, crate::pieces::Missing>
    {
        Ok(Box::pin(async move {
            if let Ok(me) = api.me().await {
                mark.0.set(me.mail_delivery);
            }
        }))
    }
);

/// Reads the mark for the session that begins, and again on focus; the notice finds it in the
/// context.
pub fn watch(session: Session, api: Api) {
    let mark = Mark(RwSignal::new(None));
    provide_context(mark);
    let last = StoredValue::new(f64::NEG_INFINITY);
    let read = move || {
        if session.0.with_untracked(Option::is_none) {
            return;
        }
        last.set_value(js_sys::Date::now());
        leptos::task::spawn_local(async move {
            // Any failure (of the piece too) leaves the notice as it was: it is not the page's
            // content.
            if let Ok(reading) = read_mark(api, mark).await {
                reading.await;
            }
        });
    };
    // A new customer (or none): what was read for the one before goes.
    let customer = Memo::new(move |_| session.0.with(|d| d.as_ref().map(|d| d.token.clone())));
    crate::effect(move || {
        if customer.get().is_some() {
            read();
        } else {
            mark.0.set(None);
        }
    });
    let on_focus = Closure::<dyn Fn()>::new(move || {
        if js_sys::Date::now() - last.get_value() > REFRESH_MS {
            read();
        }
    });
    let _ = window().add_event_listener_with_callback("focus", on_focus.as_ref().unchecked_ref());
    on_focus.forget();
}

fn reason_text(l: Locale, r: MailDeliveryReason) -> &'static str {
    match r {
        MailDeliveryReason::MailboxFull => td_string!(l, mail_delivery.mailbox_full),
        MailDeliveryReason::UnknownUser => td_string!(l, mail_delivery.unknown_user),
        MailDeliveryReason::Rejected => td_string!(l, mail_delivery.rejected),
        MailDeliveryReason::Other => td_string!(l, mail_delivery.other),
    }
}

/// Where the customer changes their address: the control panel, whose home is the origin of its
/// password-reset page. Inside the panel's widget the customer is already there: no link.
fn panel_home() -> Option<String> {
    if crate::embed::embedded() {
        return None;
    }
    let reset = &crate::config::config().password_reset_url;
    web_sys::Url::new(reset)
        .ok()
        .map(|u| u.origin())
        .filter(|o| o.starts_with("http"))
}

/// The notice, at the top of every page's content; nothing while our e-mails arrive.
#[component]
pub fn MailDeliveryNotice() -> impl IntoView {
    let i18n = use_i18n();
    let Some(mark) = use_context::<Mark>() else {
        return ().into_any();
    };
    let email = crate::session::use_session()
        .customer()
        .map(|c| c.email)
        .unwrap_or_default();
    let api = use_api();
    let busy = RwSignal::new(false);
    let sent = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let retry = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api.retry_mail_delivery().await {
                Ok(()) => {
                    mark.0.set(None);
                    sent.set(true);
                    // The button just pressed goes with the notice: the keyboard continues
                    // from the page's content rather than from the top.
                    if let Some(main) = document()
                        .get_element_by_id("main")
                        .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        crate::focus_in_place(&main);
                    }
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let notice = move |m: MailDelivery| {
        let panel = match panel_home() {
            Some(href) => view! {
                <a href=href target="_top" rel="noopener">{tr!(i18n, mail_delivery.panel)}</a>
            }
            .into_any(),
            None => view! { <span>{tr!(i18n, mail_delivery.panel)}</span> }.into_any(),
        };
        let since = m.since.clone();
        view! {
            <section class="alert warn mail-delivery" aria-labelledby="mail-delivery-title">
                <h2 id="mail-delivery-title">{tr!(i18n, mail_delivery.title)}</h2>
                <p>
                    {move || reason_text(i18n.get_locale(), m.reason)}
                    " "{tr!(i18n, mail_delivery.address)}" "<strong>{email.clone()}</strong>", "
                    {tr!(i18n, mail_delivery.since)}" "
                    <time datetime=m.since>{move || datetime(i18n.get_locale(), &since)}</time>"."
                </p>
                <p>{tr!(i18n, mail_delivery.fix_before)}" "{panel}{tr!(i18n, mail_delivery.fix_after)}</p>
                {move || error.get().map(|e| view! { <p role="alert">{e.message(i18n.get_locale_untracked())}</p> })}
                <button type="button" on:click=retry aria-disabled=move || busy.get().then_some("true")>
                    {tr!(i18n, mail_delivery.retry)}
                </button>
            </section>
        }
    };
    view! {
        {move || mark.0.get().map(&notice)}
        // Always in the page (empty, it takes no room), so that screen readers announce the
        // confirmation when it appears.
        <div role="status">
            {move || sent.get().then(|| view! { <p class="alert ok">{tr!(i18n, mail_delivery.sent)}</p> })}
        </div>
    }
    .into_any()
}
