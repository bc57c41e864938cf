//! Any address the app does not know.

use crate::components::language_switch::LanguageSwitch;
use crate::i18n::*;
use crate::nav::Link;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <main id="main" class="narrow">
            <div class="login-bar"><LanguageSwitch/></div>
            <h1>{tr!(i18n, not_found_title)}</h1>
            <p><Link to="/">{tr!(i18n, not_found_back)}</Link></p>
        </main>
    }
}
