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
//! default there and e-mails keep theirs, unless the customer ticks "always use English".

use crate::i18n::*;
use crate::session::use_session;
use leptos::prelude::*;
use std::cell::Cell;

/// This visit's choice, so that a reload (of the login page too) keeps it.
const CHOICE_KEY: &str = "helpdesk.language";

thread_local! {
    /// The language of the moment, for code outside components (API error sentences, the
    /// thread's hand-built messages, dates): kept equal to the context's by `set`.
    static CURRENT: Cell<Locale> = const { Cell::new(Locale::it) };
}

/// The language of the moment (untracked).
pub fn current() -> Locale {
    CURRENT.with(Cell::get)
}

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

/// The plural rules of Italian and English, from icu_plurals' compiled data: the one piece of ICU
/// data the texts need, given to leptos_i18n as its data provider (its `icu_compiled_data`
/// feature would bring every ICU crate's data, and cannot be resolved beside icu 2.4).
struct PluralRulesData;

mod icu {
    pub use leptos_i18n::reexports::icu::{locid, plurals, provider};
}

impl leptos_i18n::custom_provider::IcuDataProvider for PluralRulesData {
    fn try_new_plural_rules(
        &self,
        locale: &icu::locid::Locale,
        rule_type: icu::plurals::PluralRuleType,
    ) -> Result<icu::plurals::PluralRules, icu::provider::DataError> {
        icu::plurals::PluralRules::try_new(
            locale.into(),
            icu::plurals::PluralRulesOptions::default().with_type(rule_type),
        )
    }
}

/// Gives leptos_i18n its plural rules; before any text with a count is shown.
pub fn init() {
    leptos_i18n::custom_provider::set_icu_data_provider(PluralRulesData);
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

/// Provides the i18n context and keeps the language as the rules above say.
#[component]
pub fn Languages(children: Children) -> impl IntoView {
    provide_languages();
    view! {
        <Negotiate/>
        {children()}
    }
}

/// The texts in one given language, for a piece of the app mounted on its own (the component
/// tests), where nothing negotiates.
#[component]
pub fn Fixed(locale: Locale, children: Children) -> impl IntoView {
    init();
    let i18n = provide_languages();
    set(i18n, locale);
    // After the context's own first effect, which applies the browser's language.
    crate::effect(move || set(i18n, locale));
    children()
}

#[component]
fn Negotiate() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
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
            set(i18n, wanted);
        }
    });
    CURRENT.with(|c| c.set(browser));
    // The tab's title follows the language too: the router's `PageTitle`, which names the page.
}

/// Changes the language: `current()` first, so that whatever reruns with the context's change
/// reads the new one.
fn set(i18n: leptos_i18n::I18nContext<Locale>, l: Locale) {
    CURRENT.with(|c| c.set(l));
    i18n.set_locale(l);
}

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
    let save = move |l: Option<Locale>, input: Option<web_sys::HtmlInputElement>| {
        leptos::task::spawn_local(async move {
            match crate::api::set_language(l.map(code)).await {
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
            c.mine.set(Some(l));
        }
        if let Some(s) = visit_storage() {
            let _ = s.set_item(CHOICE_KEY, code(l));
        }
        set(i18n, l);
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
    let offered =
        move || embedded && signed_in() && choice.is_some_and(|c| c.mine.with(|m| m.is_some()));
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
