//! TicketStore on PostgreSQL: the same records as SQLite's (`storage/tickets.rs`), each write in
//! a transaction of its own. Where SQLite's single writer keeps writes apart, here row locks do:
//! a write locks the ticket it changes, then its account (see `lock_account`).

use super::outbox::queue_notification;
use super::*;
use crate::storage::tickets::{
    author_kind_str, counts_from_rows, message_event_from_row, page_from_rows, page_size,
    parse_cursor, recent_from_rows, recorded_code, reply_result, search_patterns, summary_from_row,
    ticket_from_rows, OwnedKey, OwnedMessage, OwnedViewer, TicketRow, MESSAGE_EVENT_COLUMNS,
    RECENT_IN_NOTIFICATION,
};

impl TicketStore for PgStore {
    async fn last_message_seq(&self, created_before_us: i64) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM messages WHERE created_us < $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(created_before_us)
        .fetch_optional(&self.pool)
        .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn message_events(
        &self,
        after: i64,
        up_to: i64,
        account_id: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MessageEvent>> {
        let mut sql = QueryBuilder::<Postgres>::new("SELECT ");
        sql.push(MESSAGE_EVENT_COLUMNS)
            .push(" FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.seq > ")
            .push_bind(after)
            .push(" AND m.seq <= ")
            .push_bind(up_to);
        if let Some(account_id) = account_id {
            sql.push(" AND t.account_id = ").push_bind(account_id);
        }
        sql.push(" ORDER BY m.seq LIMIT ")
            .push_bind(i64::from(limit));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(message_event_from_row).collect()
    }

    async fn list_tickets(&self, account_id: &str, q: &ListQuery) -> StoreResult<TicketList> {
        let (limit, words) = (page_size(q), search_patterns(q));
        let mut sql = QueryBuilder::<Postgres>::new(
            "SELECT t.id, t.code, t.subject, t.department, t.status, t.priority, t.channel, t.created_us, t.activity_us,
                    s.id AS sid, s.family, s.product, s.identifier
             FROM tickets t LEFT JOIN services s ON s.id = t.service_id WHERE t.account_id = ",
        );
        sql.push_bind(account_id);
        push_word_filter(&mut sql, &words);
        if let Some(status) = q.status {
            sql.push(" AND t.status = ").push_bind(status.as_str());
        }
        if let Some((activity, id)) = q.cursor.as_deref().and_then(parse_cursor) {
            sql.push(" AND (t.activity_us, t.id) < (")
                .push_bind(activity)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        sql.push(" ORDER BY t.activity_us DESC, t.id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows = sql.build().fetch_all(&self.pool).await?;
        let (items, next_cursor) = page_from_rows(&rows, limit)?;

        // Without search words the counts are kept up to date by a trigger; a search counts what
        // it matches.
        let counts_rows = if words.is_empty() {
            sqlx::query("SELECT status, n FROM ticket_counts WHERE account_id = $1")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?
        } else {
            let mut counts_sql = QueryBuilder::<Postgres>::new(
                "SELECT t.status, COUNT(*) AS n FROM tickets t WHERE t.account_id = ",
            );
            counts_sql.push_bind(account_id);
            push_word_filter(&mut counts_sql, &words);
            counts_sql.push(" GROUP BY t.status");
            counts_sql.build().fetch_all(&self.pool).await?
        };
        Ok(TicketList {
            items,
            next_cursor,
            counts: counts_from_rows(&counts_rows)?,
        })
    }

    async fn create_ticket(
        &self,
        rec: NewTicketRecord<'_>,
        ack: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> StoreResult<Recorded> {
        enum Made {
            New,
            Prior { request_hash: String, code: String },
        }
        let (code, status, draft) = (rec.code, rec.status, rec.draft);
        let account_id = draft.account_id.to_string();
        let (department, priority, channel) = (draft.department, draft.priority, draft.channel);
        let service_id = draft.service_id.map(String::from);
        let subject = draft.subject.to_string();
        let first = OwnedMessage::from(&draft.first);
        let key = rec.idempotency.as_ref().map(OwnedKey::from);
        let written = code.clone();
        let made = self
            .write(move |c| {
                Box::pin(async move {
                    let code = written;
                    lock_account(c, &account_id).await?;
                    let now = now_us();
                    if let Some(k) = &key {
                        if let Some((request_hash, result)) = reserve_key(c, k, now).await? {
                            return Ok(Made::Prior {
                                code: recorded_code(&result)?.to_string(),
                                request_hash,
                            });
                        }
                    }
                    // The code's unique constraint decides a race on it, here or on any instance;
                    // a taken code writes nothing and aborts nothing, and the whole transaction
                    // (the key's reservation with it) is rolled back by the error.
                    let ticket_id: i64 = sqlx::query_scalar(
                        "INSERT INTO tickets (code, account_id, department, service_id, subject, status, priority, channel, created_us, activity_us)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (code) DO NOTHING RETURNING id",
                    )
                    .bind(code.as_str())
                    .bind(&account_id)
                    .bind(department.as_str())
                    .bind(&service_id)
                    .bind(&subject)
                    .bind(status.as_str())
                    .bind(priority.as_str())
                    .bind(channel.as_str())
                    .bind(now)
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await?
                    .ok_or(StoreError::CodeTaken)?;
                    insert_message(c, ticket_id, &account_id, &first, now).await?;
                    if let Some(k) = &key {
                        record_key_result(c, k, code.as_str()).await?;
                    }
                    let (email, name, language): (String, String, Option<String>) =
                        sqlx::query_as("SELECT email, name, language FROM accounts WHERE id = $1")
                            .bind(&account_id)
                            .fetch_one(&mut *c)
                            .await?;
                    // The first message is the only one: no need to read it back.
                    let recent = [RecentMessage {
                        author_name: first.author_name.clone(),
                        author_kind: first.author_kind,
                        created_us: now,
                        body: first.body.clone(),
                    }];
                    let recent = if first.automatic { &recent[..0] } else { &recent[..] };
                    let ctx = NotifyContext {
                        code: &code,
                        subject: &subject,
                        department,
                        customer_email: &email,
                        customer_name: &name,
                        language: Language::of_saved(language.as_deref()),
                        status,
                        recent,
                    };
                    if let Some(n) = ack(&ctx) {
                        queue_notification(c, ticket_id, &n, now).await?;
                    }
                    Ok(Made::New)
                })
            })
            .await?;
        let viewer = Viewer::Customer(draft.account_id);
        match made {
            Made::New => Ok(Recorded::New(
                self.ticket(viewer, code.as_str())
                    .await?
                    .ok_or(StoreError::NotFound)?,
            )),
            Made::Prior { request_hash, code } => Ok(Recorded::Prior {
                request_hash,
                ticket: self
                    .ticket(viewer, &code)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            }),
        }
    }

    async fn add_message(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        msg: NewMessage<'_>,
        idempotency: Option<IdempotencyRecord<'_>>,
        effect: impl FnOnce(Status) -> MessageEffect + Send + 'static,
        notify: impl FnOnce(&NotifyContext<'_>) -> Option<Notification> + Send + 'static,
    ) -> StoreResult<Recorded> {
        enum Added {
            /// The ticket's code and the `seq` range of what was added.
            New(String, (i64, i64)),
            Prior {
                request_hash: String,
                result: String,
            },
        }
        let owned_viewer = OwnedViewer::from(viewer);
        let code = code.to_string();
        let msg = OwnedMessage::from(&msg);
        let key = idempotency.as_ref().map(OwnedKey::from);
        let added = self
            .write(move |c| {
                Box::pin(async move {
                    // The ticket's row stays locked until commit: no other write, on any
                    // instance, changes its status between this read and the writes below.
                    let row = ticket_row_for(c, owned_viewer.as_viewer(), &code)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    lock_account(c, &row.account_id).await?;
                    let now = now_us();
                    if let Some(k) = &key {
                        if let Some((request_hash, result)) = reserve_key(c, k, now).await? {
                            return Ok(Added::Prior {
                                request_hash,
                                result,
                            });
                        }
                    }
                    let effect = effect(parse_status(&row.status)?);
                    let mut seqs = Vec::with_capacity(3);
                    if let Some(s) = effect.event_before {
                        seqs.push(insert_event(c, row.id, &msg, s, now).await?);
                    }
                    let (_, seq) =
                        insert_message(c, row.id, &row.account_id, &msg, now + 1).await?;
                    seqs.push(seq);
                    if let Some(s) = effect.event_after {
                        seqs.push(insert_event(c, row.id, &msg, s, now + 2).await?);
                    }
                    sqlx::query("UPDATE tickets SET status = $1, activity_us = $2 WHERE id = $3")
                        .bind(effect.status.as_str())
                        .bind(now)
                        .bind(row.id)
                        .execute(&mut *c)
                        .await?;
                    let range = (seqs[0], seqs[seqs.len() - 1]);
                    if let Some(k) = &key {
                        let result = format!("{} {} {}", row.code, range.0, range.1);
                        record_key_result(c, k, &result).await?;
                    }
                    if effect.notify {
                        let code = TicketCode::parse(&row.code)
                            .ok_or_else(|| anyhow::anyhow!("bad stored code"))?;
                        let recent = recent_messages(c, row.id).await?;
                        let ctx = NotifyContext {
                            code: &code,
                            subject: &row.subject,
                            department: parse_department(&row.department)?,
                            customer_email: &row.email,
                            customer_name: &row.name,
                            language: Language::of_saved(row.language.as_deref()),
                            status: effect.status,
                            recent: &recent,
                        };
                        if let Some(n) = notify(&ctx) {
                            queue_notification(c, row.id, &n, now).await?;
                        }
                    }
                    Ok(Added::New(row.code, range))
                })
            })
            .await?;
        match added {
            Added::New(code, range) => Ok(Recorded::New(
                self.ticket_part(viewer, &code, Some(range))
                    .await?
                    .ok_or(StoreError::NotFound)?,
            )),
            Added::Prior {
                request_hash,
                result,
            } => {
                let (code, range) = reply_result(&result)?;
                let ticket = self
                    .ticket_part(viewer, code, Some(range))
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Ok(Recorded::Prior {
                    request_hash,
                    ticket,
                })
            }
        }
    }

    async fn set_status(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        by: (AuthorKind, Option<&str>, &str),
        change: impl FnOnce(Status) -> Option<Status> + Send + 'static,
    ) -> StoreResult<Ticket> {
        let owned_viewer = OwnedViewer::from(viewer);
        let code = code.to_string();
        let who = OwnedMessage {
            author_kind: by.0,
            author_account_id: by.1.map(String::from),
            author_name: by.2.to_string(),
            channel: Channel::Web,
            body: String::new(),
            automatic: false,
            email_message_id: None,
            raw_email_id: None,
            upload_ids: Vec::new(),
            files: Vec::new(),
            charge: Charge::default(),
        };
        let (code, seq) = self
            .write(move |c| {
                Box::pin(async move {
                    let row = ticket_row_for(c, owned_viewer.as_viewer(), &code)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let Some(status) = change(parse_status(&row.status)?) else {
                        return Ok((row.code, None));
                    };
                    lock_account(c, &row.account_id).await?;
                    let now = now_us();
                    let seq = insert_event(c, row.id, &who, status, now).await?;
                    sqlx::query("UPDATE tickets SET status = $1, activity_us = $2 WHERE id = $3")
                        .bind(status.as_str())
                        .bind(now)
                        .bind(row.id)
                        .execute(&mut *c)
                        .await?;
                    Ok((row.code, Some(seq)))
                })
            })
            .await?;
        self.ticket_part(viewer, &code, Some(seq.map_or((1, 0), |s| (s, s))))
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn ticket(&self, viewer: Viewer<'_>, code: &str) -> StoreResult<Option<Ticket>> {
        self.ticket_part(viewer, code, None).await
    }

    async fn open_tickets_on_service(
        &self,
        account_id: &str,
        service_id: &str,
    ) -> StoreResult<Vec<TicketSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, t.code, t.subject, t.department, t.status, t.priority, t.channel, t.created_us, t.activity_us,
                    s.id AS sid, s.family, s.product, s.identifier
             FROM tickets t LEFT JOIN services s ON s.id = t.service_id
             WHERE t.account_id = $1 AND t.service_id = $2 AND t.status != 'closed'
             ORDER BY t.activity_us DESC LIMIT 5",
        )
        .bind(account_id)
        .bind(service_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }
}

impl PgStore {
    /// One ticket with the messages whose `seq` lies in `range` (all of them without one).
    async fn ticket_part(
        &self,
        viewer: Viewer<'_>,
        code: &str,
        range: Option<(i64, i64)>,
    ) -> StoreResult<Option<Ticket>> {
        let (from, to) = range.unwrap_or((i64::MIN, i64::MAX));
        let mut conn = self.pool.acquire().await?;
        let mut sql = QueryBuilder::<Postgres>::new(
            "SELECT t.id, t.code, t.subject, t.department, t.status, t.priority, t.channel, t.created_us, t.activity_us,
                    s.id AS sid, s.family, s.product, s.identifier
             FROM tickets t LEFT JOIN services s ON s.id = t.service_id WHERE t.code = ",
        );
        sql.push_bind(code.trim().to_ascii_uppercase());
        if let Viewer::Customer(account) = viewer {
            sql.push(" AND t.account_id = ").push_bind(account);
        }
        let Some(t) = sql.build().fetch_optional(&mut *conn).await? else {
            return Ok(None);
        };
        let ticket_id: i64 = t.try_get("id")?;
        let files = sqlx::query(
            "SELECT f.id, f.message_id, f.name, f.size, f.content_type
             FROM files f JOIN messages m ON m.id = f.message_id
             WHERE m.ticket_id = $1 AND m.seq BETWEEN $2 AND $3 ORDER BY f.created_us, f.id",
        )
        .bind(ticket_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let raw = sqlx::query(
            "SELECT f.id, f.name, f.size, f.content_type FROM files f
             JOIN messages m ON m.raw_email_id = f.id WHERE m.ticket_id = $1 AND m.seq BETWEEN $2 AND $3",
        )
        .bind(ticket_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let rows = sqlx::query(
            "SELECT id, kind, author_kind, author_name, channel, body, status, automatic, raw_email_id, created_us
             FROM messages WHERE ticket_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
        )
        .bind(ticket_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        ticket_from_rows(&t, &files, &raw, &rows).map(Some)
    }
}

/// Locks the account's row until the transaction ends. Every write that changes an account's
/// tickets takes it (after the ticket's own row, when there is one), so that two writes of one
/// account take the rows they share (`ticket_counts` through its trigger, `account_usage`,
/// `account_storage`) one after the other instead of in opposite orders and deadlocking.
/// `NO KEY UPDATE` leaves the rows that refer to the account free to be written meanwhile.
async fn lock_account(c: &mut PgConnection, account_id: &str) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE")
        .bind(account_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(())
}

/// The ticket the viewer may see, its row locked until the transaction ends.
async fn ticket_row_for(
    c: &mut PgConnection,
    viewer: Viewer<'_>,
    code: &str,
) -> StoreResult<Option<TicketRow>> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT t.id, t.code, t.account_id, t.subject, t.department, t.status, a.email, a.name,
                a.language
         FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.code = ",
    );
    sql.push_bind(code.trim().to_ascii_uppercase());
    if let Viewer::Customer(account) = viewer {
        sql.push(" AND t.account_id = ").push_bind(account);
    }
    sql.push(" FOR NO KEY UPDATE OF t");
    Ok(sql.build_query_as().fetch_optional(&mut *c).await?)
}

async fn recent_messages(c: &mut PgConnection, ticket_id: i64) -> StoreResult<Vec<RecentMessage>> {
    let rows = sqlx::query(
        "SELECT author_name, author_kind, created_us, body FROM messages
         WHERE ticket_id = $1 AND kind = 'message' AND NOT automatic
         ORDER BY seq DESC LIMIT $2",
    )
    .bind(ticket_id)
    .bind(RECENT_IN_NOTIFICATION)
    .fetch_all(&mut *c)
    .await?;
    recent_from_rows(&rows)
}

/// Inserts a message; answers its id and its place in the thread (`seq`).
async fn insert_message(
    c: &mut PgConnection,
    ticket_id: i64,
    ticket_account: &str,
    m: &OwnedMessage,
    now: i64,
) -> StoreResult<(String, i64)> {
    if let Some(a) = m.charge.rate {
        super::usage::take(c, ticket_account, a, now).await?;
    }
    let id = random_id();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO messages (id, ticket_id, kind, author_kind, author_account_id, author_name, channel, body, automatic, raw_email_id, email_message_id, created_us)
         VALUES ($1, $2, 'message', $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq",
    )
    .bind(&id)
    .bind(ticket_id)
    .bind(author_kind_str(m.author_kind))
    .bind(&m.author_account_id)
    .bind(&m.author_name)
    .bind(m.channel.as_str())
    .bind(&m.body)
    .bind(m.automatic)
    .bind(&m.raw_email_id)
    .bind(&m.email_message_id)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    if let Some(owner) = &m.author_account_id {
        for up in &m.upload_ids {
            let done = sqlx::query(
                "UPDATE files SET message_id = $1 WHERE id = $2 AND account_id = $3 AND message_id IS NULL AND created_us > $4",
            )
            .bind(&id)
            .bind(up)
            .bind(owner)
            .bind(now - UPLOAD_TTL_US)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::UploadUnavailable(up.clone()));
            }
        }
    } else if !m.upload_ids.is_empty() {
        return Err(StoreError::UploadUnavailable(m.upload_ids[0].clone()));
    }
    for f in &m.files {
        sqlx::query(
            "INSERT INTO files (id, account_id, message_id, name, size, content_type, created_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&f.id)
        .bind(ticket_account)
        .bind(&id)
        .bind(&f.name)
        .bind(f.size as i64)
        .bind(&f.content_type)
        .bind(now)
        .execute(&mut *c)
        .await?;
    }
    if let Some(quota) = m.charge.quota_bytes {
        super::usage::within_quota(c, ticket_account, quota).await?;
    }
    Ok((id, seq))
}

/// Inserts a status-change event; answers its `seq`.
async fn insert_event(
    c: &mut PgConnection,
    ticket_id: i64,
    by: &OwnedMessage,
    status: Status,
    now: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO messages (id, ticket_id, kind, author_kind, author_account_id, author_name, channel, body, status, created_us)
         VALUES ($1, $2, 'event', $3, $4, $5, $6, '', $7, $8) RETURNING seq",
    )
    .bind(random_id())
    .bind(ticket_id)
    .bind(author_kind_str(by.author_kind))
    .bind(&by.author_account_id)
    .bind(&by.author_name)
    .bind(by.channel.as_str())
    .bind(status.as_str())
    .bind(now)
    .fetch_one(&mut *c)
    .await?)
}

/// Reserves `k` for this write, in its transaction: the primary key `(account_id, key)` decides.
/// A second writer of the same key waits on the first's uncommitted row, and once that commits
/// finds the key taken (and reads what it made); once that rolls back, takes the key itself.
async fn reserve_key(
    c: &mut PgConnection,
    k: &OwnedKey,
    now: i64,
) -> StoreResult<Option<(String, String)>> {
    let done = sqlx::query(
        "INSERT INTO idempotency (account_id, key, request_hash, result, created_us)
         VALUES ($1, $2, $3, '', $4) ON CONFLICT (account_id, key) DO NOTHING",
    )
    .bind(&k.account_id)
    .bind(&k.key)
    .bind(&k.request_hash)
    .bind(now)
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(None);
    }
    let prior: (String, String) = sqlx::query_as(
        "SELECT request_hash, result FROM idempotency WHERE account_id = $1 AND key = $2",
    )
    .bind(&k.account_id)
    .bind(&k.key)
    .fetch_one(&mut *c)
    .await?;
    Ok(Some(prior))
}

/// Records what the write that reserved `k` made.
async fn record_key_result(c: &mut PgConnection, k: &OwnedKey, result: &str) -> StoreResult<()> {
    sqlx::query("UPDATE idempotency SET result = $1 WHERE account_id = $2 AND key = $3")
        .bind(result)
        .bind(&k.account_id)
        .bind(&k.key)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Each search word must be in the code or the subject. `ILIKE`: SQLite's `LIKE` ignores case.
fn push_word_filter(sql: &mut QueryBuilder<'_, Postgres>, words: &[String]) {
    for w in words {
        sql.push(" AND (t.code ILIKE ")
            .push_bind(w.clone())
            .push(" ESCAPE '\\' OR t.subject ILIKE ")
            .push_bind(w.clone())
            .push(" ESCAPE '\\')");
    }
}
