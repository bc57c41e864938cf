//! Sender authentication: does SPF or DKIM pass aligned with the `From` domain (DMARC's test,
//! whatever policy the domain publishes)?
//!
//! Through the SMTP listener the server checks itself with `mail-auth`; through the pipe it reads
//! the topmost `Authentication-Results` header, which must be our own MTA's.

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::spf::Spf;
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, RecordSet, ResolverCache,
    SpfResult, Txt, MX,
};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The result of the check, with what was seen (kept with a quarantined message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthVerdict {
    pub pass: bool,
    pub detail: String,
}

impl AuthVerdict {
    pub fn fail(detail: impl Into<String>) -> Self {
        AuthVerdict {
            pass: false,
            detail: detail.into(),
        }
    }
}

/// Whether two domains are aligned in DMARC's relaxed sense, approximated without the public
/// suffix list: the same, or one a subdomain of the other with at least two labels in common.
pub fn aligned(a: &str, b: &str) -> bool {
    let a = a.trim().trim_end_matches('.').to_ascii_lowercase();
    let b = b.trim().trim_end_matches('.').to_ascii_lowercase();
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (long, short) = if a.len() > b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    short.contains('.') && long.ends_with(&format!(".{short}"))
}

pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

// ----- through the pipe: the MTA's Authentication-Results -----

/// Reads the topmost `Authentication-Results` header (the first in `headers`, which holds only
/// those above the first `Received` header: see [`super::parse::Analysis::auth_results`]); it
/// counts only when its authserv-id is ours. Any other such header, or ours further down, is
/// ignored: a sender can write any header, but not above the `Received` our MTA adds, nor above
/// the results it prepends.
pub fn verdict_from_headers(
    headers: &[String],
    authserv_id: &str,
    from_domain: &str,
) -> AuthVerdict {
    let Some(top) = headers.first() else {
        return AuthVerdict::fail("no Authentication-Results header above the first Received");
    };
    let parts = split_results(top);
    let Some(id) = parts.first().and_then(|p| p.split_whitespace().next()) else {
        return AuthVerdict::fail("empty Authentication-Results header");
    };
    if !id.eq_ignore_ascii_case(authserv_id) {
        return AuthVerdict::fail(format!("topmost Authentication-Results is not ours ({id})"));
    }
    let mut seen = Vec::new();
    let mut pass = false;
    for res in parts.iter().skip(1) {
        let mut words = res.split_whitespace();
        let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
            continue;
        };
        let method = method.to_ascii_lowercase();
        let result = result.to_ascii_lowercase();
        seen.push(format!("{method}={result}"));
        if result != "pass" {
            continue;
        }
        let props: Vec<(String, String)> = words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.trim_matches('"').to_ascii_lowercase(),
                )
            })
            .collect();
        let prop = |name: &str| {
            props
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let ok = match method.as_str() {
            // DMARC passes only when SPF or DKIM passed aligned with the From domain.
            "dmarc" => prop("header.from").is_none_or(|d| aligned(d, from_domain)),
            "dkim" => prop("header.d")
                .or_else(|| prop("header.i").map(domain_of))
                .is_some_and(|d| aligned(d, from_domain)),
            "spf" => prop("smtp.mailfrom")
                .map(|m| if m.contains('@') { domain_of(m) } else { m })
                .or_else(|| prop("smtp.helo"))
                .is_some_and(|d| aligned(d, from_domain)),
            _ => false,
        };
        pass |= ok;
    }
    AuthVerdict {
        pass,
        detail: format!(
            "{id}: {}",
            if seen.is_empty() {
                "no results".to_string()
            } else {
                seen.join(" ")
            }
        ),
    }
}

/// Splits an Authentication-Results value at `;`, ignoring those inside comments and quotes,
/// and drops the comments.
fn split_results(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0u32;
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                cur.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => {
                quoted = !quoted;
                cur.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            ';' if !quoted && depth == 0 => {
                parts.push(cur.trim().to_string());
                cur.clear();
            }
            _ if depth == 0 => cur.push(c),
            _ => {}
        }
    }
    if !cur.trim().is_empty() {
        parts.push(cur.trim().to_string());
    }
    parts
}

// ----- through the SMTP listener: checked here -----

/// What the SMTP session knows about the sender's connection.
#[derive(Debug, Clone)]
pub struct Connection {
    pub ip: IpAddr,
    pub helo: String,
    /// The envelope sender; empty for a bounce.
    pub mail_from: String,
}

/// The DNS resolver and its caches. Tests build one with pre-loaded records and no name server,
/// so that nothing ever leaves the machine.
pub struct SenderAuth {
    authenticator: MessageAuthenticator,
    /// Our own host name, as SPF macros may ask for it.
    host_domain: String,
    txt: DnsCache<Box<str>, Txt>,
    mx: DnsCache<Box<str>, RecordSet<MX>>,
    ipv4: DnsCache<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: DnsCache<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: DnsCache<IpAddr, RecordSet<Box<str>>>,
}

impl SenderAuth {
    /// The system's resolver (`/etc/resolv.conf`), with short timeouts.
    pub fn system(host_domain: &str) -> anyhow::Result<Self> {
        let (config, mut opts) = mail_auth::hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| anyhow::anyhow!("reading the system's DNS configuration: {e}"))?;
        opts.timeout = Duration::from_secs(5);
        opts.attempts = 2;
        Self::with_resolver(config, opts, host_domain)
    }

    /// No name server at all: only pre-loaded records answer (tests, and machines without DNS).
    pub fn offline(host_domain: &str) -> anyhow::Result<Self> {
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_millis(200);
        opts.attempts = 1;
        Self::with_resolver(
            ResolverConfig::from_name_servers(Vec::new()),
            opts,
            host_domain,
        )
    }

    fn with_resolver(
        config: ResolverConfig,
        opts: ResolverOpts,
        host_domain: &str,
    ) -> anyhow::Result<Self> {
        Ok(SenderAuth {
            authenticator: MessageAuthenticator::new(config, opts)
                .map_err(|e| anyhow::anyhow!("starting the DNS resolver: {e}"))?,
            host_domain: host_domain.to_string(),
            txt: DnsCache::default(),
            mx: DnsCache::default(),
            ipv4: DnsCache::default(),
            ipv6: DnsCache::default(),
            ptr: DnsCache::default(),
        })
    }

    /// Pre-loads a TXT record (`v=spf1 …` at the domain, `v=DKIM1 …` at `selector._domainkey.domain`).
    pub fn preload_txt(&self, name: &str, record: &str) -> anyhow::Result<()> {
        let value = if record.trim_start().starts_with("v=spf1") {
            Txt::Spf(
                Spf::parse(record.as_bytes())
                    .map_err(|e| anyhow::anyhow!("SPF record: {e}"))?
                    .into(),
            )
        } else {
            Txt::DomainKey(
                DomainKey::parse(record.as_bytes())
                    .map_err(|e| anyhow::anyhow!("DKIM record: {e}"))?
                    .into(),
            )
        };
        let key = fqdn(name);
        self.txt.insert(
            key.into_boxed_str(),
            value,
            Instant::now() + Duration::from_secs(365 * 24 * 3600),
        );
        Ok(())
    }

    /// SPF for the envelope sender (or the HELO name of a bounce) and DKIM on the message; passes
    /// when either passes for a domain aligned with `from_domain`.
    pub async fn check(&self, conn: &Connection, raw: &[u8], from_domain: &str) -> AuthVerdict {
        let mut seen = Vec::new();
        let mut pass = false;

        let spf_params = if conn.mail_from.is_empty() {
            SpfParameters::verify_ehlo(conn.ip, &conn.helo, &self.host_domain)
        } else {
            SpfParameters::verify_mail_from(conn.ip, &conn.helo, &self.host_domain, &conn.mail_from)
        };
        let spf_domain = if conn.mail_from.is_empty() {
            conn.helo.clone()
        } else {
            domain_of(&conn.mail_from).to_string()
        };
        let spf = self.authenticator.verify_spf(self.params(spf_params)).await;
        seen.push(format!("spf={} ({spf_domain})", spf_word(spf.result())));
        if spf.result() == SpfResult::Pass && aligned(&spf_domain, from_domain) {
            pass = true;
        }

        match AuthenticatedMessage::parse(raw) {
            Some(msg) => {
                let results = self.authenticator.verify_dkim(self.params(&msg)).await;
                if results.is_empty() {
                    seen.push("dkim=none".to_string());
                }
                for r in &results {
                    let d = r.signature().map(|s| s.d.clone()).unwrap_or_default();
                    let ok = matches!(r.result(), DkimResult::Pass);
                    seen.push(format!("dkim={} ({d})", if ok { "pass" } else { "fail" }));
                    if ok && aligned(&d, from_domain) {
                        pass = true;
                    }
                }
            }
            None => seen.push("dkim=none (unreadable headers)".to_string()),
        }
        AuthVerdict {
            pass,
            detail: format!("{}; from={from_domain}", seen.join(" ")),
        }
    }

    #[allow(clippy::type_complexity)]
    fn params<'x, P>(
        &'x self,
        p: P,
    ) -> Parameters<
        'x,
        P,
        DnsCache<Box<str>, Txt>,
        DnsCache<Box<str>, RecordSet<MX>>,
        DnsCache<Box<str>, RecordSet<Ipv4Addr>>,
        DnsCache<Box<str>, RecordSet<Ipv6Addr>>,
        DnsCache<IpAddr, RecordSet<Box<str>>>,
    > {
        Parameters::new(p)
            .with_txt_cache(&self.txt)
            .with_mx_cache(&self.mx)
            .with_ipv4_cache(&self.ipv4)
            .with_ipv6_cache(&self.ipv6)
            .with_ptr_cache(&self.ptr)
    }
}

fn spf_word(r: SpfResult) -> &'static str {
    match r {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

fn fqdn(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase();
    if !n.ends_with('.') {
        n.push('.');
    }
    n
}

/// A small DNS cache honouring expiry; cleared whole when it grows too big.
pub struct DnsCache<K, V> {
    map: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K, V> Default for DnsCache<K, V> {
    fn default() -> Self {
        DnsCache {
            map: Mutex::new(HashMap::new()),
        }
    }
}

const DNS_CACHE_MAX: usize = 20_000;

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for DnsCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.map.lock().ok()?;
        map.get(name)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(v, _)| v.clone())
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.lock().ok()?.remove(name).map(|(v, _)| v)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= DNS_CACHE_MAX {
                map.clear();
            }
            map.insert(key, (value, valid_until));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(h: &str, from: &str) -> bool {
        verdict_from_headers(&[h.to_string()], "mx.smacloud.it", from).pass
    }

    #[test]
    fn relaxed_alignment_accepts_subdomains_only() {
        assert!(aligned("example.it", "example.it"));
        assert!(aligned("mail.example.it", "example.it"));
        assert!(aligned("Example.IT.", "news.example.it"));
        assert!(!aligned("example.it", "other.it"));
        assert!(!aligned("it", "example.it"));
        assert!(!aligned("badexample.it", "example.it"));
    }

    #[test]
    fn our_topmost_header_with_an_aligned_pass_authenticates() {
        assert!(v("mx.smacloud.it; dkim=pass header.d=example.it header.s=sel; spf=fail smtp.mailfrom=x@other.it", "example.it"));
        assert!(v(
            "mx.smacloud.it 1; spf=pass (sender ok) smtp.mailfrom=bounce@mail.example.it",
            "example.it"
        ));
        assert!(v(
            "mx.smacloud.it; dmarc=pass (p=none) header.from=example.it",
            "example.it"
        ));
    }

    #[test]
    fn a_pass_for_another_domain_or_a_failure_does_not() {
        assert!(!v(
            "mx.smacloud.it; dkim=pass header.d=gmail.com",
            "example.it"
        ));
        assert!(!v("mx.smacloud.it; spf=softfail smtp.mailfrom=a@example.it; dkim=fail header.d=example.it", "example.it"));
        assert!(!v("mx.smacloud.it; none", "example.it"));
    }

    #[test]
    fn a_header_by_someone_else_on_top_is_not_believed() {
        let headers = vec![
            "mx.attacker.example; dkim=pass header.d=example.it".to_string(),
            "mx.smacloud.it; dkim=pass header.d=example.it".to_string(),
        ];
        assert!(!verdict_from_headers(&headers, "mx.smacloud.it", "example.it").pass);
        assert!(!verdict_from_headers(&[], "mx.smacloud.it", "example.it").pass);
    }

    #[test]
    fn comments_and_quotes_do_not_split_results() {
        assert!(v(
            "mx.smacloud.it; spf=pass (a; b) smtp.mailfrom=\"x;y\"@example.it",
            "example.it"
        ));
    }
}
