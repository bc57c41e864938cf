//! Random ids, token hashing and time formatting used across the server.

use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// 128 random bits as 32 hex characters: ids of accounts, services, messages, files.
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// 256 random bits, URL-safe: session tokens.
pub fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn random_u64() -> u64 {
    rand::rngs::OsRng.next_u64()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Microseconds since the Unix epoch: how times are stored.
pub fn now_us() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1000) as i64
}

/// RFC 3339 in UTC, as the API shows times.
pub fn rfc3339(us: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// An e-mail address as we compare it: trimmed and lower-case.
pub fn normalise_email(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens_carry_at_least_128_random_bits() {
        assert_eq!(random_id().len(), 32);
        assert_ne!(random_id(), random_id());
        assert!(random_token().len() >= 43);
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_000_000), "2023-11-14T22:13:20Z");
    }
}
