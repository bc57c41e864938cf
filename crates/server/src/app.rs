//! Starting the server: state, background workers, the HTTP listener, graceful shutdown.

use crate::auth::hash_password;
use crate::config::Config;
use crate::guard::{CheckPool, Throttle};
use crate::http::app_files::AppFiles;
use crate::state::{AppState, Inner};
use crate::storage::prelude::*;
use crate::storage::Store;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Opens the database and prepares everything handlers share.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    for dir in [
        config.data_dir.clone(),
        config.files_dir(),
        config.mail_dir(),
        config.outbox_dir(),
    ] {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = Store::open_with(&config.database_url, config.database_pool).await?;
    // Live events start a little before now: on PostgreSQL a message committed just after this
    // may hold a lower `seq` than the highest visible, and the poller's wait for holes covers
    // only what it reads (see `crate::events::GAP_WAIT`).
    let since_us = crate::util::now_us()
        - i64::try_from(crate::events::GAP_WAIT.as_micros()).unwrap_or(i64::MAX);
    let events = crate::events::Hub::new(
        store.last_message_seq(since_us).await?,
        config.events_per_customer,
        config.events_max,
        store.engine() == "sqlite",
    );
    let dummy_hash = tokio::task::spawn_blocking(|| hash_password("not-a-real-password")).await??;
    Ok(AppState::new(Inner {
        store,
        login_by_account: Throttle::new(5, Duration::from_secs(15 * 60)),
        login_by_address: Throttle::new(30, Duration::from_secs(15 * 60)),
        login_by_device: Throttle::new(5, Duration::from_secs(15 * 60)),
        // Half the pool per client address: one client never takes every slot.
        password_checks: CheckPool::new(config.login_checks, config.login_checks.div_ceil(2)),
        dummy_hash,
        outbox_wake: tokio::sync::Notify::new(),
        events,
        config,
    }))
}

/// A running server: its address, its state, and the switch that stops it.
pub struct Running {
    pub addr: SocketAddr,
    /// The SMTP intake's address, when it listens.
    pub smtp_addr: Option<SocketAddr>,
    /// The demo control panel's address, when it is served.
    pub demo_panel_addr: Option<SocketAddr>,
    pub state: AppState,
    pub shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, stops the workers.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        self.state.store.close().await;
    }
}

/// Binds the listener and starts serving and the background workers.
pub async fn start(mut config: Config) -> anyhow::Result<Running> {
    let panel_bind = config.demo_panel_bind.filter(|_| config.demo);
    if panel_bind.is_some() && config.sso.secrets.is_empty() {
        // The demo panel signs tokens the helpdesk must accept: without a configured secret,
        // one made up for this run serves both.
        config
            .sso
            .secrets
            .push(crate::util::random_token().into_bytes());
    }
    let state = build_state(config).await?;
    if state.config.demo {
        crate::demo::seed_if_empty(&state).await?;
    }
    let listener = tokio::net::TcpListener::bind(state.config.bind)
        .await
        .with_context(|| format!("binding {}", state.config.bind))?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let app = crate::http::router(state.clone(), AppFiles::load(&state.config));

    let mut tasks = Vec::new();
    // Our own accept loop: header and idle timeouts, a connection cap (see http/serve.rs).
    tasks.push(tokio::spawn(crate::http::serve::serve(
        listener,
        app,
        shutdown.clone(),
        crate::http::serve::Limits::for_this_process(&state.config),
    )));
    tasks.push(tokio::spawn(crate::notify::worker(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(cleanup(state.clone(), shutdown.clone())));
    let smtp_addr = match crate::mail::smtp::start(&state, &shutdown).await? {
        Some((smtp_addr, task)) => {
            tasks.push(task);
            Some(smtp_addr)
        }
        None => None,
    };
    tasks.push(tokio::spawn(crate::events::poller(
        state.clone(),
        shutdown.clone(),
    )));
    let demo_panel_addr = match panel_bind {
        Some(bind) => {
            let helpdesk = format!("http://{addr}{}", state.config.base_path);
            let (panel_addr, task) =
                crate::demo_panel::start(state.clone(), bind, helpdesk, shutdown.clone()).await?;
            tasks.push(task);
            Some(panel_addr)
        }
        None => None,
    };
    tracing::info!(%addr, base = %state.config.base_path, "helpdesk listening");
    Ok(Running {
        addr,
        smtp_addr,
        demo_panel_addr,
        state,
        shutdown,
        tasks,
    })
}

/// Removes uploads nobody attached within a day, and refused e-mails' raw mail past its
/// retention, hourly.
async fn cleanup(state: AppState, shutdown: CancellationToken) {
    loop {
        if let Err(e) = crate::files::expire_uploads(&state, crate::util::now_us()).await {
            tracing::warn!(error = %e, "upload cleanup failed");
        }
        if let Err(e) =
            crate::mail::expire_refused_raw(&state.store, &state.config, crate::util::now_us())
                .await
        {
            tracing::warn!(error = %e, "cleanup of refused e-mails failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
