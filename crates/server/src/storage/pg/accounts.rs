//! AccountStore on PostgreSQL.

use super::*;
use crate::storage::accounts::{account_row_from, role_str, services_from_rows};

impl AccountStore for PgStore {
    async fn upsert_account(&self, a: &ImportAccount) -> StoreResult<String> {
        let email = crate::util::normalise_email(&a.email);
        let a = a.clone();
        self.write(move |tx| {
            Box::pin(async move {
                // Locked: an import racing this one changes the account after it, and compares
                // its password hash with this one's.
                let existing: Option<(String, String)> = sqlx::query_as(
                    "SELECT id, password_hash FROM accounts WHERE email = $1 FOR UPDATE",
                )
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?;
                let id = match existing {
                    Some((id, old_hash)) => {
                        // A new password ends every session and forgets every browser of the
                        // account: a panel resets a password because it may be known to someone
                        // else.
                        if old_hash != a.password_hash {
                            for table in ["sessions", "login_devices"] {
                                sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                                    .bind(&id)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                        }
                        sqlx::query(
                            "UPDATE accounts SET name = $1, language = COALESCE($2, language),
                               role = $3, password_hash = $4
                             WHERE id = $5",
                        )
                        .bind(&a.name)
                        .bind(&a.language)
                        .bind(role_str(a.role))
                        .bind(&a.password_hash)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                    None => {
                        let id = random_id();
                        sqlx::query(
                            "INSERT INTO accounts (id, email, name, language, role, password_hash, created_us)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(&id)
                        .bind(&email)
                        .bind(&a.name)
                        .bind(&a.language)
                        .bind(role_str(a.role))
                        .bind(&a.password_hash)
                        .bind(now_us())
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                };
                for s in &a.services {
                    sqlx::query(
                        "INSERT INTO services (id, account_id, external_id, family, product, identifier, status)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (account_id, external_id) DO UPDATE SET
                           family = excluded.family, product = excluded.product,
                           identifier = excluded.identifier, status = excluded.status",
                    )
                    .bind(random_id())
                    .bind(&id)
                    .bind(&s.id)
                    .bind(s.family.as_str())
                    .bind(&s.product)
                    .bind(&s.identifier)
                    .bind(s.status.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                Ok(id)
            })
        })
        .await
    }

    async fn set_language(
        &self,
        account_id: &str,
        language: Option<Language>,
    ) -> StoreResult<Option<Customer>> {
        let id = account_id.to_string();
        self.write(move |c| {
            Box::pin(async move {
                let row = sqlx::query(
                    "UPDATE accounts SET language = $1 WHERE id = $2
                     RETURNING id, email, name, language, role",
                )
                .bind(language.map(Language::code))
                .bind(&id)
                .fetch_optional(&mut *c)
                .await?;
                row.map(|r| customer_from_row(&r)).transpose()
            })
        })
        .await
    }

    async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountRow>> {
        let row = sqlx::query(
            "SELECT id, email, name, language, role, password_hash FROM accounts WHERE email = $1",
        )
        .bind(crate::util::normalise_email(email))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| account_row_from(&r)).transpose()
    }

    async fn account(&self, id: &str) -> StoreResult<Option<Customer>> {
        let row = sqlx::query("SELECT id, email, name, language, role FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| customer_from_row(&r)).transpose()
    }

    async fn services(&self, account_id: &str) -> StoreResult<Vec<Service>> {
        let rows = sqlx::query(
            "SELECT id, external_id, family, product, identifier, status FROM services
             WHERE account_id = $1 ORDER BY family, product, identifier",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        services_from_rows(&rows)
    }
}
