//! The IT / EN switch (see `crate::language` for how the language is decided).

use crate::i18n::*;
use crate::language::{code, use_choice, Choice};
use crate::session::use_session;
use leptos::prelude::*;

/// IT / EN, on every page. A signed-in customer's choice is saved for their e-mails too; inside
/// the panel's widget only when they say so.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let failed = RwSignal::new(false);
    // Taken here: a click runs outside the component.
    let choice = use_choice();
    let embedded = crate::embed::embedded();
    let api = crate::api::use_api();
    let save = move |l: Option<Locale>, input: Option<web_sys::HtmlInputElement>| {
        leptos::task::spawn_local(async move {
            match api.set_language(l.map(code)).await {
                Ok(c) => {
                    failed.set(false);
                    session.set_customer(c);
                }
                Err(_) => {
                    failed.set(true);
                    // The box shows what is saved, and nothing was.
                    if let Some(input) = input {
                        input.set_checked(l.is_none());
                    }
                }
            }
        });
    };
    let choose = move |l: Locale| {
        if let Some(c) = choice {
            c.choose(l);
        }
        i18n.set_locale(l);
        let saved = session
            .0
            .with_untracked(|d| d.as_ref().map(|d| d.customer.language.clone()));
        // Signed in, and a different choice from the saved one: saved for e-mails as well (in
        // the widget the box below offers it).
        if let Some(saved) = saved {
            if saved.as_deref() != Some(code(l)) && !embedded {
                save(Some(l), None);
            }
        }
    };
    // The visible text starts the button's name (WCAG 2.5.3: "click EN" finds it); the
    // language's own name follows for screen readers.
    let button = move |l: Locale, label: &'static str, name: &'static str| {
        view! {
            <button type="button" class="lang" lang=code(l)
                aria-pressed=move || if i18n.get_locale() == l { "true" } else { "false" }
                on:click=move |_| choose(l)>{label}<span class="sr-only">{" – "}{name}</span></button>
        }
    };
    // Inside the widget, once the customer has chosen here: whether the language on screen is
    // the account's (the e-mails' too).
    let signed_in = move || session.0.with(|d| d.is_some());
    let offered = move || embedded && signed_in() && choice.is_some_and(Choice::chosen);
    let kept = move || {
        session.0.with(|d| {
            d.as_ref()
                .is_some_and(|d| d.customer.language.as_deref() == Some(code(i18n.get_locale())))
        })
    };
    let keep = move |ev: web_sys::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let on = input.checked();
        save(on.then(|| i18n.get_locale_untracked()), Some(input));
    };
    view! {
        <div class="languages" role="group" aria-label=tr!(i18n, language_switch)>
            {button(Locale::it, "IT", "Italiano")}
            {button(Locale::en, "EN", "English")}
        </div>
        {move || offered().then(|| view! {
            <label class="keep-language">
                <input type="checkbox" prop:checked=kept on:change=keep/>
                {tr!(i18n, language_always)}
            </label>
        })}
        {move || failed.get().then(|| view! {
            <p class="alert error" role="alert">{tr!(i18n, language_saved_failed)}</p>
        })}
    }
}
