//! The e-mail intake's own records: every message received (claimed first, so that a duplicate is
//! taken once), refusal answers with their rate limit, and threading by Message-ID.
//!
//! One text serves both backends (`intake_store!`, instantiated here and in `pg/mail.rs`). What
//! varies by backend are items each backend's module defines and that text names:
//! - `FOR_UPDATE`, appended to the read of an earlier claim: of two PostgreSQL instances taking
//!   over a stale claim, one deletes it and the other, once the first commits, finds its claim.
//!   SQLite's single writer needs no lock.
//! - `lock_address(c, address)`: PostgreSQL locks the address for the transaction, so that
//!   instances answering it count its answers one after the other; a no-op on SQLite.
//! - `forget_raw_paths` and `references_to`: a list of ids is one array parameter on PostgreSQL
//!   (`= ANY($n)`), one parameter per id on SQLite, which has no arrays.

use super::prelude::*;
use super::{
    Charge, Notification, SqliteConnection, SqlitePool, SqliteStore, StoreResult, StoredFile,
};
use crate::util::{now_us, rfc3339};
use helpdesk_core::api::MailRejection;
use sqlx::{QueryBuilder, Sqlite};
use std::future::Future;

/// A message as it arrives, before anything is decided about it.
#[derive(Debug, Clone)]
pub struct IntakeClaim<'a> {
    pub id: &'a str,
    /// The normalised `From` address (or the header as written when there is no single one).
    pub sender: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    /// `<id>`; without one a message cannot be recognised when it comes again.
    pub message_id: Option<&'a str>,
    /// Relative to the data folder.
    pub raw_path: &'a str,
    pub received_us: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours to process.
    Claimed,
    /// Already recorded (accepted or refused): take it, do nothing.
    Duplicate,
    /// Another delivery of it is being processed right now: the sender should retry later.
    Busy,
}

/// An answer to queue with the record (a refusal), if the address has not had too many.
#[derive(Debug, Clone)]
pub struct Answer {
    pub notification: Notification,
    pub in_reply_to: Option<String>,
    /// Queued only while the address had fewer than `limit` refusal answers within the last
    /// `window_us` (counted in the database, so that every instance sees the same).
    pub limit: i64,
    pub window_us: i64,
}

/// How a claimed message ended.
#[derive(Debug, Clone, Default)]
pub struct IntakeFinish<'a> {
    /// The account the message is from, shown in its list of refused e-mails.
    pub account_id: Option<&'a str>,
    /// The account a message that failed sender authentication claims to be from: for staff only.
    pub claimed_account_id: Option<&'a str>,
    /// `accepted` or `refused`.
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub ticket_code: Option<&'a str>,
    pub answer: Option<Answer>,
    /// An acknowledgment was queued with the ticket: it counts against the address's answers.
    pub acknowledged_to: Option<&'a str>,
}

/// A claim left `processing` this long belongs to a process that died: the next delivery takes over.
pub(super) const STALE_CLAIM_US: i64 = 10 * 60 * 1_000_000;
pub(super) const HOUR_US: i64 = 3600 * 1_000_000;

/// What an earlier claim of the same message says about this one.
pub(super) fn prior_claim(outcome: &str, at: i64, received_us: i64) -> Option<Claim> {
    if outcome != "processing" {
        Some(Claim::Duplicate)
    } else if received_us - at < STALE_CLAIM_US {
        Some(Claim::Busy)
    } else {
        None
    }
}

/// A refused e-mail in its customer's list, with where its raw mail is kept.
#[derive(Debug, Clone)]
pub struct RefusedMail {
    /// As the list shows it; its text and attachment names are read from the raw mail (they
    /// are not in the database).
    pub rejection: MailRejection,
    /// Relative to the data folder; `None` once the raw mail was deleted.
    pub raw_path: Option<String>,
}

/// What the intake recorded of a message: outcome, reason, ticket code.
pub type IntakeRecord = (String, Option<String>, Option<String>);

/// The e-mail intake: claims, raw messages kept, threading lookups.
pub trait IntakeStore {
    /// Records the arrival of a message, or says it was seen before.
    fn claim_intake(&self, c: &IntakeClaim<'_>) -> impl Future<Output = StoreResult<Claim>> + Send;
    /// Writes how a claimed message ended, and queues its answer unless the address already had
    /// as many refusal answers as the answer's limit within its window. Returns whether an answer
    /// was queued.
    fn finish_intake(
        &self,
        id: &str,
        f: &IntakeFinish<'_>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Refused messages received before `cutoff_us` whose raw mail is still kept: (id, raw path).
    fn refused_raw_before(
        &self,
        cutoff_us: i64,
    ) -> impl Future<Output = StoreResult<Vec<(String, String)>>> + Send;
    /// Records that these messages' raw mail was deleted (their records stay).
    fn forget_raw(&self, ids: &[String]) -> impl Future<Output = StoreResult<()>> + Send;
    /// Forgets a claim whose processing failed, so that the sender's retry is processed anew.
    fn abandon_intake(&self, id: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Acknowledgments sent to an address within the last hour.
    fn recent_acknowledgments(
        &self,
        address: &str,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// The account's ticket that one of these Message-IDs belongs to (ours, sent about it, or a
    /// message received on it), preferring the first id in `ids`.
    fn ticket_for_references(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// The account's ticket already holding a message received with this Message-ID: a delivery
    /// whose record was lost after the message itself was written.
    fn ticket_with_email(
        &self,
        account_id: &str,
        email_message_id: &str,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Records a received e-mail as a file of its customer, downloadable as the message's raw
    /// e-mail once a message refers to it.
    fn insert_raw_email_file(
        &self,
        account_id: &str,
        f: &StoredFile,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Removes the record of a file that joined no message (its bytes are the caller's).
    fn delete_file_row(&self, id: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// The intake's record of a message, for tests and staff tools: (outcome, reason, ticket code).
    fn intake_record(
        &self,
        id: &str,
    ) -> impl Future<Output = StoreResult<Option<IntakeRecord>>> + Send;
    /// The account's refused e-mails, newest first, each with why in `lang` and where its raw
    /// mail is still kept.
    fn mail_rejections(
        &self,
        account_id: &str,
        lang: crate::texts::Language,
    ) -> impl Future<Output = StoreResult<Vec<RefusedMail>>> + Send;
}

macro_rules! intake_store {
    ($Store:ty, $Conn:ty) => {
        impl IntakeStore for $Store {
            async fn claim_intake(&self, c: &IntakeClaim<'_>) -> StoreResult<Claim> {
                let own = |s: &str| s.to_string();
                let (id, sender, recipient, subject, raw_path) = (
                    own(c.id),
                    own(c.sender),
                    own(c.recipient),
                    own(c.subject),
                    own(c.raw_path),
                );
                let (message_id, received_us) = (c.message_id.map(own), c.received_us);
                self.write(move |tx| {
                    Box::pin(async move {
                        if let Some(mid) = &message_id {
                            // Locked: of two instances taking over a stale claim, one deletes it and the
                            // other, once the first commits, finds the first one's claim.
                            let prior: Option<(String, String, i64)> = sqlx::query_as(&format!(
                                "SELECT id, outcome, received_us FROM mail_intake
                                 WHERE sender = $1 AND message_id = $2{FOR_UPDATE}",
                            ))
                            .bind(&sender)
                            .bind(mid)
                            .fetch_optional(&mut *tx)
                            .await?;
                            if let Some((old, outcome, at)) = prior {
                                if let Some(claim) = prior_claim(&outcome, at, received_us) {
                                    return Ok(claim);
                                }
                                sqlx::query("DELETE FROM mail_intake WHERE id = $1")
                                    .bind(old)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                        }
                        // A claim inserted meanwhile by another instance makes this one a conflict, not
                        // an error: the other's claim is read back and answered like one found above.
                        let done = sqlx::query(
                            "INSERT INTO mail_intake (id, sender, recipient, subject, message_id, outcome, raw_path, received_us)
                             VALUES ($1, $2, $3, $4, $5, 'processing', $6, $7)
                             ON CONFLICT (sender, message_id) WHERE message_id IS NOT NULL DO NOTHING",
                        )
                        .bind(&id)
                        .bind(&sender)
                        .bind(&recipient)
                        .bind(&subject)
                        .bind(&message_id)
                        .bind(&raw_path)
                        .bind(received_us)
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() == 1 {
                            return Ok(Claim::Claimed);
                        }
                        let other: Option<(String, i64)> = sqlx::query_as(
                            "SELECT outcome, received_us FROM mail_intake WHERE sender = $1 AND message_id = $2",
                        )
                        .bind(&sender)
                        .bind(&message_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        Ok(match other {
                            Some((outcome, at)) => {
                                prior_claim(&outcome, at, received_us).unwrap_or(Claim::Busy)
                            }
                            // Gone again (abandoned): the sender's next try claims it.
                            None => Claim::Busy,
                        })
                    })
                })
                .await
            }

            async fn finish_intake(&self, id: &str, f: &IntakeFinish<'_>) -> StoreResult<bool> {
                let now = now_us();
                let own = |s: Option<&str>| s.map(str::to_string);
                let id = id.to_string();
                let (account_id, claimed_account_id, reason, detail, ticket_code, acknowledged_to) = (
                    own(f.account_id),
                    own(f.claimed_account_id),
                    own(f.reason),
                    own(f.detail),
                    own(f.ticket_code),
                    own(f.acknowledged_to),
                );
                let (outcome, answer) = (f.outcome.to_string(), f.answer.clone());
                self.write(move |tx| {
                    Box::pin(async move {
                        sqlx::query(
                            "UPDATE mail_intake SET account_id = $1, claimed_account_id = $2, outcome = $3, reason = $4,
                               detail = $5, ticket_id = (SELECT id FROM tickets WHERE code = $6)
                             WHERE id = $7",
                        )
                        .bind(&account_id)
                        .bind(&claimed_account_id)
                        .bind(&outcome)
                        .bind(&reason)
                        .bind(&detail)
                        .bind(&ticket_code)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                        if let Some(to) = &acknowledged_to {
                            sqlx::query(
                                "INSERT INTO mail_answers (address, kind, created_us) VALUES ($1, 'ack', $2)",
                            )
                            .bind(to)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        match &answer {
                            Some(a) => queue_answer(tx, a, now).await,
                            None => Ok(false),
                        }
                    })
                })
                .await
            }

            async fn refused_raw_before(&self, cutoff_us: i64) -> StoreResult<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT id, raw_path FROM mail_intake
                     WHERE outcome = 'refused' AND raw_path <> '' AND received_us < $1 LIMIT 10000",
                )
                .bind(cutoff_us)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn forget_raw(&self, ids: &[String]) -> StoreResult<()> {
                if ids.is_empty() {
                    return Ok(());
                }
                let ids = ids.to_vec();
                self.write(move |tx| {
                    Box::pin(async move {
                        forget_raw_paths(tx, &ids).await
                    })
                })
                .await
            }

            async fn abandon_intake(&self, id: &str) -> StoreResult<()> {
                let id = id.to_string();
                self.write(move |tx| {
                    Box::pin(async move {
                        sqlx::query("DELETE FROM mail_intake WHERE id = $1 AND outcome = 'processing'")
                            .bind(&id)
                            .execute(&mut *tx)
                            .await?;
                        Ok(())
                    })
                })
                .await
            }

            async fn recent_acknowledgments(&self, address: &str) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM mail_answers WHERE address = $1 AND kind = 'ack' AND created_us > $2",
                )
                .bind(address)
                .bind(now_us() - HOUR_US)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn ticket_for_references(
                &self,
                account_id: &str,
                ids: &[String],
            ) -> StoreResult<Option<String>> {
                if ids.is_empty() {
                    return Ok(None);
                }
                let found = references_to(&self.pool, account_id, ids).await?;
                Ok(ids.iter().find_map(|id| {
                    found
                        .iter()
                        .find(|(mid, _)| mid == id)
                        .map(|(_, code)| code.clone())
                }))
            }

            async fn ticket_with_email(
                &self,
                account_id: &str,
                email_message_id: &str,
            ) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT t.code FROM messages m JOIN tickets t ON t.id = m.ticket_id
                     WHERE m.email_message_id = $1 AND t.account_id = $2 LIMIT 1",
                )
                .bind(email_message_id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn insert_raw_email_file(&self, account_id: &str, f: &StoredFile) -> StoreResult<()> {
                // Stored like an upload: unattached until the message that refers to it is written.
                self.insert_upload(account_id, f, Charge::default()).await
            }

            async fn delete_file_row(&self, id: &str) -> StoreResult<()> {
                let id = id.to_string();
                self.write(move |tx| {
                    Box::pin(async move {
                        sqlx::query("DELETE FROM files WHERE id = $1 AND message_id IS NULL")
                            .bind(&id)
                            .execute(&mut *tx)
                            .await?;
                        Ok(())
                    })
                })
                .await
            }

            async fn intake_record(&self, id: &str) -> StoreResult<Option<IntakeRecord>> {
                Ok(sqlx::query_as(
                    "SELECT i.outcome, i.reason, t.code FROM mail_intake i
                     LEFT JOIN tickets t ON t.id = i.ticket_id WHERE i.id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn mail_rejections(
                &self,
                account_id: &str,
                lang: crate::texts::Language,
            ) -> StoreResult<Vec<RefusedMail>> {
                let rows: Vec<(String, String, Option<String>, i64, String)> = sqlx::query_as(
                    "SELECT id, subject, reason, received_us, raw_path FROM mail_intake
                     WHERE account_id = $1 AND outcome = 'refused' ORDER BY received_us DESC LIMIT 100",
                )
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, subject, reason, received_us, raw_path)| {
                        let reason = reason.unwrap_or_default();
                        RefusedMail {
                            rejection: MailRejection {
                                id,
                                received_at: rfc3339(received_us),
                                subject,
                                message: crate::texts::rejection_explanation(&reason, lang)
                                    .to_string(),
                                reason,
                                text: None,
                                attachment_names: Vec::new(),
                            },
                            // Emptied when the raw mail is deleted (`forget_raw`).
                            raw_path: Some(raw_path).filter(|p| !p.is_empty()),
                        }
                    })
                    .collect())
            }
        }

        /// Queues a refusal answer unless its address already had `a.limit` within `a.window_us`;
        /// answers whether it was queued. The address is locked for the transaction (`lock_address`), so
        /// that instances answering the same address count one after the other and never both pass the
        /// limit.
        async fn queue_answer(c: &mut $Conn, a: &Answer, now: i64) -> StoreResult<bool> {
            let n = &a.notification;
            lock_address(c, &n.to).await?;
            let recent: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM mail_answers WHERE address = $1 AND kind = 'refusal' AND created_us > $2",
            )
            .bind(&n.to)
            .bind(now.saturating_sub(a.window_us))
            .fetch_one(&mut *c)
            .await?;
            if recent >= a.limit {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO outbox (ticket_id, message_id, from_addr, to_addr, subject, body, in_reply_to, references_, next_try_us, created_us)
                 VALUES (NULL, $1, $2, $3, $4, $5, $6, $6, $7, $7)",
            )
            .bind(&n.message_id)
            .bind(&n.from)
            .bind(&n.to)
            .bind(&n.subject)
            .bind(&n.body)
            .bind(&a.in_reply_to)
            .bind(now)
            .execute(&mut *c)
            .await?;
            sqlx::query("INSERT INTO mail_answers (address, kind, created_us) VALUES ($1, 'refusal', $2)")
                .bind(&n.to)
                .bind(now)
                .execute(&mut *c)
                .await?;
            Ok(true)
        }
    };
}
pub(super) use intake_store;

/// SQLite's single writer keeps writes apart: nothing to lock.
const FOR_UPDATE: &str = "";

/// SQLite's single writer keeps writes apart: nothing to lock.
async fn lock_address(_: &mut SqliteConnection, _: &str) -> StoreResult<()> {
    Ok(())
}

/// Records that these messages' raw mail was deleted, one statement per id.
async fn forget_raw_paths(c: &mut SqliteConnection, ids: &[String]) -> StoreResult<()> {
    for id in ids {
        sqlx::query("UPDATE mail_intake SET raw_path = '' WHERE id = $1")
            .bind(id)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// (Message-ID, ticket code) of the account's messages, ours or received, with one of `ids`.
async fn references_to(
    pool: &SqlitePool,
    account_id: &str,
    ids: &[String],
) -> StoreResult<Vec<(String, String)>> {
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT o.message_id AS mid, t.code FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.account_id = ",
    );
    sql.push_bind(account_id).push(" AND o.message_id IN (");
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    sql.push(") UNION ALL SELECT m.email_message_id AS mid, t.code FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.account_id = ");
    sql.push_bind(account_id)
        .push(" AND m.email_message_id IN (");
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    sql.push(")");
    Ok(sql.build_query_as().fetch_all(pool).await?)
}

intake_store!(SqliteStore, SqliteConnection);
