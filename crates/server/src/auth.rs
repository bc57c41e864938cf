//! Passwords, login throttling, and the extractors that make a handler authenticated by type.

use crate::error::ApiError;
use crate::state::AppState;
use crate::util::{now_us, sha256_hex};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use helpdesk_core::api::{Customer, Role};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An argon2id hash for a new password (staff accounts, demo data).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))
}

/// Verifies argon2 (PHC) and bcrypt (`$2a$`, `$2b$`, `$2y$`) hashes, as the panel may hold either.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if stored.starts_with("$2") {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Failed logins per key (account, client address) in a sliding window.
pub struct Throttle {
    window: Duration,
    max_failures: u32,
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Throttle {
            window,
            max_failures,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait when the key is locked out.
    pub fn check(&self, key: &str) -> Option<u64> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (count, since) = map.get(key)?;
        let elapsed = since.elapsed();
        if *count >= self.max_failures && elapsed < self.window {
            Some((self.window - elapsed).as_secs().max(1))
        } else {
            None
        }
    }

    pub fn fail(&self, key: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = map.entry(key.to_string()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }

    pub fn clear(&self, key: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

/// The bearer token of the request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// A logged-in account (customer or staff). A handler taking it cannot forget authentication.
pub struct AuthAccount {
    pub account: Customer,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for AuthAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let token_hash = sha256_hex(token.as_bytes());
        let now = now_us();
        let idle = state.config.session_idle_secs * 1_000_000;
        let (account, last_seen) = state
            .store
            .session(&token_hash, now, idle)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        // Refreshing the idle clock at most once a minute keeps reads free of writes.
        if now - last_seen > 60_000_000 {
            state.store.touch_session(&token_hash, now).await?;
        }
        Ok(AuthAccount {
            account,
            token_hash,
        })
    }
}

/// A logged-in staff member; a customer's token gets 403.
pub struct StaffAccount(pub Customer);

impl FromRequestParts<AppState> for StaffAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthAccount::from_request_parts(parts, state).await?;
        if auth.account.role != Role::Staff {
            return Err(ApiError::Forbidden);
        }
        Ok(StaffAccount(auth.account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_and_bcrypt_hashes_both_verify() {
        let a = hash_password("segreto").unwrap();
        assert!(verify_password("segreto", &a));
        assert!(!verify_password("Segreto", &a));
        let b = bcrypt::hash("segreto", 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        assert!(verify_password("segreto", &b));
        assert!(!verify_password("altro", &b));
        assert!(!verify_password("segreto", "not a hash"));
    }

    #[test]
    fn the_throttle_locks_after_the_limit_and_clears_on_success() {
        let t = Throttle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.check("k").is_none());
            t.fail("k");
        }
        assert!(t.check("k").unwrap() > 0);
        t.clear("k");
        assert!(t.check("k").is_none());
    }
}
