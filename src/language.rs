//! Which language the app speaks, and the IT / EN switch.
//!
//! The texts are leptos_i18n's (locales/it.json, locales/en.json; `crate::i18n`). The language,
//! first found wins: a choice made with the switch during this visit; the customer's saved
//! choice (`PATCH /api/v1/me`); what the panel passes (the widget's `locale` command, or the
//! `locale` claim of its sign-on token), the default inside the panel; the browser's languages
//! (leptos_i18n's own start); Italian.
//!
//! On the app's own page a signed-in customer's choice is saved at once (their e-mails follow
//! it). Inside the panel's widget a choice is this visit's: the panel's language stays the
//! default there and e-mails keep theirs, unless the customer ticks "always use English" (the
//! switch is `components::language_switch`).

use crate::i18n::*;
use crate::session::Session;
use leptos::prelude::*;

/// This visit's choice, so that a reload (of the login page too) keeps it.
const CHOICE_KEY: &str = "helpdesk.language";

/// The two-letter code of a language (`it`, `en`), as core names it.
pub fn code(l: Locale) -> &'static str {
    core_lang(l).code()
}

/// A text that follows the language (see `tr!`): one closure type for all of them.
pub fn text(
    i18n: leptos_i18n::I18nContext<Locale>,
    key: fn(Locale) -> &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || key(i18n.get_locale())
}

/// The same language as `helpdesk_core` names it (its table of subject hints).
pub fn core_lang(l: Locale) -> helpdesk_core::lang::Lang {
    match l {
        Locale::it => helpdesk_core::lang::Lang::It,
        Locale::en => helpdesk_core::lang::Lang::En,
    }
}

/// The language of a tag (`en`, `en-GB`), by core's rule.
pub fn parse(tag: &str) -> Option<Locale> {
    helpdesk_core::lang::Lang::of_tag(tag).map(|l| match l {
        helpdesk_core::lang::Lang::It => Locale::it,
        helpdesk_core::lang::Lang::En => Locale::en,
    })
}

/// What decides the language besides the browser.
#[derive(Clone, Copy)]
pub struct Choice {
    /// Chosen with the switch during this visit.
    mine: RwSignal<Option<Locale>>,
    /// Passed by the panel (widget command or sign-on claim).
    panel: RwSignal<Option<Locale>>,
}

impl Choice {
    /// The customer's choice with the switch, kept for this visit (a reload keeps it).
    pub fn choose(self, l: Locale) {
        self.mine.set(Some(l));
        if let Some(s) = visit_storage() {
            let _ = s.set_item(CHOICE_KEY, code(l));
        }
    }

    /// Whether the customer chose with the switch during this visit.
    pub fn chosen(self) -> bool {
        self.mine.with(|m| m.is_some())
    }

    /// The panel's language (an unknown one is ignored).
    pub fn set_panel(self, code: &str) {
        if let Some(l) = parse(code) {
            self.panel.set(Some(l));
        }
    }
}

pub fn use_choice() -> Option<Choice> {
    use_context::<Choice>()
}

fn visit_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The i18n context, provided, with `<html lang>` following it. leptos_i18n's own provider
/// component does the same through leptos_meta's `<Html>` (and leaves an empty `<script>` in the
/// body): 2,955 bytes more of the app (gzip) for one attribute, which this sets itself.
fn provide_languages() -> leptos_i18n::I18nContext<Locale> {
    // No cookie: a language is saved for the customer on the server, not per browser.
    let i18n = leptos_i18n::context::init_i18n_context_with_options::<Locale>(
        leptos_i18n::context::I18nContextOptions::default().enable_cookie(false),
    );
    provide_context(i18n);
    crate::effect(move || {
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", code(i18n.get_locale()));
        }
    });
    i18n
}

/// Provides the i18n context and the `Choice`, and keeps the language as the rules above say.
pub fn provide(session: Session) -> (leptos_i18n::I18nContext<Locale>, Choice) {
    let i18n = provide_languages();
    (i18n, negotiate(i18n, session))
}

/// The texts in one given language, for a piece of the app mounted on its own (the component
/// tests), where nothing negotiates.
#[component]
pub fn Fixed(locale: Locale, children: Children) -> impl IntoView {
    let i18n = provide_languages();
    i18n.set_locale(locale);
    // After the context's own first effect, which applies the browser's language.
    crate::effect(move || i18n.set_locale(locale));
    children()
}

fn negotiate(i18n: leptos_i18n::I18nContext<Locale>, session: Session) -> Choice {
    let mine = visit_storage()
        .and_then(|s| s.get_item(CHOICE_KEY).ok().flatten())
        .and_then(|c| parse(&c));
    let choice = Choice {
        mine: RwSignal::new(mine),
        panel: RwSignal::new(None),
    };
    provide_context(choice);
    // The browser's language, as leptos_i18n found it at start: what applies when nothing else does.
    let browser = i18n.get_locale_untracked();
    crate::effect(move || {
        let saved = session.0.with(|d| {
            d.as_ref()
                .and_then(|d| d.customer.language.as_deref().and_then(parse))
        });
        let wanted = choice
            .mine
            .get()
            .or(saved)
            .or(choice.panel.get())
            .unwrap_or(browser);
        if i18n.get_locale_untracked() != wanted {
            i18n.set_locale(wanted);
        }
    });
    // The tab's title follows the language too: `nav::PageTitle`, which names the page.
    choice
}
