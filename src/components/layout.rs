//! The frame of every logged-in page: skip link, top bar with the customer's name and logout.

use crate::api::use_api;
use crate::components::language_switch::LanguageSwitch;
use crate::components::mail_delivery::MailDeliveryNotice;
use crate::i18n::*;
use crate::nav::{use_nav, Link, NavLink};
use crate::session::use_session;
use leptos::prelude::*;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let name = move || session.customer().map(|c| c.name).unwrap_or_default();
    let (api, nav) = (use_api(), use_nav());
    let logout = move |_| {
        leptos::task::spawn_local(async move {
            // The token stops working on the server; locally everything is forgotten either way.
            let _ = api.logout().await;
            session.end(true);
            nav.navigate("/login");
        });
    };
    // A new page starts with the focus at its content when the old page took the focus away
    // with it (the link or button just used, the login form): left on <body>, the next Tab
    // would start over from the top and a screen reader would say nothing.
    let main = NodeRef::<leptos::html::Main>::new();
    crate::effect(move || {
        if let Some(main) = main.get() {
            crate::focus_if_lost(main);
        }
    });
    // Inside the panel's widget: a compact header (the widget's own bar carries the title), and
    // no logout when the panel signed the customer in (leaving the panel ends the session).
    let embedded = crate::embed::embedded();
    let signed_by_panel = crate::embed::use_embed().is_some_and(|e| e.host_signs_on());
    view! {
        // `target="_self"` leaves the skip link to the browser, which moves the focus to the
        // content; the router would only scroll there, leaving the keyboard at the top.
        <a class="skip" href="#main" target="_self">{tr!(i18n, skip_to_content)}</a>
        <header class="topbar" class:compact=embedded>
            {(!embedded).then(|| view! { <Link to="/" class="brand">{tr!(i18n, app_title)}</Link> })}
            <nav aria-label=tr!(i18n, main_nav)>
                <NavLink to="/">{tr!(i18n, my_tickets)}</NavLink>
                <NavLink to="/nuovo">{tr!(i18n, new_ticket)}</NavLink>
                <NavLink to="/email-rifiutate">{tr!(i18n, rejected_mail)}</NavLink>
            </nav>
            <LanguageSwitch/>
            <div class="who" hidden=signed_by_panel>
                <span class="name">{name}</span>
                <button type="button" class="link" on:click=logout>{tr!(i18n, logout)}</button>
            </div>
        </header>
        <main id="main" tabindex="-1" node_ref=main><MailDeliveryNotice/>{children()}</main>
    }
}
