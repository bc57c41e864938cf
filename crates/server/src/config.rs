//! Configuration from `HELPDESK_*` environment variables, with defaults that are safe.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// At most this many connections to PostgreSQL (`HELPDESK_DATABASE_POOL`; SQLite keeps its own).
    pub database_pool: u32,
    pub app_dir: PathBuf,
    /// "" for the root, or "/PanelNML": never a trailing slash.
    pub base_path: String,
    pub demo: bool,
    pub password_reset_url: String,
    /// Origins allowed to frame the app (CSP `frame-ancestors`), e.g. the control panel's.
    pub frame_ancestors: String,
    pub public_url: String,
    pub max_upload_bytes: u64,
    pub smtp_bind: Option<SocketAddr>,
    pub smtp_relay: Option<String>,
    pub mail_tech: String,
    pub mail_sales: String,
    pub mail_domain: String,
    pub mail_require_auth: bool,
    pub mail_authserv_id: String,
    /// Days the raw mail of refused messages is kept (`HELPDESK_MAIL_RAW_RETENTION_DAYS`).
    pub mail_raw_retention_days: u32,
    /// Session lifetime without activity, and in all.
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    /// Proxies whose `X-Forwarded-For` is believed (`HELPDESK_TRUSTED_PROXIES`); none by default.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Password checks that may run at once (`HELPDESK_LOGIN_CHECKS`), each about 19 MiB.
    pub login_checks: usize,
    /// Sign-on from the panel (`HELPDESK_SSO_SECRET`, `_PREVIOUS`, `HELPDESK_SSO_ISSUER`); without
    /// a secret every token is refused.
    pub sso: crate::sso::SsoConfig,
    /// A failed login is answered no sooner than this after it arrived, so that the cost of the
    /// stored hash (argon2id or an imported bcrypt) does not tell which e-mails are customers.
    pub login_failure_floor: std::time::Duration,
    /// How long a kept-alive HTTP connection may wait for its next request
    /// (`HELPDESK_HTTP_IDLE_TIMEOUT`, seconds): longer than a proxy's idle upstream timeout.
    pub http_idle_timeout: std::time::Duration,
    /// Most HTTP connections open at once (`HELPDESK_HTTP_MAX_CONNECTIONS`); by default taken
    /// from the open-file limit.
    pub http_max_connections: Option<usize>,
    /// Live event streams (`GET /api/v1/events`) open at once per customer
    /// (`HELPDESK_EVENTS_PER_CUSTOMER`) and in all (`HELPDESK_EVENTS_MAX`); past either, 429.
    pub events_per_customer: usize,
    pub events_max: usize,
    /// The demo control panel's address (`HELPDESK_DEMO_PANEL_BIND`), served in demo mode only;
    /// off unless set (`cargo xtask run` sets it).
    pub demo_panel_bind: Option<SocketAddr>,
    /// Limits per account and the disk's free-space floor.
    pub limits: AccountLimits,
}

/// At most `max` uses in `window` (`max` 0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u64,
    pub window: std::time::Duration,
}

/// Limits per account (staff have none), and the free space new uploads leave on the disk.
/// Defaults that no honest customer meets during an outage; each `0` turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLimits {
    /// New tickets (`HELPDESK_RATE_TICKETS`, per `HELPDESK_RATE_TICKETS_WINDOW` seconds).
    pub tickets: RateLimit,
    /// Replies (`HELPDESK_RATE_REPLIES`, per `HELPDESK_RATE_REPLIES_WINDOW` seconds).
    pub replies: RateLimit,
    /// Bytes uploaded (`HELPDESK_RATE_UPLOAD_BYTES`, per `HELPDESK_RATE_UPLOAD_BYTES_WINDOW`).
    pub upload_bytes: RateLimit,
    /// Bytes kept stored per account: attachments and raw e-mail (`HELPDESK_QUOTA_BYTES`).
    pub quota_bytes: u64,
    /// Uploads are refused while the data folder's disk has less free (`HELPDESK_MIN_FREE_BYTES`).
    pub min_free_bytes: u64,
}

impl Default for AccountLimits {
    fn default() -> Self {
        use std::time::Duration;
        AccountLimits {
            tickets: RateLimit {
                max: 20,
                window: Duration::from_secs(600),
            },
            replies: RateLimit {
                max: 60,
                window: Duration::from_secs(600),
            },
            upload_bytes: RateLimit {
                max: 100 << 20,
                window: Duration::from_secs(3600),
            },
            quota_bytes: 2 << 30,
            min_free_bytes: 1 << 30,
        }
    }
}

impl AccountLimits {
    fn from_env() -> Result<Self, String> {
        let d = AccountLimits::default();
        let rate = |name: &str, d: RateLimit| -> Result<RateLimit, String> {
            let window = number(
                &format!("{name}_WINDOW"),
                d.window.as_secs(),
                1..=7 * 86_400,
            )?;
            Ok(RateLimit {
                max: number(name, d.max, 0..=u64::MAX)?,
                window: std::time::Duration::from_secs(window),
            })
        };
        Ok(AccountLimits {
            tickets: rate("HELPDESK_RATE_TICKETS", d.tickets)?,
            replies: rate("HELPDESK_RATE_REPLIES", d.replies)?,
            upload_bytes: rate("HELPDESK_RATE_UPLOAD_BYTES", d.upload_bytes)?,
            quota_bytes: number("HELPDESK_QUOTA_BYTES", d.quota_bytes, 0..=u64::MAX)?,
            min_free_bytes: number("HELPDESK_MIN_FREE_BYTES", d.min_free_bytes, 0..=u64::MAX)?,
        })
    }

    /// Every limit off (benchmarks that measure the server, not the customers' limits).
    pub fn off() -> Self {
        let off = |r: RateLimit| RateLimit { max: 0, ..r };
        let d = AccountLimits::default();
        AccountLimits {
            tickets: off(d.tickets),
            replies: off(d.replies),
            upload_bytes: off(d.upload_bytes),
            quota_bytes: 0,
            min_free_bytes: 0,
        }
    }
}

/// A whole number from the environment, within `range`, or `default` when unset.
fn number(name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                format!(
                    "{name}: {v:?} is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                )
            }),
    }
}

/// Four argon2id checks at once: about 76 MiB at most, and two cores kept busy.
pub const DEFAULT_LOGIN_CHECKS: usize = 4;
/// Live event streams per customer (a few tabs and devices) and in all: each holds a connection.
pub const DEFAULT_EVENTS_PER_CUSTOMER: usize = 6;
pub const DEFAULT_EVENTS_MAX: usize = 2_000;
/// Above the slowest check measured here (a bcrypt hash of cost 10: 113 ms; argon2id: 38 ms),
/// with room for a loaded machine.
pub const DEFAULT_LOGIN_FAILURE_FLOOR: std::time::Duration = std::time::Duration::from_millis(400);

/// Above nginx's 60 s idle upstream keep-alive (and its own 75 s default), so that a proxy in
/// front never sends a request on a connection the server has just closed.
pub const DEFAULT_HTTP_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(75);

/// Refused e-mails are kept as received for a month, for staff looking into them.
pub const DEFAULT_MAIL_RAW_RETENTION_DAYS: u32 = 30;

pub const DEFAULT_SSO_ISSUER: &str = "panel.newmedialabs.it";

fn sso_from_env() -> Result<crate::sso::SsoConfig, String> {
    let mut secrets = Vec::new();
    for name in ["HELPDESK_SSO_SECRET", "HELPDESK_SSO_SECRET_PREVIOUS"] {
        if let Some(s) = std::env::var(name).ok().filter(|s| !s.is_empty()) {
            if s.len() < crate::sso::MIN_SECRET_BYTES {
                return Err(format!(
                    "{name}: at least {} bytes, please",
                    crate::sso::MIN_SECRET_BYTES
                ));
            }
            secrets.push(s.into_bytes());
        }
    }
    Ok(crate::sso::SsoConfig {
        secrets,
        issuer: var("HELPDESK_SSO_ISSUER").unwrap_or_else(|| DEFAULT_SSO_ISSUER.into()),
    })
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn flag(name: &str, default: bool) -> Result<bool, String> {
    match var(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(format!("{name}: expected 1 or 0, got {other:?}")),
    }
}

/// "/", "", "PanelNML/", "/PanelNML" → "" or "/PanelNML".
pub fn normalise_base_path(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let ok = trimmed.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
    });
    if !ok {
        return Err(format!(
            "HELPDESK_BASE_PATH: {raw:?} is not a plain URL path"
        ));
    }
    Ok(format!("/{trimmed}"))
}

/// Connections to PostgreSQL per instance by default: two instances, the staff tools and the
/// tests' servers fit in a PostgreSQL of 100 connections.
pub const DEFAULT_DATABASE_POOL: u32 = 16;

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let data_dir = PathBuf::from(var("HELPDESK_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("HELPDESK_DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("helpdesk.db").display()));
        let database_pool = match var("HELPDESK_DATABASE_POOL") {
            Some(v) => v.trim().parse().ok().filter(|n| *n >= 2).ok_or_else(|| {
                format!("HELPDESK_DATABASE_POOL: {v:?} is not a number of at least 2")
            })?,
            None => DEFAULT_DATABASE_POOL,
        };
        let bind = var("HELPDESK_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|e| format!("HELPDESK_BIND: {e}"))?;
        let smtp_bind = match var("HELPDESK_SMTP_BIND").as_deref() {
            Some("off") => None,
            Some(v) => Some(v.parse().map_err(|e| format!("HELPDESK_SMTP_BIND: {e}"))?),
            None => Some(SocketAddr::from(([127, 0, 0, 1], 2525))),
        };
        let base_path = normalise_base_path(&var("HELPDESK_BASE_PATH").unwrap_or_default())?;
        let max_upload_bytes = match var("HELPDESK_MAX_UPLOAD_BYTES") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|e| format!("HELPDESK_MAX_UPLOAD_BYTES: {e}"))?,
            None => helpdesk_core::limits::DEFAULT_MAX_UPLOAD_BYTES,
        };
        let public_url = var("HELPDESK_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}{base_path}"))
            .trim_end_matches('/')
            .to_string();
        Ok(Config {
            bind,
            database_url,
            database_pool,
            app_dir: PathBuf::from(var("HELPDESK_APP_DIR").unwrap_or_else(|| "dist".into())),
            base_path,
            demo: flag("HELPDESK_DEMO", false)?,
            password_reset_url: var("HELPDESK_PASSWORD_RESET_URL")
                .unwrap_or_else(|| "https://panel.newmedialabs.it/password-dimenticata".into()),
            frame_ancestors: var("HELPDESK_FRAME_ANCESTORS")
                .unwrap_or_else(|| "'self' https://panel.newmedialabs.it".into()),
            public_url,
            max_upload_bytes,
            smtp_bind,
            smtp_relay: var("HELPDESK_SMTP_RELAY"),
            mail_tech: var("HELPDESK_MAIL_TECH")
                .unwrap_or_else(|| "hd@smacloud.it".into())
                .to_lowercase(),
            mail_sales: var("HELPDESK_MAIL_SALES")
                .unwrap_or_else(|| "sales@smacloud.it".into())
                .to_lowercase(),
            mail_domain: var("HELPDESK_MAIL_DOMAIN")
                .unwrap_or_else(|| "helpdesk.smacloud.it".into()),
            mail_require_auth: flag("HELPDESK_MAIL_REQUIRE_AUTH", true)?,
            mail_authserv_id: var("HELPDESK_MAIL_AUTHSERV_ID")
                .unwrap_or_else(|| "mx.smacloud.it".into()),
            mail_raw_retention_days: match var("HELPDESK_MAIL_RAW_RETENTION_DAYS") {
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (1..=3650).contains(d))
                    .ok_or_else(|| {
                        format!("HELPDESK_MAIL_RAW_RETENTION_DAYS: {v:?} is not 1 to 3650 days")
                    })?,
                None => DEFAULT_MAIL_RAW_RETENTION_DAYS,
            },
            session_idle_secs: 8 * 3600,
            session_absolute_secs: 7 * 24 * 3600,
            trusted_proxies: crate::guard::parse_trusted_proxies(
                &var("HELPDESK_TRUSTED_PROXIES").unwrap_or_default(),
            )?,
            sso: sso_from_env()?,
            login_checks: match var("HELPDESK_LOGIN_CHECKS") {
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or_else(|| format!("HELPDESK_LOGIN_CHECKS: {v:?} is not 1 to 256"))?,
                None => DEFAULT_LOGIN_CHECKS,
            },
            login_failure_floor: DEFAULT_LOGIN_FAILURE_FLOOR,
            http_idle_timeout: match var("HELPDESK_HTTP_IDLE_TIMEOUT") {
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=3600).contains(n))
                    .map(std::time::Duration::from_secs)
                    .ok_or_else(|| {
                        format!("HELPDESK_HTTP_IDLE_TIMEOUT: {v:?} is not 1 to 3600 seconds")
                    })?,
                None => DEFAULT_HTTP_IDLE_TIMEOUT,
            },
            http_max_connections: match var("HELPDESK_HTTP_MAX_CONNECTIONS") {
                Some(v) => Some(
                    v.trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=100_000).contains(n))
                        .ok_or_else(|| {
                            format!("HELPDESK_HTTP_MAX_CONNECTIONS: {v:?} is not 1 to 100000")
                        })?,
                ),
                None => None,
            },
            events_per_customer: match var("HELPDESK_EVENTS_PER_CUSTOMER") {
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        format!("HELPDESK_EVENTS_PER_CUSTOMER: {v:?} is not 1 to 100")
                    })?,
                None => DEFAULT_EVENTS_PER_CUSTOMER,
            },
            events_max: match var("HELPDESK_EVENTS_MAX") {
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| format!("HELPDESK_EVENTS_MAX: {v:?} is not 1 to 100000"))?,
                None => DEFAULT_EVENTS_MAX,
            },
            demo_panel_bind: match var("HELPDESK_DEMO_PANEL_BIND") {
                Some(v) => Some(v.trim().parse::<SocketAddr>().map_err(|_| {
                    format!("HELPDESK_DEMO_PANEL_BIND: {v:?} is not an address like 127.0.0.1:8081")
                })?),
                None => None,
            },
            limits: AccountLimits::from_env()?,
            data_dir,
        })
    }

    /// A configuration for tests: everything under `data_dir`, ports chosen by the OS.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: format!("sqlite://{}", data_dir.join("helpdesk.db").display()),
            database_pool: DEFAULT_DATABASE_POOL,
            app_dir: data_dir.join("no-app"),
            base_path: String::new(),
            demo: false,
            password_reset_url: "https://panel.example/reset".into(),
            frame_ancestors: "'self'".into(),
            public_url: "http://127.0.0.1".into(),
            max_upload_bytes: helpdesk_core::limits::DEFAULT_MAX_UPLOAD_BYTES,
            smtp_bind: None,
            smtp_relay: None,
            mail_tech: "hd@smacloud.it".into(),
            mail_sales: "sales@smacloud.it".into(),
            mail_domain: "helpdesk.smacloud.it".into(),
            mail_require_auth: true,
            mail_authserv_id: "mx.smacloud.it".into(),
            mail_raw_retention_days: DEFAULT_MAIL_RAW_RETENTION_DAYS,
            session_idle_secs: 8 * 3600,
            session_absolute_secs: 7 * 24 * 3600,
            trusted_proxies: Vec::new(),
            login_checks: DEFAULT_LOGIN_CHECKS,
            sso: crate::sso::SsoConfig {
                secrets: Vec::new(),
                issuer: DEFAULT_SSO_ISSUER.into(),
            },
            login_failure_floor: DEFAULT_LOGIN_FAILURE_FLOOR,
            http_idle_timeout: DEFAULT_HTTP_IDLE_TIMEOUT,
            http_max_connections: None,
            events_per_customer: DEFAULT_EVENTS_PER_CUSTOMER,
            events_max: DEFAULT_EVENTS_MAX,
            demo_panel_bind: None,
            limits: AccountLimits::default(),
            data_dir,
        }
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_base_path;

    #[test]
    fn base_paths_are_normalised_without_trailing_slash() {
        assert_eq!(normalise_base_path("/").unwrap(), "");
        assert_eq!(normalise_base_path("").unwrap(), "");
        assert_eq!(normalise_base_path("PanelNML/").unwrap(), "/PanelNML");
        assert_eq!(normalise_base_path("/a/b").unwrap(), "/a/b");
        assert!(normalise_base_path("/../x").is_err());
        assert!(normalise_base_path("/a b").is_err());
        assert!(normalise_base_path("/a\"><script>").is_err());
    }
}
