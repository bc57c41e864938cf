//! Which of a customer's services a text names, by domain, identifier or (unambiguous) product.

use crate::api::{Department, Service, ServiceFamily};

/// The customer's services named in `text`, in the order of `services`, each once.
///
/// A service is named by its identifier as a whole token, case-insensitively: `mario.it` is not
/// named by `pizzeria-da-mario.it`, `vps-1` is not named by `vps-12`, while `www.mario.it`,
/// `info@mario.it` and `https://mario.it/shop` all name `mario.it`. A product name ("CronusVPS",
/// "Hosting WordPress") names a service only when no other service of the customer has that
/// product, because otherwise it cannot say which one is meant, and only when the text names no
/// service by its identifier: beside an identifier a product is what is asked about ("passaggio
/// di blog-mario.it a Hosting Pro"), not another service.
pub fn services_named_in<'a>(text: &str, services: &'a [Service]) -> Vec<&'a Service> {
    if services.is_empty() || text.trim().is_empty() {
        return Vec::new();
    }
    Scan::new(text)
        .named(services)
        .into_iter()
        .map(|i| &services[i])
        .collect()
}

/// The one service a text names, for a ticket of `department`: `None` when it names none, or
/// services under different names. A domain and the hosting of the same name are one name: a
/// technical question is about the hosting, a commercial one about the domain.
pub fn service_for<'a>(named: &[&'a Service], department: Department) -> Option<&'a Service> {
    let first = named.first()?;
    if named
        .iter()
        .any(|s| !s.identifier.eq_ignore_ascii_case(&first.identifier))
    {
        return None;
    }
    let wants_domain = department == Department::Sales;
    named
        .iter()
        .find(|s| (s.family == ServiceFamily::Domain) == wants_domain)
        .or(Some(first))
        .copied()
}

/// How many different names among the services a text names (a domain and its hosting are one).
pub fn distinct_names(named: &[&Service]) -> usize {
    let mut names: Vec<String> = named.iter().map(|s| s.identifier.to_lowercase()).collect();
    names.sort();
    names.dedup();
    names.len()
}

/// A text split once into host names and words, then checked against any number of services:
/// customers with dozens of services must not make the subject check slower per keystroke.
pub(crate) struct Scan<'t> {
    text: &'t str,
    /// Runs of letters, digits, '-', '_' and '.', without leading or trailing dots.
    hosts: Vec<&'t str>,
    /// Runs of letters and digits.
    words: Vec<&'t str>,
}

impl<'t> Scan<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let mut hosts = Vec::with_capacity(16);
        let mut words = Vec::with_capacity(16);
        let (mut host_start, mut word_start) = (None, None);
        for (i, c) in text.char_indices().chain(Some((text.len(), ' '))) {
            let alnum = if c.is_ascii() {
                c.is_ascii_alphanumeric()
            } else {
                c.is_alphanumeric()
            };
            match (alnum || matches!(c, '-' | '_' | '.'), host_start) {
                (true, None) => host_start = Some(i),
                (false, Some(s)) => {
                    // A sentence may end right after a domain: "scrivo da mario.it."
                    let host = text[s..i].trim_matches('.');
                    if !host.is_empty() {
                        hosts.push(host);
                    }
                    host_start = None;
                }
                _ => {}
            }
            match (alnum, word_start) {
                (true, None) => word_start = Some(i),
                (false, Some(s)) => {
                    words.push(&text[s..i]);
                    word_start = None;
                }
                _ => {}
            }
        }
        Scan { text, hosts, words }
    }

    /// The part of the scan within `text[start..end]`, without reading the text again.
    pub(crate) fn within(&self, start: usize, end: usize) -> Scan<'t> {
        let base = self.text.as_ptr() as usize;
        let inside = |s: &&'t str| {
            let at = s.as_ptr() as usize - base;
            at >= start && at + s.len() <= end
        };
        Scan {
            text: self.text.get(start..end).unwrap_or(""),
            hosts: self.hosts.iter().copied().filter(inside).collect(),
            words: self.words.iter().copied().filter(inside).collect(),
        }
    }

    /// The indices of the services the text names (see `services_named_in`).
    pub(crate) fn named(&self, services: &[Service]) -> Vec<usize> {
        let by_identifier: Vec<usize> = (0..services.len())
            .filter(|&i| self.names_identifier(services[i].identifier.trim(), services))
            .collect();
        if !by_identifier.is_empty() {
            return by_identifier;
        }
        (0..services.len())
            .filter(|&i| {
                product_named(&self.words, &services[i].product) && product_is_unique(services, i)
            })
            .collect()
    }

    /// Whether the text names `services[i]`, by identifier or product alike.
    pub(crate) fn names(&self, services: &[Service], i: usize) -> bool {
        let service = &services[i];
        self.names_identifier(service.identifier.trim(), services)
            || (product_named(&self.words, &service.product) && product_is_unique(services, i))
    }

    /// The text's words of letters and digits.
    pub(crate) fn words(&self) -> &[&'t str] {
        &self.words
    }

    fn names_identifier(&self, ident: &str, services: &[Service]) -> bool {
        if ident.is_empty() {
            return false;
        }
        // Bytes of non-ASCII characters pass: international domains are host names too.
        if !ident
            .bytes()
            .all(|b| !b.is_ascii() || b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return names_by_search(self.text, ident, services);
        }
        let is_domain = ident.contains('.');
        self.hosts.iter().any(|host| {
            same_word(host, ident)
                || (is_domain
                    && is_subdomain(host, ident)
                    && !is_another_service(host, ident, services))
        })
    }
}

/// "www.mario.it" or "mail.mario.it" is the domain mario.it itself.
fn is_subdomain(host: &str, domain: &str) -> bool {
    let Some(dot) = host.len().checked_sub(domain.len() + 1) else {
        return false;
    };
    // The byte before the domain is an ASCII dot, so the domain starts on a character boundary.
    host.as_bytes()[dot] == b'.' && same_word(&host[dot + 1..], domain)
}

fn is_another_service(host: &str, ident: &str, services: &[Service]) -> bool {
    services.iter().any(|s| {
        let other = s.identifier.trim();
        !same_word(other, ident) && same_word(other, host)
    })
}

/// Whether `product` (e.g. "Hosting WordPress") occurs among `words` as a run of whole words,
/// whatever their case.
///
/// A product named only with everyday words ("Dominio", "Server SMTP") never counts: "il dominio"
/// in a sentence is not a reference to the product.
pub(crate) fn product_named(words: &[&str], product: &str) -> bool {
    // Most products share no first letter with any word of the text: no need to split their names.
    let initial = product
        .trim_start()
        .as_bytes()
        .first()
        .copied()
        .unwrap_or(0);
    if initial.is_ascii_alphanumeric()
        && !words
            .iter()
            .any(|w| w.as_bytes()[0].eq_ignore_ascii_case(&initial))
    {
        return false;
    }
    let mut wanted = product
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let Some(first) = wanted.next() else {
        return false;
    };
    let found = words.iter().enumerate().any(|(i, w)| {
        same_word(w, first)
            && wanted
                .clone()
                .enumerate()
                .all(|(k, pw)| words.get(i + 1 + k).is_some_and(|x| same_word(x, pw)))
    });
    found
        && !std::iter::once(first)
            .chain(wanted)
            .all(|w| COMMON_WORDS.iter().any(|c| same_word(c, w)))
}

/// Words that also occur in ordinary sentences about any service.
const COMMON_WORDS: &[&str] = &[
    "account",
    "backup",
    "casella",
    "cloud",
    "colocation",
    "da",
    "dedicated",
    "dedicati",
    "dedicato",
    "del",
    "di",
    "dns",
    "domain",
    "domini",
    "dominio",
    "email",
    "hosting",
    "il",
    "la",
    "mail",
    "pec",
    "posta",
    "registrazione",
    "server",
    "servizio",
    "sito",
    "smtp",
    "ssl",
    "vps",
    "web",
];

fn same_word(a: &str, b: &str) -> bool {
    // Two different ASCII first letters settle it without looking further.
    if let (Some(x), Some(y)) = (a.as_bytes().first(), b.as_bytes().first()) {
        if x.is_ascii() && y.is_ascii() && !x.eq_ignore_ascii_case(y) {
            return false;
        }
    }
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn product_is_unique(services: &[Service], i: usize) -> bool {
    let product = services[i].product.trim();
    services
        .iter()
        .enumerate()
        .all(|(j, s)| j == i || !same_word(s.product.trim(), product))
}

/// Characters that continue an identifier, so that a match next to them is only part of a longer one.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// For identifiers that are not a single host-like token ("Rack 12 / Milano"): a search of the text.
fn names_by_search(text: &str, ident: &str, services: &[Service]) -> bool {
    let lower = text.to_lowercase();
    let id = ident.to_lowercase();
    lower
        .match_indices(id.as_str())
        .any(|(i, _)| stands_alone(&lower, i, i + id.len(), &id, services))
}

/// Whether the match `text[start..end]` of `ident` is a whole token rather than part of a longer one.
fn stands_alone(text: &str, start: usize, end: usize, ident: &str, services: &[Service]) -> bool {
    let before = &text[..start];
    let mut back = before.chars().rev();
    let ok_before = match back.next() {
        None => true,
        Some('.') => match back.next() {
            Some(c) if is_word_char(c) => {
                ident.contains('.') && !host_is_another_service(text, start, end, ident, services)
            }
            _ => true,
        },
        Some(c) => !is_word_char(c),
    };
    let mut fwd = text[end..].chars();
    let ok_after = match fwd.next() {
        None => true,
        Some('.') => !fwd.next().is_some_and(is_word_char),
        Some(c) => !is_word_char(c),
    };
    ok_before && ok_after
}

fn host_is_another_service(
    text: &str,
    start: usize,
    end: usize,
    ident: &str,
    services: &[Service],
) -> bool {
    let host_start = text[..start]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word_char(c) || c == '.')
        .last()
        .map_or(start, |(i, _)| i);
    is_another_service(&text[host_start..end], ident, services)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ServiceFamily, ServiceStatus};

    fn service(id: &str, product: &str, identifier: &str) -> Service {
        Service {
            panel_id: None,
            id: id.to_string(),
            family: ServiceFamily::HostingShared,
            product: product.to_string(),
            identifier: identifier.to_string(),
            status: ServiceStatus::Active,
        }
    }

    fn ids(text: &str, services: &[Service]) -> Vec<String> {
        services_named_in(text, services)
            .into_iter()
            .map(|s| s.id.clone())
            .collect()
    }

    fn customer() -> Vec<Service> {
        vec![
            service("h1", "Hosting WordPress", "pizzeria-da-mario.it"),
            service("h2", "Hosting Pro", "mario.it"),
            service("v1", "CronusVPS", "vps-1"),
            service("v12", "CronusMail", "vps-12"),
            service("d1", "Dominio", "Example.IT"),
        ]
    }

    #[test]
    fn a_domain_is_named_case_insensitively_as_a_whole_token() {
        let s = customer();
        assert_eq!(ids("Errore 500 su PIZZERIA-DA-MARIO.IT", &s), ["h1"]);
        assert_eq!(ids("il sito example.it è lento", &s), ["d1"]);
    }

    #[test]
    fn a_domain_inside_a_longer_domain_is_not_named() {
        let s = customer();
        assert_eq!(ids("pizzeria-da-mario.it non va", &s), ["h1"]);
        assert!(ids("vedi altromario.it e mario.it.com", &s).is_empty());
    }

    #[test]
    fn an_identifier_followed_by_more_digits_is_another_identifier() {
        let s = customer();
        assert_eq!(ids("vps-12 non risponde", &s), ["v12"]);
        assert_eq!(ids("vps-1 non risponde", &s), ["v1"]);
        assert!(ids("vps-123 non risponde", &s).is_empty());
    }

    #[test]
    fn www_addresses_urls_and_mailboxes_name_their_domain() {
        let s = customer();
        assert_eq!(ids("https://www.example.it/wp-admin dà 403", &s), ["d1"]);
        assert_eq!(ids("non ricevo posta su info@mario.it", &s), ["h2"]);
        assert_eq!(ids("mail.example.it rifiuta la connessione", &s), ["d1"]);
    }

    #[test]
    fn punctuation_around_an_identifier_does_not_hide_it() {
        let s = customer();
        assert_eq!(ids("Il dominio è mario.it.", &s), ["h2"]);
        assert_eq!(ids("(vps-1), «example.it»: errore", &s), ["v1", "d1"]);
        assert_eq!(ids("mario.it: sito lento", &s), ["h2"]);
    }

    #[test]
    fn a_subdomain_that_is_a_service_of_its_own_names_only_itself() {
        let s = vec![
            service("a", "Hosting Pro", "example.it"),
            service("b", "Hosting Pro", "shop.example.it"),
        ];
        assert_eq!(ids("shop.example.it è lento", &s), ["b"]);
        assert_eq!(ids("www.example.it è lento", &s), ["a"]);
    }

    #[test]
    fn a_unique_product_name_names_its_service() {
        let s = customer();
        assert_eq!(ids("la cronusvps non si avvia", &s), ["v1"]);
        assert_eq!(ids("Hosting  WordPress: pagina bianca", &s), ["h1"]);
    }

    #[test]
    fn beside_an_identifier_a_product_name_is_what_is_asked_for_not_another_service() {
        let s = vec![
            service("b", "Hosting Basic Illimitato", "blog-mario.it"),
            service("r", "Hosting Pro", "studio-rossi.it"),
        ];
        assert_eq!(
            ids(
                "Preventivo per passaggio di blog-mario.it a Hosting Pro",
                &s
            ),
            ["b"]
        );
        assert_eq!(ids("Hosting Pro lento", &s), ["r"]);
    }

    #[test]
    fn a_product_the_customer_has_twice_names_neither() {
        let s = vec![
            service("a", "CronusVPS", "vps-1"),
            service("b", "CronusVPS", "vps-2"),
            service("c", "Fracto", "fracto-7"),
        ];
        assert!(ids("CronusVPS non raggiungibile", &s).is_empty());
        assert_eq!(ids("Fracto lento", &s), ["c"]);
    }

    #[test]
    fn a_product_named_with_everyday_words_is_not_read_into_sentences() {
        let s = vec![
            service("d", "Dominio", "mario.it"),
            service("m", "Server SMTP", "smtp-3"),
        ];
        assert!(ids("il dominio scade, il server smtp rifiuta", &s).is_empty());
    }

    #[test]
    fn a_product_name_counts_only_as_whole_words() {
        let s = customer();
        assert!(ids("hosting wordpressiano", &s).is_empty());
        assert!(ids("CronusVPSx", &s).is_empty());
    }

    #[test]
    fn each_service_is_named_once_and_in_the_order_of_the_list() {
        let s = customer();
        assert_eq!(
            ids("example.it, vps-1, example.it, pizzeria-da-mario.it", &s),
            ["h1", "v1", "d1"]
        );
    }

    #[test]
    fn an_identifier_with_spaces_is_still_found_as_a_whole() {
        let s = vec![service("r", "Colocation", "Rack 12")];
        assert_eq!(ids("il rack 12 è senza rete", &s), ["r"]);
        assert!(ids("il rack 123 è senza rete", &s).is_empty());
    }

    #[test]
    fn empty_texts_and_empty_identifiers_name_nothing() {
        let s = vec![service("x", "", "")];
        assert!(ids("qualunque cosa", &s).is_empty());
        assert!(ids("", &customer()).is_empty());
        assert!(ids("   ", &customer()).is_empty());
    }

    #[test]
    fn non_ascii_text_never_confuses_the_match() {
        let s = vec![service("x", "Hosting Pro", "caffè.it")];
        assert_eq!(ids("Il sito CAFFÈ.IT è giù — perché?", &s), ["x"]);
        assert!(ids("İİİ ßß 🙂 mario.it", &customer()).len() == 1);
    }
}

#[cfg(test)]
mod choosing {
    use super::*;
    use crate::api::ServiceStatus;

    fn svc(id: &str, family: ServiceFamily, identifier: &str) -> Service {
        Service {
            panel_id: None,
            id: id.into(),
            family,
            product: "p".into(),
            identifier: identifier.into(),
            status: ServiceStatus::Active,
        }
    }

    #[test]
    fn a_domain_and_its_hosting_are_one_name_chosen_by_department() {
        let hosting = svc("h", ServiceFamily::HostingShared, "mario.it");
        let domain = svc("d", ServiceFamily::Domain, "mario.it");
        let named = vec![&hosting, &domain];
        assert_eq!(distinct_names(&named), 1);
        assert_eq!(
            service_for(&named, Department::Helpdesk).map(|s| s.id.as_str()),
            Some("h")
        );
        assert_eq!(
            service_for(&named, Department::Sales).map(|s| s.id.as_str()),
            Some("d")
        );
    }

    #[test]
    fn two_different_names_choose_nothing() {
        let a = svc("a", ServiceFamily::HostingShared, "mario.it");
        let b = svc("b", ServiceFamily::Cronuscloud, "vps-0042");
        assert_eq!(distinct_names(&[&a, &b]), 2);
        assert!(service_for(&[&a, &b], Department::Helpdesk).is_none());
        assert!(service_for(&[], Department::Helpdesk).is_none());
        assert_eq!(
            service_for(&[&b], Department::Sales).map(|s| s.id.as_str()),
            Some("b")
        );
    }
}
