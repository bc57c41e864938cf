//! The demo control panel: served in demo mode only, on its own address; its tokens open a
//! session through the real sign-on.

use crate::helpers::spawn_with;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::SocketAddr;

fn any_port() -> Option<SocketAddr> {
    Some(SocketAddr::from(([127, 0, 0, 1], 0)))
}

#[tokio::test]
async fn the_demo_panel_embeds_the_widget_and_its_tokens_sign_the_customer_on() {
    let app = spawn_with(|c| c.demo_panel_bind = any_port()).await;
    let running = app.running.as_ref().expect("running");
    let panel = format!(
        "http://{}",
        running.demo_panel_addr.expect("the panel listens")
    );
    let home = app
        .client
        .get(&panel)
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("text");
    // The widget from the helpdesk's own address, and a page per service by the panel's ids.
    assert!(
        home.contains(&format!("src=\"http://{}/widget.js\"", running.addr)),
        "{home}"
    );
    assert!(home.contains("href=\"/servizi/h-103\""), "{home}");
    let page = app
        .client
        .get(format!("{panel}/servizi/h-103"))
        .send()
        .await
        .expect("service page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("blog-mario.it"), "{page}");
    assert!(page.contains("data-service=\"h-103\""), "{page}");
    assert!(
        page.contains("Chiedi assistenza su questo servizio"),
        "{page}"
    );
    // Another customer's service, or none, is not a page of this panel.
    let other = app
        .client
        .get(format!("{panel}/servizi/h-901"))
        .send()
        .await
        .expect("answer");
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    // Its token opens a session for the demo customer, once.
    let token = app
        .client
        .get(format!("{panel}/helpdesk-token"))
        .send()
        .await
        .expect("token")
        .text()
        .await
        .expect("text");
    let sso = |t: String| {
        app.client
            .post(app.url("/api/v1/session/sso"))
            .json(&json!({ "token": t }))
            .send()
    };
    let first = sso(token.clone()).await.expect("sign-on");
    assert_eq!(first.status(), StatusCode::OK);
    let body: Value = first.json().await.expect("json");
    assert_eq!(body["customer"]["email"], "demo@example.it");
    assert_eq!(
        sso(token).await.expect("replay").status(),
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

#[tokio::test]
async fn outside_demo_mode_no_panel_is_served() {
    let app = spawn_with(|c| {
        c.demo = false;
        c.demo_panel_bind = any_port();
    })
    .await;
    let running = app.running.as_ref().expect("running");
    assert_eq!(running.demo_panel_addr, None);
    // Nor does the sign-on accept anything: no secret was made up for a panel.
    assert!(running.state.config.sso.secrets.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn no_site_can_frame_the_demo_panel() {
    let app = spawn_with(|c| c.demo_panel_bind = any_port()).await;
    let running = app.running.as_ref().expect("running");
    let panel = format!(
        "http://{}",
        running.demo_panel_addr.expect("the panel listens")
    );
    for path in [
        "/",
        "/servizi/h-103",
        "/servizi/h-901",
        "/panel.js",
        "/helpdesk-token",
        "/no-such-page",
    ] {
        let r = app
            .client
            .get(format!("{panel}{path}"))
            .send()
            .await
            .expect("answer");
        let h = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        assert_eq!(
            h("content-security-policy").as_deref(),
            Some("frame-ancestors 'none'"),
            "{path}: {:?}",
            r.headers()
        );
        assert_eq!(h("x-frame-options").as_deref(), Some("DENY"), "{path}");
    }
    app.stop().await;
}
