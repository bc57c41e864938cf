//! Login with the control panel's e-mail and password.

use crate::api::use_api;
use crate::components::language_switch::LanguageSwitch;
use crate::config::config;
use crate::embed::{use_embed, SignOn};
use crate::i18n::*;
use crate::nav::use_nav;
use crate::session::{take_return, use_session};
use leptos::prelude::*;

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    // Inside the panel's widget with sign-on, the panel signs the customer in: no password form.
    let embed = use_embed();
    let sign_on = move || embed.map(|e| e.sign_on.get()).unwrap_or(SignOn::Off);
    let session = use_session();
    let (api, nav) = (use_api(), use_nav());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // Logins are refused for now: the alert offers the panel's password reset as the way out.
    let locked = RwSignal::new(false);
    // Why the customer is here, when the server ended their session (the page they were on comes
    // back after the login).
    let expired = session.expired().map(|draft_kept| {
        move || {
            if draft_kept {
                t_string!(i18n, err_session_expired_draft)
            } else {
                t_string!(i18n, err_session_expired)
            }
        }
    });
    let email_ref = NodeRef::<leptos::html::Input>::new();
    let password_ref = NodeRef::<leptos::html::Input>::new();

    // Already logged in (a reload of /login): straight to the tickets.
    if session.0.get_untracked().is_some() {
        request_animation_frame(move || nav.redirect("/"));
    }
    crate::effect(move || {
        // Not while the form is hidden (the panel is signing the customer in).
        if sign_on() != SignOn::Off {
            return;
        }
        if let Some(el) = email_ref.get() {
            crate::focus_in_place(&el);
            // The load benchmark reads this mark: the form is on screen and takes input.
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark("helpdesk-login-ready");
            }
        }
    });

    // A plain task and a signal (no `Action`: its machinery costs download for one request).
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (e, p) = (email.get_untracked(), password.get_untracked());
        if e.trim().is_empty() || p.is_empty() {
            error.set(Some(t_string!(i18n, missing_fields).into()));
            locked.set(false);
            // Focus goes to what is missing (the alert says why).
            let first_empty = if e.trim().is_empty() {
                email_ref
            } else {
                password_ref
            };
            if let Some(input) = first_empty.get_untracked() {
                let _ = input.focus();
            }
            return;
        }
        error.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api.login(&e, &p).await;
            busy.set(false);
            match result {
                Ok(r) => {
                    session.start(api, r);
                    let to = take_return().unwrap_or_else(|| "/".into());
                    nav.redirect(&to);
                }
                Err(e) => {
                    error.set(Some(e.message(i18n.get_locale_untracked())));
                    locked.set(e.locked_out());
                    // The password is what to type again; focus never falls back to the page.
                    if let Some(input) = password_ref.get_untracked() {
                        let _ = input.focus();
                        input.select();
                    }
                }
            }
        });
    };

    let retry = move |_| {
        if let Some(e) = embed {
            e.ask();
        }
    };
    // One block whose text follows the state (cheaper to download than a view per state).
    let panel_text = move || match sign_on() {
        SignOn::Off => "",
        SignOn::Waiting | SignOn::Asking | SignOn::Signing => t_string!(i18n, sso_busy),
        SignOn::Failed => t_string!(i18n, sso_failed),
        SignOn::Ended => t_string!(i18n, sso_ended),
    };
    let failed = move || sign_on() == SignOn::Failed;
    view! {
        <main id="main" class="login" tabindex="-1">
            <div class="login-bar"><LanguageSwitch/></div>
            <div class="card" hidden=move || sign_on() == SignOn::Off>
                <p role=move || if failed() { "alert" } else { "status" }
                    class=move || if failed() { "alert error" } else { "muted" }>{panel_text}</p>
                <button type="button" class="primary" hidden=move || !failed() on:click=retry>{tr!(i18n, sso_retry)}</button>
            </div>
            <form class="card" hidden=move || sign_on() != SignOn::Off on:submit=on_submit novalidate aria-describedby="login-intro">
                <h1>{tr!(i18n, login_title)}</h1>
                <p id="login-intro" class="muted">{tr!(i18n, login_intro)}</p>
                {expired.map(|why| view! { <p class="alert warn" role="alert">{why}</p> })}
                <Show when=move || error.get().is_some()>
                    <div class="alert error" role="alert">
                        <p>{move || error.get()}</p>
                        <Show when=move || locked.get()>
                            <p>{tr!(i18n, forgot_password)}" "
                                <a href=config().password_reset_url.clone() target="_top" rel="noopener">{tr!(i18n, login_reset_link)}</a>
                            </p>
                        </Show>
                    </div>
                </Show>
                <label for="login-email">{tr!(i18n, email)}</label>
                <input id="login-email" type="email" name="email" autocomplete="username" required
                    node_ref=email_ref bind:value=email />
                <label for="login-password">{tr!(i18n, password)}</label>
                <input id="login-password" type="password" name="password" autocomplete="current-password" required
                    node_ref=password_ref bind:value=password />
                <button type="submit" class="primary" aria-disabled=move || busy.get().to_string() aria-busy=move || busy.get().to_string()>
                    {move || if busy.get() { t_string!(i18n, login_busy) } else { t_string!(i18n, login_submit) }}
                </button>
                <p><a href=config().password_reset_url.clone() target="_top" rel="noopener">{tr!(i18n, forgot_password)}</a></p>
                <Show when=|| config().demo>
                    <p class="demo-hint">{tr!(i18n, demo_hint)}</p>
                </Show>
            </form>
        </main>
    }
}
