//! Component tests of the app in a real Chromium (wasm-bindgen-test): mount into a fresh element,
//! act, let Leptos run, and check what a user would see.
#![cfg(target_arch = "wasm32")]

use helpdesk_app::components::status::StatusBadge;
use helpdesk_app::i18n::Locale;
use helpdesk_app::language::Fixed;
use helpdesk_app::pages::login::LoginPage;
use helpdesk_core::api::Status;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_root() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let el: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&el).unwrap();
    el
}

#[wasm_bindgen_test]
async fn a_status_is_shown_in_words_not_only_colour() {
    let root = fresh_root();
    let _handle = leptos::mount::mount_to(
        root.clone(),
        || view! { <Fixed locale=Locale::it><StatusBadge status=Status::AwaitingCustomer/></Fixed> },
    );
    leptos::task::tick().await;
    let badge = root.query_selector(".badge").unwrap().unwrap();
    assert_eq!(
        badge.text_content().unwrap(),
        "in attesa di una tua risposta"
    );
    assert!(badge.class_name().contains("status-awaiting_customer"));
}

#[wasm_bindgen_test]
async fn every_login_field_has_a_label_and_an_empty_submit_is_explained() {
    let root = fresh_root();
    let _handle = leptos::mount::mount_to(
        root.clone(),
        || view! { <Fixed locale=Locale::it><LoginPage/></Fixed> },
    );
    leptos::task::tick().await;
    for id in ["login-email", "login-password"] {
        let label = root.query_selector(&format!("label[for={id}]")).unwrap();
        assert!(
            label.is_some_and(|l| !l.text_content().unwrap_or_default().is_empty()),
            "{id} has no label"
        );
    }
    let form: web_sys::HtmlFormElement = root
        .query_selector("form")
        .unwrap()
        .unwrap()
        .unchecked_into();
    form.request_submit().unwrap();
    leptos::task::tick().await;
    let alert = root
        .query_selector("[role=alert]")
        .unwrap()
        .expect("an alert appears");
    assert_eq!(alert.text_content().unwrap(), "Compila e-mail e password.");
    // Nothing was sent: the button is not busy.
    let button = root.query_selector("button[type=submit]").unwrap().unwrap();
    assert_eq!(button.get_attribute("aria-busy").as_deref(), Some("false"));
}

#[wasm_bindgen_test]
async fn a_status_is_said_in_the_language_on_screen() {
    let root = fresh_root();
    let _handle = leptos::mount::mount_to(
        root.clone(),
        || view! { <Fixed locale=Locale::en><StatusBadge status=Status::AwaitingCustomer/></Fixed> },
    );
    leptos::task::tick().await;
    let badge = root.query_selector(".badge").unwrap().unwrap();
    assert_eq!(badge.text_content().unwrap(), "waiting for your reply");
}
