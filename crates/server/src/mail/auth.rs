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
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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

/// Whether two domains are aligned in DMARC's relaxed sense: they have the same organizational
/// domain, the registrable domain under the public suffix list (`mail.example.co.uk` and
/// `example.co.uk` are, `evil-example.co.uk` is not). A public suffix alone (`co.uk`) has no
/// organizational domain and aligns with nothing, not even itself.
pub fn aligned(a: &str, b: &str) -> bool {
    match (organizational_domain(a), organizational_domain(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The registrable domain of `domain` (lower case, without the root's dot), `None` for a public
/// suffix, an empty name or one with empty labels.
pub fn organizational_domain(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || domain.split('.').any(str::is_empty) {
        return None;
    }
    let org = psl::domain(domain.as_bytes())?;
    std::str::from_utf8(org.as_bytes()).ok().map(str::to_string)
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
        mut opts: ResolverOpts,
        host_domain: &str,
    ) -> anyhow::Result<Self> {
        // hickory's own cache (moka too, so bounded and TinyLFU) sits under ours. The answers we
        // use are parsed and kept above, so it mostly holds failures (NXDOMAIN, no record) and
        // the steps of CNAME chains: a smaller size than its default 8192, and no answer kept
        // longer than ours, nor a failure longer than five minutes (a domain that just published
        // its SPF or DKIM record is seen soon).
        opts.cache_size = 2_048;
        opts.positive_max_ttl = Some(DNS_MAX_TTL);
        opts.negative_max_ttl = Some(DNS_DEFAULT_TTL);
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

/// How many answers of one record type are kept. Admission and eviction are moka's (TinyLFU):
/// a sender cycling through fresh domains fills the cache with entries seen once, which do not
/// push out the answers that keep being asked for.
const DNS_CACHE_MAX: u64 = 10_000;
/// The lifetime of an answer that came without a usable TTL.
const DNS_DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);
/// The longest an answer is kept, whatever its TTL says, so that a changed key or SPF record is
/// seen within a day.
const DNS_MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// A bounded DNS cache in which each entry expires when its answer does.
pub struct DnsCache<K, V> {
    cache: moka::sync::Cache<K, (V, Instant)>,
}

impl<K, V> Default for DnsCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::with_capacity(DNS_CACHE_MAX)
    }
}

impl<K, V> DnsCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn with_capacity(capacity: u64) -> Self {
        DnsCache {
            cache: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilValid)
                .build(),
        }
    }

    #[cfg(test)]
    fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }
}

/// Expires each entry at the instant stored with it.
struct UntilValid;

impl<K, V> moka::Expiry<K, (V, Instant)> for UntilValid {
    fn expire_after_create(
        &self,
        _key: &K,
        value: &(V, Instant),
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.1.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        key: &K,
        value: &(V, Instant),
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        self.expire_after_create(key, value, updated_at)
    }
}

/// When an answer valid until `valid_until` (as the resolver computed it from the TTL) should
/// leave the cache: at that instant, within [`DNS_MAX_TTL`]; an answer without a TTL (already
/// expired, TTL 0) is kept [`DNS_DEFAULT_TTL`].
fn expiry(valid_until: Instant, now: Instant) -> Instant {
    let ttl = valid_until.saturating_duration_since(now);
    let ttl = if ttl.is_zero() { DNS_DEFAULT_TTL } else { ttl };
    now + ttl.min(DNS_MAX_TTL)
}

impl<K, V> ResolverCache<K, V> for DnsCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // moka may return an entry in the instant it expires: the stored instant decides.
        self.cache
            .get(name)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(v, _)| v)
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.cache.remove(name).map(|(v, _)| v)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        let until = expiry(valid_until, Instant::now());
        self.cache.insert(key, (value, until));
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
    fn alignment_is_by_the_organizational_domain_of_the_public_suffix_list() {
        assert!(aligned("mail.example.co.uk", "example.co.uk"));
        assert!(aligned("a.b.example.it", "example.it"));
        assert!(aligned("a.example.co.uk", "b.example.co.uk"));
        assert!(!aligned("evil-example.co.uk", "example.co.uk"));
        // Two domains under the same public suffix are two organizations: a rule of "two labels
        // in common" took these for one.
        assert!(!aligned("attacker.co.uk", "example.co.uk"));
        assert!(!aligned("example.co.uk", "co.uk"));
        assert!(!aligned("co.uk", "co.uk"));
        assert!(!aligned("", ""));
        assert!(!aligned("example..it", "example.it"));
        assert_eq!(
            organizational_domain("Mail.Example.CO.UK.").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(organizational_domain("co.uk"), None);
        assert_eq!(organizational_domain("it"), None);
    }

    /// DKIM's RSA signatures are checked by ring (mail-auth's `ring` backend, no `rsa` crate).
    /// The key is a throwaway one made for this test with `openssl genpkey`.
    #[tokio::test]
    async fn an_rsa_dkim_signature_passes_aligned_and_fails_once_altered() {
        use base64::Engine;
        use mail_auth::common::crypto::{RsaKey, Sha256};
        use mail_auth::common::headers::HeaderWriter;
        use mail_auth::dkim::DkimSigner;

        let pem = include_str!("../../tests/fixtures/dkim-test-rsa2048.pem");
        // The PEM reader not deprecated takes rustls-pki-types' key type, not a dependency here.
        #[allow(deprecated)]
        let key = RsaKey::<Sha256>::from_pkcs8_pem(pem).unwrap();
        let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
        let auth = SenderAuth::offline("helpdesk.smacloud.it").unwrap();
        auth.preload_txt(
            "rsa._domainkey.mail.example.co.uk",
            &format!("v=DKIM1; k=rsa; p={public}"),
        )
        .unwrap();
        auth.preload_txt("other.example", "v=spf1 -all").unwrap();

        let body = "From: demo@example.co.uk\r\nTo: hd@smacloud.it\r\nSubject: firmato\r\n\
                    Message-ID: <rsa@example.co.uk>\r\n\r\nFirmato DKIM.\r\n";
        let signature = DkimSigner::from_key(key)
            .domain("mail.example.co.uk")
            .selector("rsa")
            .headers(["From", "To", "Subject", "Message-ID"])
            .sign(body.as_bytes())
            .unwrap();
        let signed = format!("{}{body}", signature.to_header());
        let conn = Connection {
            ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)),
            helo: "mx.other.example".to_string(),
            mail_from: "bounce@other.example".to_string(),
        };
        let v = auth.check(&conn, signed.as_bytes(), "example.co.uk").await;
        assert!(v.pass, "{}", v.detail);
        assert!(
            v.detail.contains("dkim=pass (mail.example.co.uk)"),
            "{}",
            v.detail
        );
        // Signed by a subdomain of example.co.uk: not aligned with another organization.
        let v = auth.check(&conn, signed.as_bytes(), "other.co.uk").await;
        assert!(!v.pass, "{}", v.detail);
        let altered = signed.replace("Firmato", "Alterato");
        let v = auth.check(&conn, altered.as_bytes(), "example.co.uk").await;
        assert!(!v.pass, "{}", v.detail);
        assert!(v.detail.contains("dkim=fail"), "{}", v.detail);
    }

    #[test]
    fn the_dns_cache_expires_entries_by_their_answer() {
        let cache: DnsCache<Box<str>, u32> = DnsCache::default();
        let now = Instant::now();
        cache.insert("fresh.".into(), 1, now + Duration::from_secs(60));
        cache.insert("stale.".into(), 2, now - Duration::from_secs(1));
        cache.insert(
            "long.".into(),
            3,
            now + Duration::from_secs(365 * 24 * 3600),
        );
        assert_eq!(cache.get("fresh."), Some(1));
        assert_eq!(cache.get("long."), Some(3));
        // An answer without a TTL is kept the fixed five minutes, one with a long TTL a day.
        assert_eq!(cache.get("stale."), Some(2));
        assert_eq!(expiry(now, now), now + DNS_DEFAULT_TTL);
        assert_eq!(
            expiry(now + Duration::from_secs(30), now),
            now + Duration::from_secs(30)
        );
        assert_eq!(
            expiry(now + Duration::from_secs(9_999_999), now),
            now + DNS_MAX_TTL
        );
        assert_eq!(cache.remove("fresh."), Some(1));
        assert_eq!(cache.get("fresh."), None);

        let short: DnsCache<Box<str>, u32> = DnsCache::default();
        short.cache.insert("gone.".into(), (4, Instant::now()));
        assert_eq!(short.get("gone."), None);
    }

    #[test]
    fn a_sender_cycling_through_domains_does_not_flush_the_dns_cache() {
        let cache: DnsCache<Box<str>, u32> = DnsCache::with_capacity(100);
        let until = Instant::now() + Duration::from_secs(3600);
        cache.insert("example.it.".into(), 7, until);
        for _ in 0..50 {
            assert_eq!(cache.get("example.it."), Some(7));
        }
        cache.cache.run_pending_tasks();
        // Each fresh name is asked (a miss), then answered; meanwhile real mail keeps asking for
        // its own domain, here once every ten of the attacker's.
        for i in 0..5_000 {
            let name = format!("x{i}.attacker.example.");
            assert_eq!(cache.get(name.as_str()), None);
            cache.insert(name.into_boxed_str(), i, until);
            if i % 10 == 0 {
                assert_eq!(cache.get("example.it."), Some(7), "after {i} names");
            }
        }
        assert!(cache.len() <= 100, "bounded: {}", cache.len());
        assert_eq!(cache.get("example.it."), Some(7));
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
