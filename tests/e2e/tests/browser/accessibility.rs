//! WCAG 2.1 AA, checked by axe-core (installed by `cargo xtask setup` from npm) in the real app
//! in Chromium: every page, every step of the wizard, and the app inside the panel's widget.

use crate::wizard::{choose, next};
use helpdesk_e2e::{start, start_with_panel, Env};

/// axe-core's rules for WCAG 2.0 and 2.1, levels A and AA.
const RUN: &str = "const done = arguments[arguments.length - 1]; \
    axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}) \
      .then(r => done(r.violations.map(v => `${v.id} (${v.impact}): ${v.help} — ` + \
             v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))) \
      .catch(e => done(['axe failed: ' + e]));";

/// Runs axe on the page as it is now; returns what it found.
async fn violations(env: &Env, what: &str) -> Vec<String> {
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

#[tokio::test]
async fn every_page_and_wizard_step_passes_axe() {
    let env = start().await;
    let mut found = Vec::new();
    env.goto("/login").await;
    env.find("#login-email").await;
    found.extend(violations(&env, "login").await);
    // A failed login shows its alert.
    env.fill("#login-email", "demo@example.it").await;
    env.fill("#login-password", "wrong").await;
    env.click("form button[type=submit]").await;
    env.find("[role=alert]").await;
    found.extend(violations(&env, "login with an error").await);

    env.login("demo@example.it").await;
    env.wait_text("table.tickets", "Errore 500 su blog-mario.it")
        .await;
    found.extend(violations(&env, "ticket list").await);
    env.click("table.tickets tbody tr a").await;
    env.find("ol.thread, .thread").await;
    env.find("textarea").await;
    found.extend(violations(&env, "ticket").await);
    env.goto("/email-rifiutate").await;
    env.find("main h1").await;
    found.extend(violations(&env, "refused e-mails").await);
    env.goto("/nessuna-pagina").await;
    env.find("main h1").await;
    found.extend(violations(&env, "not found").await);

    env.goto("/nuovo").await;
    env.wait_text("main", "Passo 1 di 7").await;
    found.extend(violations(&env, "wizard 1").await);
    next(&env).await;
    env.find("[role=alert]").await;
    found.extend(violations(&env, "wizard 1 with its error").await);
    choose(&env, "Helpdesk (Assistenza Tecnica)").await;
    next(&env).await;
    env.wait_text("main", "Passo 2 di 7").await;
    found.extend(violations(&env, "wizard 2").await);
    choose(&env, "blog-mario.it").await;
    next(&env).await;
    env.wait_text("main", "Passo 3 di 7").await;
    env.fill("#subject", "aiuto").await;
    env.wait_text("#subject-quality", "Troppo generico").await;
    found.extend(violations(&env, "wizard 3 with a hint").await);
    env.fill(
        "#subject",
        "Errore 500 sulla home dopo l'aggiornamento del plugin",
    )
    .await;
    next(&env).await;
    env.wait_text("main", "Passo 4 di 7").await;
    found.extend(violations(&env, "wizard 4").await);
    env.fill(
        "#description",
        "Da stamattina alle 9 la home risponde 500 Internal Server Error a tutti i visitatori.",
    )
    .await;
    next(&env).await;
    env.wait_text("main", "Passo 5 di 7").await;
    found.extend(violations(&env, "wizard 5").await);
    choose(&env, "normale").await;
    next(&env).await;
    env.wait_text("main", "Passo 6 di 7").await;
    found.extend(violations(&env, "wizard 6").await);
    next(&env).await;
    env.wait_text("main", "Passo 7 di 7").await;
    found.extend(violations(&env, "wizard 7").await);
    next(&env).await;
    env.find("[data-testid=ticket-code]").await;
    found.extend(violations(&env, "ticket sent").await);
    // The check can fail: a field without a label is reported.
    env.js("const i = document.createElement('input'); i.id = 'unlabelled'; document.querySelector('main').append(i);")
        .await;
    let broken = violations(&env, "a field without a label").await;
    assert!(
        broken
            .iter()
            .any(|v| v.contains("label") && v.contains("#unlabelled")),
        "{broken:?}"
    );
    env.stop().await;
    assert!(found.is_empty(), "axe found:\n{}", found.join("\n"));
}

#[tokio::test]
async fn the_widget_and_its_panel_page_pass_axe() {
    let env = start_with_panel().await;
    env.browser
        .goto(&env.panel_url("/"))
        .await
        .expect("the panel");
    env.click("#helpdesk-launcher").await;
    env.enter_widget().await;
    env.wait_text("main", "Errore 500 su blog-mario.it").await;
    let mut found = violations(&env, "widget list").await;
    env.leave_widget().await;
    // The loader's own parts (launcher, dialog) on the host's page.
    found.extend(violations(&env, "panel with the widget open").await);
    env.stop().await;
    assert!(found.is_empty(), "axe found:\n{}", found.join("\n"));
}
