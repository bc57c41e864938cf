//! Databases on the throwaway PostgreSQL that `cargo xtask test` starts: `HELPDESK_TEST_PG_ADMIN`
//! is the URL of its `postgres` database. Each test gets a database of its own, copied from a
//! template migrated once per test process (`CREATE DATABASE … TEMPLATE`).
//!
//! Without the variable the PostgreSQL cases say so and pass: `cargo xtask test` always sets it,
//! so CI runs them; a bare `cargo test` on a machine without PostgreSQL still runs the rest.

use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

/// The admin URL, when a PostgreSQL is there for the tests.
pub fn admin_url() -> Option<String> {
    std::env::var("HELPDESK_TEST_PG_ADMIN")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// Whether the API suite's servers run on PostgreSQL (`HELPDESK_TEST_BACKEND=postgres`).
pub fn api_on_postgres() -> bool {
    std::env::var("HELPDESK_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

fn url_of(admin: &str, database: &str) -> String {
    let (server, _) = admin
        .rsplit_once('/')
        .expect("the admin URL names a database");
    format!("{server}/{database}")
}

fn random_name(prefix: &str) -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().gen();
    format!("{prefix}_{}_{n:016x}", std::process::id())
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The migrated template of this test process.
async fn template(admin: &str) -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = random_name("tpl");
            let mut c = PgConnection::connect(admin)
                .await
                .expect("the test PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut c)
                .await
                .expect("create the template");
            let store = helpdesk_server::storage::Store::open_with(&url_of(admin, &name), 2)
                .await
                .expect("the template migrates");
            store.close().await;
            name
        })
        .await
        .clone()
}

/// The URL of a new, migrated, empty database; `None` without a test PostgreSQL.
pub async fn fresh_database() -> Option<String> {
    let admin = admin_url()?;
    let template = template(&admin).await;
    let name = random_name("t");
    let mut c = PgConnection::connect(&admin)
        .await
        .expect("the test PostgreSQL");
    // Copies from one template may collide for a moment ("being accessed by other users").
    for attempt in 0.. {
        match sqlx::query(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .execute(&mut c)
        .await
        {
            Ok(_) => break,
            Err(e) if attempt < 50 => {
                eprintln!("retrying CREATE DATABASE: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("CREATE DATABASE {name}: {e}"),
        }
    }
    Some(url_of(&admin, &name))
}
