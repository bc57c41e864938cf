//! Accounts (customers and staff, imported from the panel) and their services.
//!
//! One text of the operations serves SQLite and PostgreSQL (`account_store!`, instantiated here and
//! in `pg/accounts.rs`); what varies by backend (the row lock of an import and the session cache)
//! is named at the macro.

use super::*;
use crate::texts::Language;

/// An account with what is needed to check its password.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub customer: Customer,
    pub password_hash: String,
}

/// One account as the control panel exports it (or as the demo seeds it).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportAccount {
    pub email: String,
    pub name: String,
    /// `it` or `en` when the panel knows it; left out, a new account has none (Italian then) and
    /// an existing one keeps what it has.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default = "default_role")]
    pub role: Role,
    /// argon2id (PHC string) or bcrypt (`$2y$…`), as the panel stores it.
    pub password_hash: String,
    #[serde(default)]
    pub services: Vec<ImportService>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportService {
    /// The panel's own id for this service: the key for a repeated import.
    pub id: String,
    pub family: ServiceFamily,
    pub product: String,
    pub identifier: String,
    #[serde(default = "default_service_status")]
    pub status: ServiceStatus,
}

fn default_role() -> Role {
    Role::Customer
}

fn default_service_status() -> ServiceStatus {
    ServiceStatus::Active
}

pub(super) fn role_str(r: Role) -> &'static str {
    match r {
        Role::Customer => "customer",
        Role::Staff => "staff",
    }
}

pub(super) fn customer_from_row<R>(r: &R) -> StoreResult<Customer>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Customer {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        language: r.try_get("language")?,
        time_zone: r
            .try_get::<Option<String>, _>("time_zone")?
            .unwrap_or_else(|| helpdesk_core::api::DEFAULT_TIME_ZONE.to_string()),
        role: column(r, "role", Role::parse)?,
    })
}

/// An account with its password hash, from a row with `customer_from_row`'s columns and
/// `password_hash`.
pub(super) fn account_row_from<R>(r: &R) -> StoreResult<AccountRow>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(AccountRow {
        customer: customer_from_row(r)?,
        password_hash: r.try_get("password_hash")?,
    })
}

/// An account's services from the rows of `services`, in the order of their family (the enum's,
/// not its name's), product and identifier.
pub(super) fn services_from_rows<R>(rows: &[R]) -> StoreResult<Vec<Service>>
where
    R: Row,
    for<'n> &'n str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut items: Vec<Service> = rows
        .iter()
        .map(|r| {
            Ok(Service {
                panel_id: Some(r.try_get("external_id")?),
                id: r.try_get("id")?,
                family: column(r, "family", ServiceFamily::parse)?,
                product: r.try_get("product")?,
                identifier: r.try_get("identifier")?,
                status: column(r, "status", ServiceStatus::parse)?,
            })
        })
        .collect::<StoreResult<_>>()?;
    items.sort_by(|a, b| {
        (a.family, &a.product, &a.identifier).cmp(&(b.family, &b.product, &b.identifier))
    });
    Ok(items)
}

/// Customers, their services and their language, as imported from the panel.
pub trait AccountStore {
    /// Inserts or updates an account by e-mail, and its services by the panel's id.
    fn upsert_account(&self, a: &ImportAccount)
        -> impl Future<Output = StoreResult<String>> + Send;
    /// Saves (or, with `None`, clears) the language an account chose; the account as it is now,
    /// `None` when there is no such account. Its cached sessions see the change at once.
    fn set_language(
        &self,
        account_id: &str,
        language: Option<Language>,
    ) -> impl Future<Output = StoreResult<Option<Customer>>> + Send;
    /// Saves (or, with `None`, clears) the IANA time zone of an account's e-mails, a name the
    /// caller checked; the account as it is now, `None` when there is no such account. Its cached
    /// sessions see the change at once.
    fn set_time_zone(
        &self,
        account_id: &str,
        time_zone: Option<&str>,
    ) -> impl Future<Output = StoreResult<Option<Customer>>> + Send;
    /// The account with this e-mail (normalised as stored), with its password hash.
    fn account_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = StoreResult<Option<AccountRow>>> + Send;
    /// A customer or staff member by id.
    fn account(&self, id: &str) -> impl Future<Output = StoreResult<Option<Customer>>> + Send;
    /// The customer's services, as the panel last exported them.
    fn services(&self, account_id: &str) -> impl Future<Output = StoreResult<Vec<Service>>> + Send;
}

/// The shared operations, one text for both backends (`account_store!`, instantiated here and in
/// `pg/accounts.rs`). What varies by backend are items each backend's module defines and that
/// text names: `FOR_UPDATE` locks the account an import changes on PostgreSQL (SQLite's single
/// writer needs no lock), and `forget_cached_account` drops SQLite's cached sessions of a changed
/// account (PostgreSQL caches none).
macro_rules! account_store {
    ($Store:ty) => {
        /// Sets one of the account's own settings (`column`, a name of ours, never input) and
        /// answers the account as it now is; the cached sessions carry it, so they read it again.
        async fn set_account_column(
            store: &$Store,
            account_id: &str,
            column: &'static str,
            value: Option<String>,
        ) -> StoreResult<Option<Customer>> {
            let id = account_id.to_string();
            let updated = store
                .write(move |c| {
                    Box::pin(async move {
                        let row = sqlx::query(&format!(
                            "UPDATE accounts SET {column} = $1 WHERE id = $2
                             RETURNING id, email, name, language, time_zone, role"
                        ))
                        .bind(&value)
                        .bind(&id)
                        .fetch_optional(&mut *c)
                        .await?;
                        row.map(|r| customer_from_row(&r)).transpose()
                    })
                })
                .await?;
            store.forget_cached_account(account_id);
            Ok(updated)
        }

        impl AccountStore for $Store {
            async fn upsert_account(&self, a: &ImportAccount) -> StoreResult<String> {
                let email = crate::util::normalise_email(&a.email);
                let a = a.clone();
                let id = self.write(move |tx| {
                    Box::pin(async move {
                        // Locked where rows are (`FOR_UPDATE`): an import racing this one changes the
                        // account after it, and compares its password hash with this one's.
                        let existing: Option<(String, String)> = sqlx::query_as(&format!(
                            "SELECT id, password_hash FROM accounts WHERE email = $1{FOR_UPDATE}",
                        ))
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
                .await?;
                // Cached sessions carry the account's name and role: an import changes them at once.
                self.forget_cached_account(&id);
                Ok(id)
            }

            async fn set_language(
                &self,
                account_id: &str,
                language: Option<crate::texts::Language>,
            ) -> StoreResult<Option<Customer>> {
                let code = language.map(|l| l.code().to_string());
                set_account_column(self, account_id, "language", code).await
            }

            async fn set_time_zone(
                &self,
                account_id: &str,
                time_zone: Option<&str>,
            ) -> StoreResult<Option<Customer>> {
                set_account_column(self, account_id, "time_zone", time_zone.map(str::to_string))
                    .await
            }

            async fn account_by_email(&self, email: &str) -> StoreResult<Option<AccountRow>> {
                let row = sqlx::query(
                    "SELECT id, email, name, language, time_zone, role, password_hash FROM accounts WHERE email = $1",
                )
                .bind(crate::util::normalise_email(email))
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| account_row_from(&r)).transpose()
            }

            async fn account(&self, id: &str) -> StoreResult<Option<Customer>> {
                let row = sqlx::query("SELECT id, email, name, language, time_zone, role FROM accounts WHERE id = $1")
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
    };
}
pub(super) use account_store;

/// SQLite's single writer keeps writes apart: nothing to lock.
const FOR_UPDATE: &str = "";

account_store!(SqliteStore);
