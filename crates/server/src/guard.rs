//! What stands between a login attempt and a password check: who the client is (behind trusted
//! proxies), a bounded pool of password checks with a share per client, throttles that count an
//! attempt in the same step that admits it, and device cookies that keep a customer's own browser
//! out of lockouts caused by others (OWASP's "device cookies").

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::storage::{AttemptStore, StoreResult};

/// The address of the client: the TCP peer, or, when the peer is a trusted proxy, the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy. A client can write
/// anything into that header, so only what our own proxies appended is believed.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A malformed hop ends what can be believed: the last good one stands.
            Err(_) => break,
        }
    }
    client
}

/// The client's address as a handler argument, resolved through the configured trusted proxies.
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<crate::state::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(ClientIp(client_ip(
            peer,
            forwarded,
            &state.config.trusted_proxies,
        )))
    }
}

/// `HELPDESK_TRUSTED_PROXIES`: addresses or networks, separated by commas or spaces.
pub fn parse_trusted_proxies(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("HELPDESK_TRUSTED_PROXIES: {s:?} is not an address or network")
                })
        })
        .collect()
}

/// A bounded pool of password checks. Each check of argon2id allocates about 19 MiB, so the
/// pool is what bounds the server's memory under a login flood; the share per client keeps one
/// client from taking every slot. An attempt that finds no room is refused at once (the caller
/// answers 429 with `Retry-After`) instead of queueing, and it is not counted as a failure.
pub struct CheckPool {
    slots: Arc<Semaphore>,
    per_client: usize,
    in_flight: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// A slot in the pool; dropping it gives the slot back.
pub struct CheckSlot {
    _permit: OwnedSemaphorePermit,
    client: IpAddr,
    in_flight: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for CheckSlot {
    fn drop(&mut self) {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

impl CheckPool {
    pub fn new(size: usize, per_client: usize) -> Self {
        CheckPool {
            slots: Arc::new(Semaphore::new(size.max(1))),
            per_client: per_client.clamp(1, size.max(1)),
            in_flight: Arc::default(),
        }
    }

    /// A slot for this client, or `None` when the pool or the client's share is full.
    pub fn try_enter(&self, client: IpAddr) -> Option<CheckSlot> {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let mine = map.get(&client).copied().unwrap_or(0);
        if mine >= self.per_client {
            return None;
        }
        let permit = Arc::clone(&self.slots).try_acquire_owned().ok()?;
        map.insert(client, mine + 1);
        Some(CheckSlot {
            _permit: permit,
            client,
            in_flight: Arc::clone(&self.in_flight),
        })
    }
}

/// Attempts per key (an account, a client address, a device) in a fixed window, counted in the
/// database (`storage::AttemptStore`) so that every instance on it sees the same count. An
/// attempt is counted when it is admitted, before its password is checked, so parallel attempts
/// cannot all pass a check that the failures of the others would have closed; a success gives its
/// count back.
pub struct Throttle {
    window: Duration,
    max_attempts: u32,
}

/// An admitted attempt: how many more the key may make in this window (if this one fails), and
/// in how many seconds the window ends, which is how long a lock reached in it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    pub left: u32,
    pub resets_in: u64,
}

impl Throttle {
    pub fn new(max_attempts: u32, window: Duration) -> Self {
        Throttle {
            window,
            max_attempts,
        }
    }

    fn window_us(&self) -> i64 {
        i64::try_from(self.window.as_micros()).unwrap_or(i64::MAX)
    }

    /// Seconds until the window that began at `start` ends (at least 1).
    fn wait(&self, start: i64, now: i64) -> u64 {
        let left = (start + self.window_us() - now).max(0) as u64;
        left.div_ceil(1_000_000).max(1)
    }

    /// Admits and counts one attempt, or says how many seconds to wait.
    pub async fn admit(
        &self,
        store: &impl AttemptStore,
        key: &str,
    ) -> StoreResult<Result<Admitted, u64>> {
        let now = crate::util::now_us();
        let (attempts, start) = store.count_attempt(key, self.window_us(), now).await?;
        if attempts > i64::from(self.max_attempts) {
            return Ok(Err(self.wait(start, now)));
        }
        // Now and then, windows long over are forgotten.
        if rand::random::<u8>() == 0 {
            store.sweep_attempts(now - self.window_us()).await?;
        }
        let left = i64::from(self.max_attempts) - attempts;
        Ok(Ok(Admitted {
            left: u32::try_from(left).unwrap_or(0),
            resets_in: self.wait(start, now),
        }))
    }

    /// Whether the key is locked now, without counting anything.
    pub async fn locked(&self, store: &impl AttemptStore, key: &str) -> StoreResult<Option<u64>> {
        let now = crate::util::now_us();
        Ok(store.attempts(key).await?.and_then(|(attempts, start)| {
            (attempts >= i64::from(self.max_attempts) && start > now - self.window_us())
                .then(|| self.wait(start, now))
        }))
    }

    /// Gives back one admitted attempt that turned out not to be a failure.
    pub async fn give_back(&self, store: &impl AttemptStore, key: &str) -> StoreResult<()> {
        store.give_back_attempt(key).await
    }

    pub async fn clear(&self, store: &impl AttemptStore, key: &str) -> StoreResult<()> {
        store.clear_attempts(key).await
    }
}

/// The name of the device cookie, set on a successful login on the helpdesk's own page.
pub const DEVICE_COOKIE: &str = "hd_device";
/// How long a browser stays known after its last successful login.
pub const DEVICE_TTL: Duration = Duration::from_secs(180 * 24 * 3600);

/// The device cookie's value in a `Cookie` header, if well formed (our tokens are 43 URL-safe
/// base64 characters).
pub fn device_cookie(cookie_header: Option<&str>) -> Option<&str> {
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The `Set-Cookie` value that remembers this browser: HttpOnly (no script reads it), sent only
/// to the login call, and SameSite=Strict (another site cannot make a browser send it).
pub fn device_set_cookie(token: &str, base_path: &str, secure: bool) -> String {
    format!(
        "{DEVICE_COOKIE}={token}; Max-Age={}; Path={base_path}/api/v1/session; HttpOnly; SameSite=Strict{}",
        DEVICE_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = parse_trusted_proxies("10.0.0.0/8, 127.0.0.1").unwrap();
        // A client that is not a proxy cannot choose its address.
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        // Behind our proxy, the right-most untrusted hop is the client; what the client itself
        // wrote further left is ignored.
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                Some("6.6.6.6, 198.51.100.7, 10.1.2.3"),
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(client_ip(ip("127.0.0.1"), None, &trusted), ip("127.0.0.1"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("garbage, 198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("198.51.100.7, garbage"), &trusted),
            ip("127.0.0.1")
        );
        assert!(parse_trusted_proxies("not-an-ip").is_err());
        assert!(parse_trusted_proxies("").unwrap().is_empty());
    }

    #[test]
    fn the_pool_refuses_beyond_its_size_and_beyond_a_clients_share() {
        let pool = CheckPool::new(3, 2);
        let a = ip("127.0.0.1");
        let b = ip("127.0.0.2");
        let a1 = pool.try_enter(a).unwrap();
        let _a2 = pool.try_enter(a).unwrap();
        assert!(pool.try_enter(a).is_none(), "a client's share is 2");
        let _b1 = pool.try_enter(b).unwrap();
        assert!(pool.try_enter(b).is_none(), "the pool holds 3");
        drop(a1);
        assert!(
            pool.try_enter(a).is_some(),
            "a slot given back is free again"
        );
    }

    #[tokio::test]
    async fn the_throttle_counts_an_attempt_when_it_admits_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = crate::storage::Store::open(&url).await.unwrap();
        let t = Throttle::new(3, Duration::from_secs(60));
        for left in [2, 1, 0] {
            let admitted = t.admit(&store, "k").await.unwrap().unwrap();
            assert_eq!(admitted.left, left);
            assert!((1..=60).contains(&admitted.resets_in), "{admitted:?}");
        }
        let wait = t.admit(&store, "k").await.unwrap().unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(t.locked(&store, "k").await.unwrap().is_some());
        assert!(t.locked(&store, "other").await.unwrap().is_none());
        t.clear(&store, "k").await.unwrap();
        assert!(t.locked(&store, "k").await.unwrap().is_none());
        assert!(t.admit(&store, "k").await.unwrap().is_ok());
        t.give_back(&store, "k").await.unwrap();
        for _ in 0..3 {
            assert!(
                t.admit(&store, "k").await.unwrap().is_ok(),
                "a success gave its count back"
            );
        }
        store.close().await;
    }

    #[test]
    fn only_a_well_formed_device_cookie_is_read() {
        let token = "A".repeat(43);
        let header = format!("theme=dark; {DEVICE_COOKIE}={token}; other=1");
        assert_eq!(device_cookie(Some(&header)), Some(token.as_str()));
        assert_eq!(device_cookie(Some("hd_device=short")), None);
        assert_eq!(device_cookie(None), None);
        let set = device_set_cookie(&token, "/PanelNML", true);
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure")
        );
        assert!(set.contains("Path=/PanelNML/api/v1/session"));
    }
}
