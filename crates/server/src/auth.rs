//! Passwords, and the extractors that make a handler authenticated by type.

use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::util::{now_us, sha256_hex};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use helpdesk_core::api::{Customer, Role};

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
}
