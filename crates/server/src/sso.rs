//! Single sign-on from the control panel: the panel's server signs a short-lived JWT (HS256, a
//! secret shared with the helpdesk) naming the customer, and the widget trades it for a session.

use serde::Deserialize;

/// The audience every token must name.
pub const AUDIENCE: &str = "helpdesk";
/// The longest a token may live, from `iat` to `exp`.
pub const MAX_LIFETIME_SECS: i64 = 5 * 60;
/// Clocks of the panel and of the helpdesk may differ by this much.
pub const LEEWAY_SECS: u64 = 60;
/// Far longer than any honest token; longer ones are refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Shared secrets shorter than this are refused at startup.
pub const MIN_SECRET_BYTES: usize = 32;

/// What the helpdesk needs to check tokens: the secrets (current first, then the previous one
/// while a rotation is under way) and the issuer.
#[derive(Clone)]
pub struct SsoConfig {
    pub secrets: Vec<Vec<u8>>,
    pub issuer: String,
}

impl std::fmt::Debug for SsoConfig {
    // The secrets never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConfig")
            .field("secrets", &self.secrets.len())
            .field("issuer", &self.issuer)
            .finish()
    }
}

/// The claims of a good token.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    pub iat: i64,
    pub exp: i64,
    /// Not before: optional, honoured when present.
    #[serde(default)]
    pub nbf: Option<i64>,
    pub jti: String,
}

/// Why a token was refused: logged, never told to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("sign-on is not configured")]
    NotConfigured,
    #[error("token longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("token rejected: {0}")]
    Invalid(String),
    #[error("expired")]
    Expired,
    #[error("lifetime from iat to exp is {0} s (at most {MAX_LIFETIME_SECS})")]
    LivesTooLong(i64),
    #[error("issued in the future")]
    IssuedInTheFuture,
    #[error("not valid before {0} (nbf)")]
    NotYetValid(i64),
    #[error("exp {exp} before iat {iat}")]
    ExpiresBeforeIssued { iat: i64, exp: i64 },
    #[error("nbf {nbf} after exp {exp}: never valid")]
    NeverValid { nbf: i64, exp: i64 },
    #[error("jti missing or longer than 128 characters")]
    BadJti,
    #[error("jti already used")]
    Replayed,
    #[error("no customer with this e-mail")]
    UnknownCustomer,
}

/// Checks a token's signature (current secret, then the previous one), algorithm (HS256 only:
/// `none`, HS512 and the rest are refused), issuer, audience, expiry, lifetime (`exp` after
/// `iat`, by at most five minutes) and `nbf` when present. `now` is in seconds since the epoch. Whether the `jti` was seen before is the caller's to check.
pub fn verify(config: &SsoConfig, token: &str, now: i64) -> Result<Claims, Refused> {
    use jsonwebtoken::{decode, errors::ErrorKind, Algorithm, DecodingKey, Validation};
    if config.secrets.is_empty() {
        return Err(Refused::NotConfigured);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refused::TooLong);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[config.issuer.as_str()]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    // Expiry is checked below against `now`, the same clock as every other check here.
    validation.validate_exp = false;
    let mut last = Refused::NotConfigured;
    for secret in &config.secrets {
        let key = DecodingKey::from_secret(secret).map_err(|e| Refused::Invalid(e.to_string()))?;
        match decode::<Claims>(token, &key, &validation) {
            Ok(data) => {
                let c = data.claims;
                // Saturating: the times are the signer's numbers, and i64::MAX must not panic.
                if c.exp.saturating_add(LEEWAY_SECS as i64) < now {
                    return Err(Refused::Expired);
                }
                if c.exp < c.iat {
                    return Err(Refused::ExpiresBeforeIssued {
                        iat: c.iat,
                        exp: c.exp,
                    });
                }
                if c.exp.saturating_sub(c.iat) > MAX_LIFETIME_SECS {
                    return Err(Refused::LivesTooLong(c.exp.saturating_sub(c.iat)));
                }
                if c.iat > now.saturating_add(LEEWAY_SECS as i64) {
                    return Err(Refused::IssuedInTheFuture);
                }
                if let Some(nbf) = c.nbf {
                    // The same clock and the same leeway as every other time here.
                    if nbf > now.saturating_add(LEEWAY_SECS as i64) {
                        return Err(Refused::NotYetValid(nbf));
                    }
                    if nbf > c.exp {
                        return Err(Refused::NeverValid { nbf, exp: c.exp });
                    }
                }
                if c.jti.trim().is_empty() || c.jti.len() > 128 {
                    return Err(Refused::BadJti);
                }
                return Ok(c);
            }
            // Signed with another secret: the previous one may still know it.
            Err(e) if *e.kind() == ErrorKind::InvalidSignature => {
                last = Refused::Invalid(e.to_string());
            }
            Err(e) => return Err(Refused::Invalid(e.to_string())),
        }
    }
    Err(last)
}

/// Signs a token as the panel does: for the demo control panel (`HELPDESK_DEMO_PANEL_BIND`),
/// which stands in for the provider's panel. Two minutes of life, a fresh 128-bit `jti`.
pub fn sign_for_demo(
    config: &SsoConfig,
    email: &str,
    name: &str,
    now: i64,
) -> anyhow::Result<String> {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let secret = config
        .secrets
        .first()
        .ok_or_else(|| anyhow::anyhow!("no sign-on secret"))?;
    let claims = serde_json::json!({
        "iss": config.issuer, "aud": AUDIENCE, "email": email, "name": name,
        "iat": now, "exp": now + 120, "jti": crate::util::random_id(),
    });
    Ok(encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret)?,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-panel";

    fn config() -> SsoConfig {
        SsoConfig {
            secrets: vec![SECRET.to_vec()],
            issuer: "panel.newmedialabs.it".into(),
        }
    }

    fn sign(alg: Algorithm, claims: serde_json::Value, secret: &[u8]) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap()
    }

    fn claims(now: i64) -> serde_json::Value {
        json!({"iss": "panel.newmedialabs.it", "aud": "helpdesk", "email": "demo@example.it",
               "name": "Mario Rossi", "iat": now, "exp": now + 120, "jti": "a1b2c3"})
    }

    #[test]
    fn a_good_token_is_accepted_and_a_rotated_secret_still_works() {
        let now = 1_800_000_000;
        let t = sign(Algorithm::HS256, claims(now), SECRET);
        assert_eq!(verify(&config(), &t, now).unwrap().email, "demo@example.it");
        let rotated = SsoConfig {
            secrets: vec![
                b"a-brand-new-secret-of-at-least-32-bytes".to_vec(),
                SECRET.to_vec(),
            ],
            ..config()
        };
        assert!(verify(&rotated, &t, now).is_ok());
    }

    #[test]
    fn nbf_is_honoured_within_the_leeway_and_exp_must_follow_iat() {
        let now = 1_800_000_000;
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = claims(now);
            f(&mut v);
            verify(&config(), &sign(Algorithm::HS256, v, SECRET), now)
        };
        assert!(with(&|v| v["nbf"] = json!(now)).is_ok());
        assert!(with(&|v| v["nbf"] = json!(now + 60)).is_ok(), "the leeway");
        assert_eq!(
            with(&|v| v["nbf"] = json!(now + 61)).unwrap_err(),
            Refused::NotYetValid(now + 61)
        );
        assert!(with(&|v| v["exp"] = json!(now)).is_ok(), "exp equal to iat");
        assert_eq!(
            with(&|v| v["exp"] = json!(now - 1)).unwrap_err(),
            Refused::ExpiresBeforeIssued {
                iat: now,
                exp: now - 1
            }
        );
        // Far apart, as a signer's numbers may be: refused, not overflowed.
        assert!(with(&|v| v["exp"] = json!(i64::MIN)).is_err());
        assert!(with(&|v| v["nbf"] = json!(i64::MAX)).is_err());
    }

    #[test]
    fn every_broken_token_is_refused() {
        let now = 1_800_000_000;
        let c = config();
        let mut cases: Vec<(&str, String)> = vec![
            (
                "wrong secret",
                sign(
                    Algorithm::HS256,
                    claims(now),
                    b"another-secret-another-secret-xx",
                ),
            ),
            ("HS512", sign(Algorithm::HS512, claims(now), SECRET)),
        ];
        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = claims(now);
            f(&mut v);
            sign(Algorithm::HS256, v, SECRET)
        };
        cases.push((
            "expired",
            edit(&|v| {
                v["iat"] = json!(now - 200);
                v["exp"] = json!(now - 61);
            }),
        ));
        cases.push(("lives too long", edit(&|v| v["exp"] = json!(now + 301))));
        cases.push(("wrong issuer", edit(&|v| v["iss"] = json!("evil.example"))));
        cases.push(("wrong audience", edit(&|v| v["aud"] = json!("panel"))));
        cases.push((
            "no jti",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("jti");
            }),
        ));
        cases.push((
            "no email",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("email");
            }),
        ));
        cases.push((
            "no exp",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("exp");
            }),
        ));
        cases.push((
            "nbf beyond the leeway",
            edit(&|v| v["nbf"] = json!(now + 61)),
        ));
        cases.push(("nbf not a number", edit(&|v| v["nbf"] = json!("soon"))));
        cases.push((
            "exp before iat",
            edit(&|v| {
                v["iat"] = json!(now);
                v["exp"] = json!(now - 1);
            }),
        ));
        cases.push((
            "nbf after exp",
            edit(&|v| {
                v["nbf"] = json!(now + 30);
                v["exp"] = json!(now + 20);
            }),
        ));
        cases.push((
            "from the future",
            edit(&|v| {
                v["iat"] = json!(now + 200);
                v["exp"] = json!(now + 400);
            }),
        ));
        // alg none: a header and claims with an empty signature.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        cases.push((
            "alg none",
            format!(
                "{}.{}.",
                b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
                b64.encode(claims(now).to_string())
            ),
        ));
        cases.push(("over-long", "a".repeat(MAX_TOKEN_BYTES + 1)));
        cases.push(("garbage", "not.a.token".into()));
        for (what, token) in cases {
            assert!(verify(&c, &token, now).is_err(), "{what} was accepted");
        }
        let unset = SsoConfig {
            secrets: vec![],
            ..config()
        };
        let good = sign(Algorithm::HS256, claims(now), SECRET);
        assert_eq!(
            verify(&unset, &good, now).unwrap_err(),
            Refused::NotConfigured
        );
    }
}
