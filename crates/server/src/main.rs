//! `helpdesk-server`: serve, import customers from the panel, answer as staff.

use anyhow::Context;
use clap::{Parser, Subcommand};
use helpdesk_core::api::{Role, StaffReply, Status};
use helpdesk_server::storage::prelude::*;
use helpdesk_server::{app, import, Config};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "helpdesk-server",
    about = "The customer helpdesk: API, app and e-mail gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (configured by HELPDESK_* variables).
    Serve,
    /// Upsert customers, services and password hashes exported by the control panel.
    Import { file: PathBuf },
    /// Record one e-mail from standard input (for an MTA's pipe); exit 75 when it could not be recorded.
    IngestEmail {
        /// The envelope recipient (else the message's own headers say).
        #[arg(long)]
        to: Option<String>,
    },
    /// Move everything from the SQLite database (HELPDESK_DATABASE_URL) and the data folder's files
    /// into an empty PostgreSQL database, checked by counts.
    MigrateTo {
        /// postgres://user@host/database
        url: String,
    },
    /// Staff actions.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
}

#[derive(Subcommand)]
enum StaffAction {
    /// Append a staff reply to a ticket and notify the customer.
    Reply {
        code: String,
        /// The staff account's e-mail.
        #[arg(long = "as")]
        as_: String,
        #[arg(long)]
        body_file: PathBuf,
        /// Status after the reply (default: awaiting_customer).
        #[arg(long)]
        status: Option<String>,
    },
    /// Recent e-mails the intake refused (automatic mail, bounces and the rest), newest first,
    /// and the addresses our e-mails do not reach.
    Mail {
        /// Only what concerns this address (sent by it, of its account, or a bounce naming it).
        #[arg(long)]
        address: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The pipe's output ends up in the MTA's log and bounces: there it prints its one line per
    // message itself (mail/cli.rs), and only warnings and errors are logged unless RUST_LOG asks.
    let default_filter = match cli.command {
        Command::IngestEmail { .. } => "warn",
        _ => "info,sqlx=warn,tower_http=info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never into a log file, journald or an MTA.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::IngestEmail { to } = cli.command {
        // Even a configuration error is temporary for the MTA: it keeps the message and retries.
        return Ok(helpdesk_server::mail::cli::run(Config::from_env(), to).await);
    }
    let config = Config::from_env().map_err(anyhow::Error::msg)?;
    match cli.command {
        Command::Serve => {
            let running = app::start(config).await?;
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let parsed = import::parse(&text)?;
            let state = app::build_state(config).await?;
            let n = import::import(&state.store, &parsed).await?;
            println!("imported {n} accounts");
            Ok(ExitCode::SUCCESS)
        }
        Command::IngestEmail { .. } => Ok(ExitCode::SUCCESS),
        Command::MigrateTo { url } => {
            let from = helpdesk_server::storage::Store::open(&config.database_url).await?;
            let Some(sqlite) = from.sqlite() else {
                anyhow::bail!("HELPDESK_DATABASE_URL is not a SQLite database: nothing to move");
            };
            let to = helpdesk_server::storage::PgStore::open(&url, config.database_pool).await?;
            let moved = helpdesk_server::storage::migrate::migrate_to(
                sqlite,
                &config.files_dir(),
                &config.mail_dir(),
                &to,
            )
            .await?;
            for (table, n) in &moved.rows {
                println!("{table:>16} {n:>8} rows");
            }
            println!("{:>16} {:>8} files", "file store", moved.files);
            println!("moved: every count matches");
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff {
            action: StaffAction::Mail { address },
        } => {
            let store = helpdesk_server::storage::Store::open_with(
                &config.database_url,
                config.database_pool,
            )
            .await?;
            let address = address
                .map(|a| a.trim().to_lowercase())
                .filter(|a| !a.is_empty());
            let list = store.staff_mail(address.as_deref(), 200).await?;
            for r in &list.items {
                println!(
                    "{}  {:<32} {:<20} {:<18} {}",
                    r.received_at,
                    r.sender,
                    r.reason,
                    r.kind.as_deref().unwrap_or("-"),
                    r.detail.as_deref().unwrap_or(""),
                );
            }
            if list.items.is_empty() {
                println!("no refused e-mails");
            }
            for u in &list.undeliverable {
                println!(
                    "undeliverable since {}: {} ({}) {}",
                    u.since,
                    u.address,
                    u.reason.as_str(),
                    u.detail.as_deref().unwrap_or(""),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff {
            action:
                StaffAction::Reply {
                    code,
                    as_,
                    body_file,
                    status,
                },
        } => {
            let body = std::fs::read_to_string(&body_file)
                .with_context(|| format!("reading {}", body_file.display()))?;
            let status = match status.as_deref() {
                None => None,
                Some(s) => {
                    Some(Status::parse(s).ok_or_else(|| anyhow::anyhow!("unknown status {s:?}"))?)
                }
            };
            let state = app::build_state(config).await?;
            let staff = state
                .store
                .account_by_email(&as_)
                .await?
                .filter(|a| a.customer.role == Role::Staff)
                .ok_or_else(|| anyhow::anyhow!("{as_} is not a staff account"))?
                .customer;
            let t = helpdesk_server::tickets::staff_reply(
                &state,
                &staff,
                &code,
                &StaffReply { body, status },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("replied to {} (now {})", t.code, t.status.as_str());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
