//! `helpdesk-server import FILE.json`: customers, services and password hashes from the panel.

use crate::storage::prelude::*;
use crate::storage::{ImportAccount, Store};
use anyhow::Context;
use helpdesk_core::text;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    pub customers: Vec<ImportAccount>,
}

/// Upserts every account (by e-mail) and its services (by the panel's id); safe to run again.
pub async fn import(store: &Store, file: &ImportFile) -> anyhow::Result<usize> {
    for (i, a) in file.customers.iter().enumerate() {
        if !a.email.contains('@') {
            anyhow::bail!("customer {i}: {:?} is not an e-mail address", a.email);
        }
        if !(a.password_hash.starts_with("$argon2") || a.password_hash.starts_with("$2")) {
            anyhow::bail!(
                "customer {i} ({:?}): password_hash is neither argon2 nor bcrypt",
                a.email
            );
        }
        // The panel's names are shown in the app, in e-mails and in logs: one clean line each.
        let mut a = a.clone();
        a.name = text::single_line(&a.name);
        for s in &mut a.services {
            s.product = text::single_line(&s.product);
            s.identifier = text::single_line(&s.identifier);
        }
        store
            .upsert_account(&a)
            .await
            .with_context(|| format!("customer {i} ({:?})", a.email))?;
    }
    Ok(file.customers.len())
}

pub fn parse(json: &str) -> anyhow::Result<ImportFile> {
    serde_json::from_str(json).context("the import file is not valid JSON of the expected shape")
}
