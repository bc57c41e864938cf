//! The frame of every logged-in page: skip link, top bar with the customer's name and logout.

use crate::session::use_session;
use crate::texts::tx;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let t = tx();
    let session = use_session();
    let navigate = use_navigate();
    let name = move || session.customer().map(|c| c.name).unwrap_or_default();
    let logout = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            // The token stops working on the server; locally everything is forgotten either way.
            let _ = crate::api::logout().await;
            session.end(true);
            navigate("/login", Default::default());
        });
    };
    view! {
        <a class="skip" href="#main">{t.skip_to_content}</a>
        <header class="topbar">
            <A href="/" attr:class="brand">{t.app_title}</A>
            <nav aria-label=t.main_nav>
                <A href="/">{t.my_tickets}</A>
                <A href="/nuovo">{t.new_ticket}</A>
                <A href="/email-rifiutate">{t.rejected_mail}</A>
            </nav>
            <div class="who">
                <span class="name">{name}</span>
                <button type="button" class="link" on:click=logout>{t.logout}</button>
            </div>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
    }
}
