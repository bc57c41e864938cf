//! `helpdesk-server ingest-email [--to ADDRESS] < message.eml`: the intake for an MTA's pipe.
//!
//! Exit status 0 once the message is recorded (accepted or refused), 75 (EX_TEMPFAIL) when it
//! could not be recorded, so that the MTA keeps it and tries again.

use super::{ingest, AuthSource, Envelope, Ingested, Outcome, MAX_RAW_BYTES};
use crate::config::Config;
use crate::storage::Store;
use std::process::ExitCode;
use tokio::io::AsyncReadExt;

pub const EX_TEMPFAIL: u8 = 75;

/// Reads one message from standard input and records it. Prints exactly one line (on standard
/// error, which the MTA logs or puts in a bounce): what became of the message, or why it could
/// not be recorded.
pub async fn run(config: Result<Config, String>, to: Option<String>) -> ExitCode {
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            return ExitCode::from(EX_TEMPFAIL);
        }
    };
    match run_inner(&config, to, tokio::io::stdin()).await {
        Ok(ingested) => {
            eprintln!("{}", describe(&ingested));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: message not recorded, try again later: {}",
                one_line(&format!("{e:#}"))
            );
            ExitCode::from(EX_TEMPFAIL)
        }
    }
}

/// One line for the MTA's log: `accepted <intake id>: new ticket FPL-809-43017`.
fn describe(ingested: &Ingested) -> String {
    let id = &ingested.id;
    match &ingested.outcome {
        Outcome::NewTicket { code } => format!("accepted {id}: new ticket {code}"),
        Outcome::Reply {
            code,
            automatic: false,
        } => format!("accepted {id}: reply to {code}"),
        Outcome::Reply {
            code,
            automatic: true,
        } => format!("accepted {id}: automatic message on {code}"),
        Outcome::Refused { reason, answered } => {
            format!(
                "refused {id}: {reason}{}",
                if *answered { " (answered)" } else { "" }
            )
        }
        // Nothing was recorded under this delivery's id: there is none to name.
        Outcome::Duplicate => "duplicate: already recorded".to_string(),
    }
}

/// Control characters (line breaks, escapes) of an error's text as spaces: the MTA's log gets
/// one plain line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Reads at most [`MAX_RAW_BYTES`] of the message (draining the rest) and ingests it.
pub async fn run_inner(
    config: &Config,
    to: Option<String>,
    mut input: impl tokio::io::AsyncRead + Unpin,
) -> anyhow::Result<Ingested> {
    let mut raw = Vec::with_capacity(64 * 1024);
    (&mut input)
        .take(MAX_RAW_BYTES as u64)
        .read_to_end(&mut raw)
        .await?;
    let mut complete = true;
    if raw.len() >= MAX_RAW_BYTES {
        // Read and drop the rest, so that the MTA sees the whole message taken.
        let rest = tokio::io::copy(&mut input, &mut tokio::io::sink()).await?;
        complete = rest == 0;
    }
    for dir in [config.mail_dir(), config.files_dir()] {
        tokio::fs::create_dir_all(&dir).await?;
    }
    let recipients: Vec<String> = to
        .map(|t| t.trim().to_lowercase())
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    let store = Store::open_with(&config.database_url, config.database_pool).await?;
    let env = Envelope {
        recipients,
        return_path: None,
        auth: AuthSource::Headers,
    };
    let result = ingest(&store, config, raw, complete, env).await;
    store.close().await;
    // A busy database waits (busy_timeout) and then fails: exit 75, and the MTA retries later.
    Ok(result?)
}
