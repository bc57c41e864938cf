//! WCAG 2.1 AA, checked by axe-core (installed by `cargo xtask setup` from npm) in the real app
//! in Chromium: every page, every step of the wizard, and the app inside the panel's widget.

use crate::wizard::{choose, next};
use helpdesk_e2e::{start_in, start_with_panel, Env};

/// axe-core's rules for WCAG 2.0 and 2.1, levels A and AA.
const RUN: &str = "const done = arguments[arguments.length - 1]; \
    axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}) \
      .then(r => done(r.violations.map(v => `${v.id} (${v.impact}): ${v.help} — ` + \
             v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))) \
      .catch(e => done(['axe failed: ' + e]));";

/// Runs axe on the page as it is now; returns what it found.
pub(crate) async fn violations(env: &Env, what: &str) -> Vec<String> {
    let path = helpdesk_e2e::workspace().join("tools/node_modules/axe-core/axe.min.js");
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; `cargo xtask setup` installs axe-core",
            path.display()
        )
    });
    // Injected through WebDriver (not a <script>: the app's CSP rightly refuses those).
    env.browser
        .execute(
            &format!("if (!window.axe) {{ {source}\n }} return true;"),
            vec![],
        )
        .await
        .expect("axe-core loads");
    let found = env
        .browser
        .execute_async(RUN, vec![])
        .await
        .expect("axe runs");
    found
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| format!("{what}: {}", v.as_str().unwrap_or_default()))
        .collect()
}

/// The words of a walk in one language: what to wait for and what to choose.
struct Words {
    /// The browser's language: the app follows it.
    browser: &'static str,
    html_lang: &'static str,
    step: &'static str,
    of: &'static str,
    helpdesk: &'static str,
    too_generic: &'static str,
    normal: &'static str,
    /// The list's heading, which names its table.
    my_tickets: &'static str,
}

const ITALIAN: Words = Words {
    browser: "it-IT",
    html_lang: "it",
    step: "Passo",
    of: "di",
    helpdesk: "Helpdesk (Assistenza Tecnica)",
    too_generic: "Troppo generico",
    normal: "normale",
    my_tickets: "I miei ticket",
};

const ENGLISH: Words = Words {
    browser: "en-GB",
    html_lang: "en",
    step: "Step",
    of: "of",
    helpdesk: "Helpdesk (technical support)",
    too_generic: "Too generic",
    normal: "normal",
    my_tickets: "My tickets",
};

/// Fragments of the app's Italian texts (locales/it.json) that are not also English: none may
/// be on an English page. Parameters and markup split a text into fragments; short ones (a
/// word like "di") would match customers' own words too.
fn italian_fragments() -> Vec<String> {
    fn leaves(v: &serde_json::Value, path: String, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    leaves(v, format!("{path}.{k}"), out);
                }
            }
            serde_json::Value::String(s) => out.push((path, s.clone())),
            _ => {}
        }
    }
    let read = |lang: &str| -> serde_json::Value {
        let path = helpdesk_e2e::workspace().join(format!("locales/{lang}.json"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the locale file"))
            .expect("JSON")
    };
    let (mut it, mut en) = (Vec::new(), Vec::new());
    leaves(&read("it"), String::new(), &mut it);
    leaves(&read("en"), String::new(), &mut en);
    // The subject hints: one table in helpdesk-core, both languages side by side.
    for e in helpdesk_core::hints::TABLE {
        it.push((format!("hint {}", e.it), e.it.to_string()));
        en.push((format!("hint {}", e.it), e.en.to_string()));
    }
    let english: std::collections::HashMap<_, _> = en.into_iter().collect();
    let mut out = Vec::new();
    for (key, text) in it {
        if english.get(&key) == Some(&text) {
            continue; // the same in both ("E-mail", "Password", "CronusCloud")
        }
        let mut rest = text.as_str();
        let mut parts = Vec::new();
        while let Some(i) = rest.find(['{', '<']) {
            parts.push(&rest[..i]);
            let close = if rest[i..].starts_with('{') {
                "}}"
            } else {
                ">"
            };
            rest = rest[i..]
                .find(close)
                .map_or("", |j| &rest[i + j + close.len()..]);
        }
        parts.push(rest);
        for p in parts {
            let p = p.trim_matches(|c: char| !c.is_alphanumeric());
            if p.chars().count() >= 8 && !english.values().any(|e| e.contains(p)) {
                out.push(p.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The Italian fragments on the page: its text and the texts of its attributes (labels,
/// placeholders, titles) outside what customers wrote themselves (messages, subjects).
async fn italian_left(env: &Env, what: &str, fragments: &[String]) -> Vec<String> {
    // By class on purpose: what customers wrote is left out by where the app shows it.
    let script = "const frags = arguments[0]; \
        const page = document.body.cloneNode(true); \
        page.querySelectorAll('.thread .body, .thread .quoted, h1.subject, table.tickets td a, .author, .who .name') \
            .forEach(e => e.remove()); \
        let text = page.innerText + ' ' + document.title; \
        page.querySelectorAll('[aria-label], [placeholder], [title], [alt]').forEach(e => { \
            for (const a of ['aria-label', 'placeholder', 'title', 'alt']) text += ' ' + (e.getAttribute(a) || ''); }); \
        return frags.filter(f => text.includes(f));";
    let found = env
        .browser
        .execute(script, vec![serde_json::json!(fragments)])
        .await
        .expect("the check runs");
    found
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| format!("{what}: Italian left: {}", f.as_str().unwrap_or_default()))
        .collect()
}

/// Walks every page and every wizard step in one language: axe on each, and in English no
/// Italian text of the app left on any of them.
async fn walk(words: &Words) -> Vec<String> {
    let env = start_in(words.browser, |_| {}).await;
    let fragments = if words.html_lang == "en" {
        italian_fragments()
    } else {
        Vec::new()
    };
    assert!(
        fragments.len() > 150 || words.html_lang != "en",
        "the check knows the app's Italian texts: {}",
        fragments.len()
    );
    let mut found = Vec::new();
    macro_rules! check {
        ($what:expr) => {{
            found.extend(violations(&env, $what).await);
            if !fragments.is_empty() {
                found.extend(italian_left(&env, $what, &fragments).await);
            }
            let lang = env.js("return document.documentElement.lang").await;
            if lang != words.html_lang {
                found.push(format!("{}: <html lang={lang}>", $what));
            }
        }};
    }
    let step = |n: usize| format!("{} {n} {} 7", words.step, words.of);
    env.goto("/login").await;
    env.by_label("E-mail").await;
    check!("login");
    // A failed login shows its alert.
    env.fill_label("E-mail", "demo@example.it").await;
    env.fill_label("Password", "wrong").await;
    env.click_role("button", env.sign_in().await).await;
    env.by_role_any("alert").await;
    check!("login with an error");

    env.fill_label("Password", "demo-password").await;
    env.click_role("button", env.sign_in().await).await;
    env.wait_in("table", "Errore 500 su blog-mario.it").await;
    // The table is named by the page's heading, as a screen reader's list of tables says it.
    env.by_role("table", words.my_tickets).await;
    check!("ticket list");
    env.click_role_containing("link", "Errore 500 su blog-mario.it")
        .await;
    env.thread_items().await;
    env.by_role_any("textbox").await;
    check!("ticket");
    env.goto("/email-rifiutate").await;
    env.by_role_any("heading").await;
    check!("refused e-mails");
    env.goto("/nessuna-pagina").await;
    env.by_role_any("heading").await;
    check!("not found");

    env.goto("/nuovo").await;
    env.wait_in("main", &step(1)).await;
    env.js("window.__errs=[]; const e=console.error; console.error=(...a)=>{window.__errs.push(a.join(' ')); e(...a)}; window.addEventListener('error', ev => window.__errs.push(String(ev.message)));").await;
    check!("wizard 1");
    next(&env).await;
    env.by_role_any("alert").await;
    check!("wizard 1 with its error");
    choose(&env, words.helpdesk).await;
    next(&env).await;
    env.wait_in("main", &step(2)).await;
    check!("wizard 2");
    choose(&env, "blog-mario.it").await;
    next(&env).await;
    env.wait_in("main", &step(3)).await;
    env.fill("#subject", "aiuto").await;
    env.wait_in("main", words.too_generic).await;
    check!("wizard 3 with a hint");
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    next(&env).await;
    env.wait_in("main", &step(4)).await;
    check!("wizard 4");
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500 Internal Server Error a tutti i visitatori.",
    )
    .await;
    next(&env).await;
    env.wait_in("main", &step(5)).await;
    check!("wizard 5");
    choose(&env, words.normal).await;
    next(&env).await;
    env.wait_in("main", &step(6)).await;
    check!("wizard 6");
    next(&env).await;
    env.wait_in("main", &step(7)).await;
    check!("wizard 7");
    next(&env).await;
    env.find("[data-testid=ticket-code]").await;
    check!("ticket sent");
    // The checks can fail: a field without a label is reported, and so is an Italian text.
    env.js(
        "const i = document.createElement('input'); i.id = 'unlabelled'; byRole('main').append(i);",
    )
    .await;
    let broken = violations(&env, "a field without a label").await;
    assert!(
        broken
            .iter()
            .any(|v| v.contains("label") && v.contains("#unlabelled")),
        "{broken:?}"
    );
    if !fragments.is_empty() {
        env.js("byRole('main').append(document.createTextNode('Riepilogo della richiesta'));")
            .await;
        let left = italian_left(&env, "an Italian word", &fragments).await;
        assert!(left.iter().any(|v| v.contains("Riepilogo")), "{left:?}");
    }
    env.stop().await;
    found
}

#[tokio::test]
async fn every_page_and_wizard_step_passes_axe() {
    let found = walk(&ITALIAN).await;
    assert!(found.is_empty(), "axe found:\n{}", found.join("\n"));
}

/// In English (an English browser): every page and wizard step passes axe
/// and no Italian text of the app is left on any of them, nor in the server's hints and errors.
#[tokio::test]
async fn every_page_and_wizard_step_in_english_passes_axe_with_no_italian_left() {
    let found = walk(&ENGLISH).await;
    assert!(found.is_empty(), "found:\n{}", found.join("\n"));
}

#[tokio::test]
async fn the_widget_and_its_panel_page_pass_axe() {
    let env = start_with_panel().await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.launcher().await.click().await.expect("click");
    env.enter_widget().await;
    env.wait_in("main", "Errore 500 su blog-mario.it").await;
    let mut found = violations(&env, "widget list").await;
    env.leave_widget().await;
    // The loader's own parts (launcher, dialog) on the host's page.
    found.extend(violations(&env, "panel with the widget open").await);
    // In English, chosen in the widget: the offer to keep it ("always use English") shows.
    env.enter_widget().await;
    env.click_role_containing("button", "English").await;
    env.wait_in("main", "My tickets").await;
    env.by_role_containing("checkbox", "Always use English")
        .await;
    found.extend(violations(&env, "widget list in English").await);
    env.leave_widget().await;
    env.until(
        "the loader in English",
        "return document.getElementById('helpdesk-title').textContent === 'Customer support'",
    )
    .await;
    found.extend(violations(&env, "panel with the widget open in English").await);
    // Full screen on a phone: the modal dialog and the inert page behind.
    env.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    env.until(
        "the widget modal",
        "return document.getElementById('helpdesk-dialog').getAttribute('aria-modal') === 'true'",
    )
    .await;
    found.extend(violations(&env, "panel with the widget full screen").await);
    env.stop().await;
    assert!(found.is_empty(), "axe found:\n{}", found.join("\n"));
}
