//! Subject quality: one rule for the wizard's live hints, the server's check and e-mail answers.
//!
//! The subject is read as tokens of a few classes, in Italian and English: greetings, filler and
//! generic words say nothing; symptoms ("lento", "scaduto", "non ricevo") and requests ("rinnovo",
//! "preventivo") say what is wrong or wanted; areas ("sito", "posta", "DNS") say roughly where;
//! specifics (domains, IP addresses, error codes, invoice numbers, the customer's own services)
//! pin it down. The verdict follows from which classes are present, not from a list of subjects.

use crate::api::{
    Assessment, Channel, Department, Hint, Service, ServiceFamily, ServiceStatus, Verdict,
};
use crate::code::TicketCode;
use crate::hints::{self, Key};
use crate::lang::Lang;
use crate::limits::{SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS};
use crate::mentions;
use std::sync::OnceLock;

/// What the subject is judged against.
#[derive(Debug, Clone, Copy)]
pub struct SubjectContext<'a> {
    pub department: Option<Department>,
    /// The service chosen in the wizard; on the web it counts as naming "where".
    pub chosen_service: Option<&'a Service>,
    /// All the customer's services: names and domains recognised in the subject, and examples.
    pub services: &'a [Service],
    /// By e-mail the subject itself must name the service or domain.
    pub channel: Channel,
    /// The language of the hints' messages (see [`crate::hints`]); nothing else depends on it.
    pub lang: Lang,
}

/// The subject does not say which domain or service (by e-mail it must).
pub const NAME_SERVICE: &str = "name_service";
/// The subject does not say what is wrong (technical help).
pub const DESCRIBE_SYMPTOM: &str = "describe_symptom";
/// The subject does not say what is wanted (commercial and administrative questions).
pub const DESCRIBE_REQUEST: &str = "describe_request";
/// Two unrelated problems in one subject.
pub const ONE_PROBLEM: &str = "one_problem";
/// The same kind of problem on two different services or domains.
pub const ONE_SERVICE: &str = "one_service";
/// The subject names another of the customer's services than the one chosen.
pub const OTHER_SERVICE: &str = "other_service";
pub const TOO_SHORT: &str = "too_short";
pub const TOO_LONG: &str = "too_long";
/// Written all in capitals.
pub const NO_SHOUTING: &str = "no_shouting";
/// "Urgente", "ASAP" and the like, which route nothing.
pub const NO_URGENCY: &str = "no_urgency";
/// Greetings and courtesy formulas, which belong in the description.
pub const DROP_GREETINGS: &str = "drop_greetings";

/// Every hint code `assess` can return, most important first.
pub const HINT_CODES: &[&str] = &[
    ONE_PROBLEM,
    ONE_SERVICE,
    OTHER_SERVICE,
    DESCRIBE_SYMPTOM,
    DESCRIBE_REQUEST,
    NAME_SERVICE,
    NO_URGENCY,
    NO_SHOUTING,
    DROP_GREETINGS,
    TOO_SHORT,
    TOO_LONG,
];

/// Every hint code `assess` can return, e.g. for the app's and the server's own checks.
pub fn hint_codes() -> &'static [&'static str] {
    HINT_CODES
}

/// Scores from here up are `good`.
pub const GOOD_MIN_SCORE: u8 = 65;
/// Scores from here up to `GOOD_MIN_SCORE` are `weak`; below, `generic`.
pub const WEAK_MIN_SCORE: u8 = 30;

/// More hints than this at once read as nagging; the most important come first.
const MAX_HINTS: usize = 3;

/// Judges a ticket subject in its context: a score from 0 to 100, a verdict and what to add.
pub fn assess(subject: &str, ctx: &SubjectContext<'_>) -> Assessment {
    let text = strip_reply_prefixes(head(subject));
    let tokens = tokenize(text);
    let scan = mentions::Scan::new(text);
    let named_at: Vec<usize> = scan.named(ctx.services);
    let named: Vec<&Service> = named_at.iter().map(|&i| &ctx.services[i]).collect();
    let f = Facts::read(&tokens.list, text, ctx.services, &named_at, &scan);
    let web = ctx.channel == Channel::Web;
    // By e-mail a service the intake guessed is no excuse for a subject that does not name it.
    let chosen = ctx.chosen_service.filter(|_| web);
    let sales = match ctx.department {
        Some(d) => d == Department::Sales,
        None => f.purchase > 0 || (f.billing && f.symptom == 0),
    };
    // Requests, commercial or technical, get examples of requests rather than of symptoms.
    let asks = sales || (f.request > 0 && f.symptom + f.vague == 0);

    let where_in_subject = f.wheres > 0 || !named.is_empty();
    let has_object = f.broad + f.narrow + f.content + f.codes > 0 || where_in_subject;
    let strong_what = f.symptom > 0
        || f.codes > 0
        || (f.request > 0 && (has_object || f.service_words > 0))
        // "Impostare inoltro": the second request names what the first acts on.
        || (f.area_requests > 0 && f.request >= 2)
        || (f.self_contained > 0 && chosen.is_some() && f.ticket_words == 0)
        || (f.vague > 0 && (f.narrow > 0 || f.content > 0))
        || (f.content >= 2 && f.narrow >= 1)
        || (f.content >= 3 && f.broad >= 1)
        // "Outlook keeps asking for the password": a sentence about two objects, not "problema".
        || (f.narrow >= 2 && f.content >= 1 && f.generic == 0);
    // "Aggiornamento ticket" asks about the ticket, not about a service.
    let about_the_ticket = f.ticket_words > 0 && !has_object && f.service_words == 0;
    let says_something = strong_what
        || (f.request > 0 && !about_the_ticket)
        || f.broad + f.narrow + f.content > 0
        || where_in_subject;
    // A purchase needs no existing service, and an invoice number identifies what it is about.
    let where_ok = web || where_in_subject || f.purchase > 0 || (f.billing && f.codes > 0);
    let other_service = match chosen {
        Some(cs) if !named.is_empty() => !named
            .iter()
            .any(|s| s.id == cs.id || s.identifier.eq_ignore_ascii_case(&cs.identifier)),
        _ => false,
    };
    let chars = text.trim().chars().count();
    // A subject too short to be read as one ("500") is not called clear while a hint says it is
    // too short: a hint and its verdict never disagree.
    let verdict = if !says_something {
        Verdict::Generic
    } else if strong_what
        && where_ok
        && !f.multi_problem
        && !f.multi_service
        && !other_service
        && chars >= SUBJECT_MIN_CHARS
    {
        Verdict::Good
    } else {
        Verdict::Weak
    };

    let too_short = chars < SUBJECT_MIN_CHARS || (f.tokens <= 1 && verdict != Verdict::Good);
    let too_long = subject.trim().chars().count() > SUBJECT_MAX_CHARS;
    let shouting = tokens.upper >= 4 && tokens.upper > 2 * tokens.lower;
    let exclaiming = text.matches('!').count() >= 2 || text.contains("??");

    let mut score: i32 = 0;
    if strong_what {
        score += 50;
    } else if f.vague + f.request > 0 {
        score += 20;
    }
    score += if f.narrow > 0 {
        12
    } else if f.broad > 0 {
        8
    } else {
        0
    };
    score += 3 * f.content.min(3) as i32;
    if f.codes > 0 {
        score += 8;
    }
    if where_in_subject {
        score += 22;
    } else if chosen.is_some() {
        score += 18;
    }
    if f.symptom + f.request + f.codes >= 2 {
        score += 8;
    }
    if shouting {
        score -= 15;
    }
    if f.urgency > 0 {
        score -= 8;
    }
    score -= (4 * (f.greeting + f.filler) as i32).min(10);
    if exclaiming {
        score -= 5;
    }
    if too_long {
        score -= 10;
    }
    if f.multi_problem || f.multi_service {
        score -= 15;
    }
    if other_service {
        score -= 10;
    }
    let (lo, hi) = match verdict {
        Verdict::Generic => (0, i32::from(WEAK_MIN_SCORE) - 1),
        Verdict::Weak => (i32::from(WEAK_MIN_SCORE), i32::from(GOOD_MIN_SCORE) - 1),
        Verdict::Good => (i32::from(GOOD_MIN_SCORE), 100),
    };
    let score = score.clamp(lo, hi) as u8;

    let mut codes: Vec<&'static str> = Vec::with_capacity(4);
    if f.multi_problem {
        codes.push(ONE_PROBLEM);
    } else if f.multi_service {
        codes.push(ONE_SERVICE);
    }
    if other_service {
        codes.push(OTHER_SERVICE);
    }
    if !strong_what {
        codes.push(if asks {
            DESCRIBE_REQUEST
        } else {
            DESCRIBE_SYMPTOM
        });
    }
    let no_service_yet = web && ctx.chosen_service.is_none() && !sales;
    if !where_ok || (no_service_yet && !where_in_subject && verdict != Verdict::Good) {
        codes.push(NAME_SERVICE);
    }
    if f.urgency > 0 {
        codes.push(NO_URGENCY);
    }
    if shouting {
        codes.push(NO_SHOUTING);
    }
    if f.greeting > 0 || (f.filler > 0 && verdict != Verdict::Good) {
        codes.push(DROP_GREETINGS);
    }
    if too_short {
        codes.push(TOO_SHORT);
    }
    if too_long {
        codes.push(TOO_LONG);
    }
    codes.truncate(MAX_HINTS);

    let writer = HintWriter {
        ctx,
        text,
        sales,
        asks,
        billing: f.billing && !where_in_subject,
        echo_request: f.request > 0
            && !has_object
            && chars <= 40
            && f.greeting + f.filler + f.urgency == 0
            && !shouting,
        example: if codes.is_empty() {
            None
        } else {
            example_service(ctx, &scan)
        },
        named: named.first().copied(),
        symptom_is_fine: strong_what
            && !shouting
            && chars <= 60
            && f.greeting + f.filler + f.urgency == 0,
        with_describe: codes.contains(&DESCRIBE_SYMPTOM) || codes.contains(&DESCRIBE_REQUEST),
    };
    let hints = codes
        .into_iter()
        .map(|code| Hint {
            code: code.to_string(),
            message: writer.message(code),
        })
        .collect();
    Assessment {
        score,
        verdict,
        hints,
    }
}

/// Subjects are short; whatever was pasted beyond this cannot change the verdict, and leaving it
/// out keeps the check fast on any input.
const READ_AT_MOST: usize = 1024;

fn head(s: &str) -> &str {
    if s.len() <= READ_AT_MOST {
        return s;
    }
    let mut end = READ_AT_MOST;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// "Re:", "R:", "Fwd:", "I:" and their kin say nothing about the problem.
fn strip_reply_prefixes(subject: &str) -> &str {
    const PREFIXES: &[&str] = &[
        "aw", "fw", "fwd", "i", "inoltro", "r", "re", "rif", "ris", "sv", "tr", "wg",
    ];
    let mut rest = subject.trim_start();
    while let Some(colon) = rest.find(':') {
        if colon > 10 {
            break;
        }
        let head = rest[..colon].trim();
        let head = head.split('[').next().unwrap_or(head).trim();
        if !PREFIXES.iter().any(|p| head.eq_ignore_ascii_case(p)) {
            break;
        }
        rest = rest[colon + 1..].trim_start();
    }
    rest
}

// ----- hint sentences -----

struct HintWriter<'a, 'c> {
    ctx: &'c SubjectContext<'a>,
    text: &'c str,
    /// A commercial or administrative question.
    sales: bool,
    /// A request rather than a problem.
    asks: bool,
    /// About an invoice or a payment that the subject does not identify.
    billing: bool,
    /// A request without its object ("Rinnovo"): the example completes the customer's own words.
    echo_request: bool,
    example: Option<&'a Service>,
    named: Option<&'a Service>,
    /// The subject already says what is wrong: the example can reuse it.
    symptom_is_fine: bool,
    /// A describe hint already shows a whole example subject.
    with_describe: bool,
}

impl HintWriter<'_, '_> {
    fn style(&self) -> Style {
        if self.sales {
            Style::Sales
        } else if self.asks {
            Style::Request
        } else {
            Style::Symptom
        }
    }

    /// The hint's sentence in the context's language, from the one table of [`crate::hints`].
    fn message(&self, code: &str) -> String {
        let lang = self.ctx.lang;
        let service = identifier_or_placeholder(self.example, lang);
        let subject = self.text.trim();
        match code {
            NAME_SERVICE if self.with_describe => {
                hints::text(Key::NameServiceOnly, lang, &[("service", service)])
            }
            NAME_SERVICE if self.symptom_is_fine => hints::text(
                Key::NameServiceWithSubject,
                lang,
                &[("service", service), ("subject", subject)],
            ),
            NAME_SERVICE => {
                let example = example(self.example, self.style(), lang);
                hints::text(Key::NameService, lang, &[("example", &example)])
            }
            DESCRIBE_SYMPTOM => {
                let example = example(self.example, Style::Symptom, lang);
                hints::text(Key::DescribeSymptom, lang, &[("example", &example)])
            }
            DESCRIBE_REQUEST if self.echo_request => hints::text(
                Key::DescribeRequestEcho,
                lang,
                &[("subject", subject), ("service", service)],
            ),
            DESCRIBE_REQUEST => {
                let example = if self.billing {
                    hints::template(Key::ExampleBilling, lang).to_string()
                } else {
                    example(self.example, self.style(), lang)
                };
                hints::text(Key::DescribeRequest, lang, &[("example", &example)])
            }
            ONE_PROBLEM => hints::text(Key::OneProblem, lang, &[]),
            ONE_SERVICE => hints::text(Key::OneService, lang, &[]),
            OTHER_SERVICE => hints::text(
                Key::OtherService,
                lang,
                &[
                    ("named", self.named.map_or("", |s| s.identifier.trim())),
                    (
                        "chosen",
                        self.ctx.chosen_service.map_or("", |s| s.identifier.trim()),
                    ),
                ],
            ),
            TOO_SHORT if self.asks => hints::text(Key::TooShortAsks, lang, &[]),
            TOO_SHORT => hints::text(Key::TooShort, lang, &[]),
            NO_SHOUTING => hints::text(Key::NoShouting, lang, &[]),
            NO_URGENCY if self.asks => hints::text(Key::NoUrgencyAsks, lang, &[]),
            NO_URGENCY => hints::text(Key::NoUrgency, lang, &[]),
            DROP_GREETINGS => hints::text(Key::DropGreetings, lang, &[]),
            TOO_LONG => hints::text(
                Key::TooLong,
                lang,
                &[("max", &SUBJECT_MAX_CHARS.to_string())],
            ),
            _ => String::new(),
        }
    }
}

/// The service to build examples from: the chosen one, one whose product the subject names, or
/// the customer's first active service.
fn example_service<'a>(ctx: &SubjectContext<'a>, scan: &mentions::Scan<'_>) -> Option<&'a Service> {
    ctx.chosen_service
        .or_else(|| {
            let words = scan.words();
            ctx.services
                .iter()
                .find(|s| mentions::product_named(words, &s.product))
        })
        .or_else(|| {
            ctx.services
                .iter()
                .find(|s| s.status == ServiceStatus::Active)
        })
        .or(ctx.services.first())
}

/// The service's own identifier (or product) as the customer knows it, untouched; a placeholder
/// domain in `lang` when there is none.
fn identifier_or_placeholder(service: Option<&Service>, lang: Lang) -> &str {
    match service {
        Some(s) if !s.identifier.trim().is_empty() => s.identifier.trim(),
        Some(s) if !s.product.trim().is_empty() => s.product.trim(),
        _ => hints::template(Key::PlaceholderDomain, lang),
    }
}

/// What an example subject shows.
#[derive(Clone, Copy)]
enum Style {
    Symptom,
    /// A technical request: a configuration, an activation.
    Request,
    /// A commercial or administrative request.
    Sales,
}

/// A subject as we would like to read it, for the customer's own service, in `lang`.
fn example(service: Option<&Service>, style: Style, lang: Lang) -> String {
    use ServiceFamily as F;
    let id = identifier_or_placeholder(service, lang);
    let product = service.map(|s| s.product.to_ascii_lowercase());
    let product = product.as_deref().unwrap_or("");
    let family = service.map(|s| s.family);
    let (mail, smtp) = (product.contains("mail"), product.contains("smtp"));
    let key = match (style, family) {
        (Style::Sales, Some(F::Domain)) => Key::ExampleSalesDomain,
        (Style::Sales, None) => Key::ExampleSalesNoService,
        (Style::Sales, Some(F::HostingShared)) => Key::ExampleSalesHosting,
        (Style::Sales, Some(F::Cronuscloud)) => Key::ExampleSalesCloud,
        (Style::Sales, _) => Key::ExampleSalesOther,
        (Style::Request, Some(F::Cronuscloud)) if smtp => Key::ExampleRequestSmtp,
        (Style::Request, Some(F::Cronuscloud)) if mail => Key::ExampleRequestMail,
        (Style::Request, Some(F::Cronuscloud)) => Key::ExampleRequestCloud,
        (Style::Request, Some(F::Colocation)) => Key::ExampleRequestColocation,
        (Style::Request, Some(F::Dedicated)) => Key::ExampleRequestDedicated,
        (Style::Request, Some(F::Domain)) => Key::ExampleRequestDomain,
        (Style::Request, _) => Key::ExampleRequestOther,
        (Style::Symptom, Some(F::Cronuscloud)) if smtp => Key::ExampleSymptomSmtp,
        (Style::Symptom, Some(F::Cronuscloud)) if mail => Key::ExampleSymptomMail,
        (Style::Symptom, Some(F::Cronuscloud)) => Key::ExampleSymptomCloud,
        (Style::Symptom, Some(F::Colocation)) => Key::ExampleSymptomColocation,
        (Style::Symptom, Some(F::Dedicated)) => Key::ExampleSymptomDedicated,
        (Style::Symptom, Some(F::Domain)) => Key::ExampleSymptomDomain,
        (Style::Symptom, _) => Key::ExampleSymptomOther,
    };
    hints::text(key, lang, &[("service", id)])
}

// ----- reading the subject -----

type Group = u8;
const WEB: Group = 1;
const MAIL: Group = 2;
const DNS: Group = 4;
const SERVER: Group = 8;
const ACCOUNT: Group = 16;
const BILLING: Group = 32;
const AREAS: Group = 63;
/// Not an area: marks a request complete in itself once the service is known ("rinnovo",
/// "riavvio"), unlike "modifica" or "configurazione", which need to say of what.
const SELF: Group = 64;

/// Areas whose problems are often one problem ("disco pieno e sito lento", "dominio scaduto e
/// posta ferma"); billing is related to nothing technical.
fn related(a: Group, b: Group) -> bool {
    fn expand(g: Group) -> Group {
        let mut e = g;
        if g & WEB != 0 {
            e |= SERVER | DNS | ACCOUNT;
        }
        if g & SERVER != 0 {
            e |= WEB | ACCOUNT;
        }
        if g & DNS != 0 {
            e |= WEB | MAIL;
        }
        if g & MAIL != 0 {
            e |= DNS | ACCOUNT;
        }
        if g & ACCOUNT != 0 {
            e |= WEB | MAIL | SERVER;
        }
        e
    }
    a & expand(b) != 0 || b & expand(a) != 0
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Stop,
    Greeting,
    /// "Good", "morning", "staff": a greeting only where one stands (see
    /// `Tokens::place_greetings`); after tokenizing, every one is a `Greeting` or a `Stop`.
    GreetingInPlace,
    Filler,
    Urgency,
    Generic,
    /// "non", "not", "impossibile": a symptom when something follows it.
    Negation,
    /// "funziona", "va", "working": with a negation, a vague symptom.
    Works,
    /// Says something is wrong but not what: "errore", "guasto", "broken".
    Vague,
    /// "errore": vague, and makes a following small number an error code.
    ErrorWord,
    /// "codice", "status": makes a following small number a code.
    CodeWord,
    /// "servizio": says nothing alone, but is what "disdetta servizio" acts on.
    ServiceWord,
    /// "nuovo": a purchase when it says of what ("nuova casella"), else nothing.
    New,
    /// "ticket": a request about the ticket itself ("aggiornamento ticket") says nothing.
    TicketWord,
    /// "cliente", "rif.": says nothing, and makes a following number a reference, not a code.
    Reference,
    /// "richiesta": says nothing, unless what follows is what is asked for ("richiesta authcode").
    Ask,
    Symptom,
    Request,
    /// A request that needs no existing service: "preventivo", "acquisto".
    Purchase,
    /// An area as broad as "sito" or "posta".
    Broad,
    /// A narrower object: "database", "certificato", "casella", "fattura".
    Narrow,
    /// A word we do not know: usually a noun that says something.
    Content,
    /// A domain, IP address, e-mail address or URL.
    Where,
    /// An error code, a number that identifies something, a file name.
    Code,
    Date,
    SmallNumber,
    /// Where one problem may end and another start: "e", "+", ";", ",".
    Break,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    group: Group,
    start: usize,
    end: usize,
}

struct Tokens {
    list: Vec<Token>,
    /// Letters of ordinary words in capitals and in lower case, to tell shouting.
    upper: u32,
    lower: u32,
}

const BREAK_CHARS: &[char] = &[';', ',', '+', '&', '|', '/', '-', '–', '—'];
const END_CHARS: &[char] = &[';', ',', '+', '&', '|', '.', '!', '?'];
const INNER_BREAK_CHARS: &[char] = &[';', ',', '+', '&', '|'];

fn tokenize(text: &str) -> Tokens {
    let mut t = Tokens {
        list: Vec::with_capacity(16),
        upper: 0,
        lower: 0,
    };
    let mut buf = String::with_capacity(32);
    let base = text.as_ptr() as usize;
    for chunk in text.split_whitespace() {
        let start = chunk.as_ptr() as usize - base;
        let Some(core_start) = chunk.find(char::is_alphanumeric) else {
            if chunk.contains(BREAK_CHARS) || chunk.contains(END_CHARS) {
                t.push(Kind::Break, 0, start, start);
            }
            continue;
        };
        let core_end = chunk
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_alphanumeric())
            .map_or(chunk.len(), |(i, c)| i + c.len_utf8());
        let lead = &chunk[..core_start];
        let core = &chunk[core_start..core_end];
        let trail = &chunk[core_end..];
        if lead.contains(BREAK_CHARS) {
            t.push(Kind::Break, 0, start, start);
        }
        if core.eq_ignore_ascii_case("e") && trail.starts_with(['\'', '’', '`']) {
            // "E' down": the verb written without its accent.
            t.push(Kind::Stop, 0, start, start + core.len());
        } else {
            t.chunk(core, start + core_start, &mut buf);
        }
        if trail.contains(END_CHARS) {
            t.push(Kind::Break, 0, start + chunk.len(), start + chunk.len());
        }
    }
    t.place_greetings(text);
    t
}

/// What ends a phrase, for a greeting's place: "Buon pomeriggio, …", "Morning: …".
const PHRASE_CHARS: &[char] = &[',', ';', ':', '.', '!', '?', '(', ')', '-', '–', '—'];

impl Tokens {
    fn push(&mut self, kind: Kind, group: Group, start: usize, end: usize) {
        self.list.push(Token {
            kind,
            group,
            start,
            end,
        });
    }

    /// Decides each word that greets only in a greeting's place: it is a greeting right after
    /// another ("Good morning", "Gentili signori"), or alone at the head of the subject or of a
    /// phrase ("Morning, …", "…, buon pomeriggio"); elsewhere it is a plain word ("very slow since
    /// this morning", "non andato a buon fine", "sito lento da un giorno", "staff area").
    fn place_greetings(&mut self, text: &str) {
        // Words only: a break made of punctuation takes no room in the text.
        let words: Vec<usize> = (0..self.list.len())
            .filter(|&i| self.list[i].end > self.list[i].start)
            .collect();
        let apart = |a: &Token, b: &Token| {
            text.get(a.end..b.start)
                .is_some_and(|gap| gap.contains(PHRASE_CHARS))
        };
        for (n, &i) in words.iter().enumerate() {
            let t = self.list[i];
            if t.kind != Kind::GreetingInPlace {
                continue;
            }
            // Decided in order, so the previous word is a `Greeting` or a `Stop` by now.
            let prev = n.checked_sub(1).map(|p| self.list[words[p]]);
            let next = words.get(n + 1).map(|&j| self.list[j]);
            let after_greeting = prev.is_some_and(|p| p.kind == Kind::Greeting);
            let opens = prev.is_none_or(|p| apart(&p, &t));
            let closes = next.is_none_or(|x| {
                apart(&t, &x) || matches!(x.kind, Kind::Greeting | Kind::GreetingInPlace)
            });
            self.list[i].kind = if after_greeting || (opens && closes) {
                Kind::Greeting
            } else {
                Kind::Stop
            };
        }
    }

    /// One whitespace-separated piece, without the punctuation around it.
    fn chunk(&mut self, core: &str, offset: usize, buf: &mut String) {
        if core.chars().all(char::is_alphanumeric) {
            // One plain word: nothing for the whole-chunk checks below to find.
            self.word(core, offset, false, buf);
            return;
        }
        if TicketCode::parse(core).is_some() {
            return;
        }
        normalize(core, buf);
        if let Some((kind, group)) = lookup_exact(buf) {
            self.push(kind, group, offset, offset + core.len());
            self.tally_caps(core, kind);
            return;
        }
        if let Some((kind, group)) = specific(core, buf) {
            self.push(kind, group, offset, offset + core.len());
            return;
        }
        let mut prev_end = 0;
        let mut run_start = None;
        for (i, c) in core.char_indices().chain(Some((core.len(), ' '))) {
            let alnum = i < core.len() && c.is_alphanumeric();
            match (alnum, run_start) {
                (true, None) => run_start = Some(i),
                (false, Some(ws)) => {
                    let sep = &core[prev_end..ws];
                    if sep.contains(INNER_BREAK_CHARS) {
                        self.push(Kind::Break, 0, offset + ws, offset + ws);
                    }
                    let after_apostrophe = sep.contains(['\'', '’']);
                    self.word(&core[ws..i], offset + ws, after_apostrophe, buf);
                    prev_end = i;
                    run_start = None;
                }
                _ => {}
            }
        }
    }

    fn word(&mut self, w: &str, offset: usize, after_apostrophe: bool, buf: &mut String) {
        normalize(w, buf);
        squeeze_repeats(buf);
        let has_digit = w.bytes().any(|b| b.is_ascii_digit());
        let (kind, group) = if w.bytes().all(|b| b.is_ascii_digit()) {
            number_kind(w)
        } else if w == "e" || w == "E" {
            (Kind::Break, 0)
        } else if buf == "e" {
            // "è" (is), not "e" (and).
            (Kind::Stop, 0)
        } else if buf == "t" && after_apostrophe {
            // "can't", "doesn't".
            (Kind::Negation, 0)
        } else if let Some(hit) = lookup(buf) {
            hit
        } else if has_digit {
            (Kind::Code, 0)
        } else if w.chars().count() >= 3 {
            (Kind::Content, 0)
        } else {
            (Kind::Stop, 0)
        };
        self.push(kind, group, offset, offset + w.len());
        self.tally_caps(w, kind);
    }

    fn tally_caps(&mut self, w: &str, kind: Kind) {
        let letters = w.chars().filter(|c| c.is_alphabetic()).count();
        // "SSL", "DNS", "SEO" are written in capitals by everyone.
        let acronym = letters <= 4
            && matches!(
                kind,
                Kind::Narrow | Kind::Broad | Kind::Content | Kind::Code | Kind::Where
            );
        if acronym {
            return;
        }
        for c in w.chars() {
            if c.is_uppercase() {
                self.upper += 1;
            } else if c.is_lowercase() {
                self.lower += 1;
            }
        }
    }
}

/// Lower case, accents folded ("è" → "e"), so that "Perché", "PERCHE'" and "perche" are one word.
fn normalize(s: &str, buf: &mut String) {
    buf.clear();
    for c in s.chars() {
        if c.is_ascii() {
            buf.push(c.to_ascii_lowercase());
            continue;
        }
        let folded = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
                'a'
            }
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            'ñ' | 'Ñ' => 'n',
            '’' | '‘' | '´' => '\'',
            '–' | '—' => '-',
            _ => {
                buf.extend(c.to_lowercase());
                continue;
            }
        };
        buf.push(folded);
    }
}

/// A chunk that is one specific thing as a whole: an address, a code, a number, a date.
fn specific(core: &str, lower: &str) -> Option<(Kind, Group)> {
    if let Some(at) = lower.rfind('@') {
        let domain = &lower[at + 1..];
        return (at > 0 && domain_like(domain) == DomainLike::Domain).then_some((Kind::Where, 0));
    }
    if lower.contains("://") {
        return Some((Kind::Where, 0));
    }
    if is_ipv6(lower) {
        return Some((Kind::Where, 0));
    }
    let host = lower.split('/').next().unwrap_or(lower);
    let host_no_port = host.split(':').next().unwrap_or(host);
    if is_ipv4(host_no_port) {
        return Some((Kind::Where, 0));
    }
    match domain_like(host_no_port) {
        DomainLike::Domain => return Some((Kind::Where, 0)),
        DomainLike::File if host.len() == lower.len() => return Some((Kind::Code, 0)),
        _ => {}
    }
    let b = lower.as_bytes();
    if b.iter().any(u8::is_ascii_digit)
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b':' | b'/' | b'-'))
    {
        return Some(number_kind(lower));
    }
    if lower.len() > 2 && lower.starts_with("0x") && b[2..].iter().all(u8::is_ascii_hexdigit) {
        return Some((Kind::Code, 0));
    }
    if lower.contains('_')
        && core
            .chars()
            .any(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        // ERR_CONNECTION_REFUSED, DNS_PROBE_FINISHED_NXDOMAIN.
        return Some((Kind::Code, 0));
    }
    None
}

fn is_ipv4(s: &str) -> bool {
    let s = s.split('/').next().unwrap_or(s);
    let mut n = 0;
    for part in s.split('.') {
        n += 1;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if part.parse::<u16>().map_or(true, |v| v > 255) {
            return false;
        }
    }
    n == 4
}

fn is_ipv6(s: &str) -> bool {
    let colons = s.bytes().filter(|&b| b == b':').count();
    (colons >= 3 || s.contains("::"))
        && s.bytes().any(|b| b.is_ascii_hexdigit())
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

#[derive(PartialEq, Eq)]
enum DomainLike {
    Domain,
    File,
    No,
}

/// Whether a lower-case chunk looks like a domain name ("pizzeria-da-mario.it") or a file name
/// ("wp-config.php"). An unknown long "TLD" is more likely a missing space: "lento.grazie".
fn domain_like(s: &str) -> DomainLike {
    let mut labels = s.split('.');
    let Some(tld) = labels.next_back() else {
        return DomainLike::No;
    };
    let Some(sld) = labels.next_back() else {
        return DomainLike::No;
    };
    let labels_ok = s
        .split('.')
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    let tld_len = tld.chars().count();
    if !labels_ok
        || !(2..=24).contains(&tld_len)
        || !tld.chars().all(char::is_alphabetic)
        || sld.chars().count() < 2
    {
        return DomainLike::No;
    }
    if FILE_EXTENSIONS.binary_search(&tld).is_ok() {
        DomainLike::File
    } else if tld_len == 2 || !tld.is_ascii() || KNOWN_TLDS.binary_search(&tld).is_ok() {
        DomainLike::Domain
    } else {
        DomainLike::No
    }
}

fn number_kind(s: &str) -> (Kind, Group) {
    let is_year = |p: &str| p.len() == 4 && (p.starts_with("19") || p.starts_with("20"));
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.len() {
            0..=2 => (Kind::SmallNumber, 0),
            3 => (Kind::Code, status_code_group(s)),
            _ if is_year(s) => (Kind::Date, 0),
            _ => (Kind::Code, 0),
        };
    }
    let mut parts = [""; 4];
    let mut n = 0;
    for p in s.split(['.', ':', '/', '-']).filter(|p| !p.is_empty()) {
        if n == parts.len() {
            return (Kind::Code, 0);
        }
        parts[n] = p;
        n += 1;
    }
    let short = |p: &str| p.len() <= 2;
    let date = match n {
        2 if s.contains(':') => short(parts[0]) && short(parts[1]),
        2 if s.contains('/') => short(parts[0]) && (short(parts[1]) || is_year(parts[1])),
        3 if s.contains(':') => parts.iter().take(3).all(|p| short(p)),
        3 => {
            (short(parts[0]) && short(parts[1]) && (parts[2].len() == 2 || is_year(parts[2])))
                || (is_year(parts[0]) && short(parts[1]) && short(parts[2]))
        }
        _ => false,
    };
    if date {
        return (Kind::Date, 0);
    }
    // "5.7.1" is an SMTP enhanced status code.
    let smtp =
        n == 3 && parts.iter().take(3).all(|p| p.len() == 1) && matches!(parts[0], "2" | "4" | "5");
    (Kind::Code, if smtp { MAIL } else { 0 })
}

/// HTTP or SMTP, from the number: "550" is about mail, "500" about a web site.
fn status_code_group(s: &str) -> Group {
    match s.parse::<u16>().unwrap_or(0) {
        421 | 450..=452 | 530..=535 | 550..=554 => MAIL,
        400..=599 => WEB,
        _ => 0,
    }
}

#[derive(Default)]
struct Facts {
    symptom: u32,
    vague: u32,
    request: u32,
    purchase: u32,
    broad: u32,
    narrow: u32,
    content: u32,
    codes: u32,
    wheres: u32,
    greeting: u32,
    filler: u32,
    urgency: u32,
    service_words: u32,
    new: u32,
    ticket_words: u32,
    /// Requests that name their area: "inoltro", "puntamento", "delisting".
    area_requests: u32,
    /// "Problema", "assistenza", a "richiesta" of nothing in particular.
    generic: u32,
    self_contained: u32,
    /// Words of any kind, articles included.
    tokens: u32,
    billing: bool,
    multi_problem: bool,
    multi_service: bool,
}

/// A stretch of the subject between two breaks: possibly a problem of its own.
#[derive(Clone, Copy)]
struct Part {
    start: usize,
    end: usize,
    what: bool,
    what_groups: Group,
    topic_groups: Group,
}

impl Part {
    const EMPTY: Part = Part {
        start: usize::MAX,
        end: 0,
        what: false,
        what_groups: 0,
        topic_groups: 0,
    };

    /// What the part is about: the area of its symptom or request, else of its objects
    /// ("password" goes with whatever it is the password of).
    fn focus(&self) -> Group {
        if self.what_groups != 0 {
            return self.what_groups;
        }
        let g = self.topic_groups;
        if g & !ACCOUNT != 0 {
            g & !ACCOUNT
        } else {
            g
        }
    }
}

/// A number right after "cliente", "pratica", "ticket" and the like, "#" and "n." aside.
fn is_reference(toks: &[Token], i: usize, text: &str) -> bool {
    let numeric = text
        .get(toks[i].start..toks[i].end)
        .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit() || b"./-".contains(&b)));
    numeric
        && toks[..i]
            .iter()
            .rev()
            .take(3)
            .find(|p| !matches!(p.kind, Kind::Stop | Kind::Break))
            .is_some_and(|p| matches!(p.kind, Kind::Reference | Kind::TicketWord))
}

fn skip_after_negation(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Stop
            | Kind::Filler
            | Kind::Greeting
            | Kind::Urgency
            | Kind::Generic
            | Kind::Reference
            | Kind::Ask
            | Kind::Negation
            | Kind::SmallNumber
            | Kind::TicketWord
    )
}

impl Facts {
    /// `named`: the indices in `services` of those the whole subject names.
    fn read(
        toks: &[Token],
        text: &str,
        services: &[Service],
        named: &[usize],
        scan: &mentions::Scan<'_>,
    ) -> Facts {
        let mut f = Facts::default();
        let mut parts: Vec<Part> = Vec::new();
        let mut cur = Part::EMPTY;
        for (i, t) in toks.iter().enumerate() {
            if t.kind == Kind::Break {
                if cur.start != usize::MAX {
                    parts.push(cur);
                }
                cur = Part::EMPTY;
                continue;
            }
            cur.start = cur.start.min(t.start);
            cur.end = t.end;
            f.tokens += 1;
            if t.group & BILLING != 0 {
                f.billing = true;
            }
            match t.kind {
                Kind::Negation => {
                    let next = toks[i + 1..]
                        .iter()
                        .take(6)
                        .take_while(|n| n.kind != Kind::Break)
                        .find(|n| !skip_after_negation(n.kind));
                    match next {
                        None => f.vague += 1,
                        Some(n) if n.kind == Kind::Works => f.vague += 1,
                        Some(_) => f.symptom += 1,
                    }
                    cur.what = true;
                }
                Kind::Ask => {
                    let object = toks[i + 1..]
                        .iter()
                        .take(4)
                        .take_while(|n| n.kind != Kind::Break)
                        .find(|n| !matches!(n.kind, Kind::Stop | Kind::CodeWord | Kind::New));
                    if let Some(n) = object.filter(|n| n.kind == Kind::Narrow) {
                        f.request += 1;
                        cur.what = true;
                        cur.what_groups |= n.group & AREAS;
                    } else {
                        f.generic += 1;
                    }
                }
                Kind::Vague | Kind::ErrorWord => {
                    f.vague += 1;
                    cur.what = true;
                }
                Kind::SmallNumber => {
                    let prev = toks[..i].iter().rev().find(|p| p.kind != Kind::Stop);
                    if prev.is_some_and(|p| matches!(p.kind, Kind::ErrorWord | Kind::CodeWord)) {
                        f.codes += 1;
                        cur.what = true;
                    }
                }
                // "Cliente 10234", "ticket #4567": which customer or ticket, not what is wrong.
                Kind::Code if is_reference(toks, i, text) => {}
                Kind::Symptom | Kind::Request | Kind::Purchase | Kind::Code => {
                    match t.kind {
                        Kind::Symptom => f.symptom += 1,
                        Kind::Code => f.codes += 1,
                        Kind::Purchase => {
                            f.request += 1;
                            f.purchase += 1;
                        }
                        _ => {
                            f.request += 1;
                            if t.group & (MAIL | DNS) != 0 {
                                f.area_requests += 1;
                            }
                        }
                    }
                    cur.what = true;
                    cur.what_groups |= t.group & AREAS;
                    if t.group & SELF != 0 {
                        f.self_contained += 1;
                    }
                }
                Kind::Broad => {
                    f.broad += 1;
                    cur.topic_groups |= t.group & AREAS;
                }
                Kind::Narrow => {
                    f.narrow += 1;
                    cur.topic_groups |= t.group & AREAS;
                }
                Kind::Content => f.content += 1,
                Kind::ServiceWord => f.service_words += 1,
                Kind::New => f.new += 1,
                Kind::TicketWord => f.ticket_words += 1,
                Kind::Generic | Kind::Reference => f.generic += 1,
                Kind::Where => f.wheres += 1,
                Kind::Greeting => f.greeting += 1,
                Kind::Filler => f.filler += 1,
                Kind::Urgency => f.urgency += 1,
                _ => {}
            }
        }
        if cur.start != usize::MAX {
            parts.push(cur);
        }
        if f.new > 0 && f.broad + f.narrow + f.content + f.wheres > 0 {
            f.request += 1;
            f.purchase += 1;
        }
        f.split_problems(&parts, toks, text, services, named, scan);
        f
    }

    /// Two stretches that each say what is wrong, about unrelated areas or different services.
    fn split_problems(
        &mut self,
        parts: &[Part],
        toks: &[Token],
        text: &str,
        services: &[Service],
        named: &[usize],
        scan: &mentions::Scan<'_>,
    ) {
        if parts.iter().filter(|p| p.what).count() < 2 {
            return;
        }
        // A subject has a handful of parts; a pasted paragraph must not make this quadratic.
        let with_what: Vec<&Part> = parts.iter().filter(|p| p.what).take(8).collect();
        for (i, a) in with_what.iter().enumerate() {
            for b in &with_what[i + 1..] {
                let (fa, fb) = (a.focus(), b.focus());
                if fa != 0 && fb != 0 && !related(fa, fb) {
                    self.multi_problem = true;
                    return;
                }
            }
        }
        let names: Vec<Vec<String>> = with_what
            .iter()
            .map(|p| part_names(p, toks, text, services, named, scan))
            .collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                if !a.is_empty() && !b.is_empty() && !a.iter().any(|n| b.contains(n)) {
                    self.multi_service = true;
                    return;
                }
            }
        }
    }
}

/// The domains, addresses and services a part of the subject names, normalised for comparison.
fn part_names(
    part: &Part,
    toks: &[Token],
    text: &str,
    services: &[Service],
    named: &[usize],
    scan: &mentions::Scan<'_>,
) -> Vec<String> {
    let mut names = Vec::new();
    for t in toks
        .iter()
        .filter(|t| t.kind == Kind::Where && t.start >= part.start && t.end <= part.end)
    {
        let mut host = text.get(t.start..t.end).unwrap_or("").to_lowercase();
        if let Some(p) = host.find("://") {
            host.drain(..p + 3);
        }
        if let Some(at) = host.rfind('@') {
            host.drain(..=at);
        }
        if let Some(slash) = host.find('/') {
            host.truncate(slash);
        }
        let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
        names.push(host);
    }
    if !named.is_empty() {
        let scan = scan.within(part.start, part.end);
        // Only services the whole subject names can be named by a part of it.
        for &i in named {
            if scan.names(services, i) {
                let id = services[i].identifier.trim().to_lowercase();
                names.push(id.strip_prefix("www.").unwrap_or(&id).to_string());
            }
        }
    }
    names
}

// ----- the lexicon -----

/// Each list below is one string of words separated by single spaces (a table of string slices
/// would cost the app 8 bytes of download per word).
///
/// Every list below merged into one table sorted by word, with where each first letter starts:
/// built on first use, it makes a lookup one short binary search instead of one per list, which
/// keeps a keystroke's check in the microseconds.
struct Lexicon {
    words: Vec<(&'static str, Kind, Group)>,
    /// `words[starts[b] as usize..starts[b + 1] as usize]` begin with the byte `b`.
    starts: [u16; 257],
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        const PLAIN: &[(&str, Kind)] = &[
            (STOP, Kind::Stop),
            (GREETING, Kind::Greeting),
            (GREETING_IN_PLACE, Kind::GreetingInPlace),
            (FILLER, Kind::Filler),
            (URGENCY, Kind::Urgency),
            (GENERIC, Kind::Generic),
            (NEGATION, Kind::Negation),
            (WORKS, Kind::Works),
            (VAGUE, Kind::Vague),
            (ERROR, Kind::ErrorWord),
            (CODE, Kind::CodeWord),
            (SERVICE_WORDS, Kind::ServiceWord),
            (NEW, Kind::New),
            (TICKET_WORDS, Kind::TicketWord),
            (REFERENCE, Kind::Reference),
            (ASK, Kind::Ask),
            (CONNECTOR, Kind::Break),
        ];
        const GROUPED: &[(GroupedWords, Kind)] = &[
            (SYMPTOM, Kind::Symptom),
            (REQUEST, Kind::Request),
            (PURCHASE, Kind::Purchase),
            (BROAD, Kind::Broad),
            (NARROW, Kind::Narrow),
        ];
        let mut words = Vec::with_capacity(1200);
        for (list, kind) in PLAIN {
            words.extend(list.split(' ').map(|w| (w, *kind, 0)));
        }
        for (lists, kind) in GROUPED {
            for (group, list) in *lists {
                words.extend(list.split(' ').map(|w| (w, *kind, *group)));
            }
        }
        words.sort_unstable_by_key(|e| e.0);
        let mut starts = [0u16; 257];
        for (b, start) in starts.iter_mut().enumerate() {
            *start = words.partition_point(|e| usize::from(e.0.as_bytes()[0]) < b) as u16;
        }
        Lexicon { words, starts }
    })
}

fn lookup_exact(w: &str) -> Option<(Kind, Group)> {
    let first = usize::from(*w.as_bytes().first()?);
    if w.len() > 24 {
        return None;
    }
    let lex = lexicon();
    let bucket = &lex.words[usize::from(lex.starts[first])..usize::from(lex.starts[first + 1])];
    let i = bucket.binary_search_by(|e| e.0.cmp(w)).ok()?;
    Some((bucket[i].1, bucket[i].2))
}

/// Looks a word up as written, then without an inflected ending: the lists hold stems such as
/// "scadut" (scaduto, scaduta, scaduti, scadute) and "fattur" (fattura, fatture).
fn lookup(w: &str) -> Option<(Kind, Group)> {
    if let Some(hit) = lookup_exact(w) {
        return Some(hit);
    }
    let strip = |w: &str, endings: &[u8]| -> Option<usize> {
        let last = *w.as_bytes().last()?;
        (w.len() > 3 && endings.contains(&last)).then(|| w.len() - 1)
    };
    if let Some(cut) = strip(w, b"aeios") {
        if let Some(hit) = lookup_exact(&w[..cut]) {
            return Some(hit);
        }
        // "sites" → "site" → "sit".
        if let Some(cut2) = strip(&w[..cut], b"aeio").filter(|_| w.ends_with('s')) {
            if let Some(hit) = lookup_exact(&w[..cut2]) {
                return Some(hit);
            }
        }
    }
    // Verb endings: "rimbalz" stands for rimbalzano, rimbalzato, rimbalzare.
    VERB_ENDINGS.split(' ').find_map(|end| {
        w.strip_suffix(end)
            .filter(|stem| stem.len() >= 4)
            .and_then(lookup_exact)
    })
}

/// Tried last, and only when at least four letters of stem remain.
const VERB_ENDINGS: &str =
    "ando endo ano ono ato ata ati ate ito ita iti ite uto uta uti ute are ere \
    ire ing ed";

/// "AIUTOOOO", "helppp": a letter written three times or more is one letter.
fn squeeze_repeats(buf: &mut String) {
    let b = buf.as_bytes();
    if !b
        .windows(3)
        .any(|w| w[0].is_ascii_lowercase() && w[0] == w[1] && w[1] == w[2])
    {
        return;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let run = b[i..].iter().take_while(|&&x| x == c).count();
        let keep = if c.is_ascii_lowercase() && run >= 3 {
            1
        } else {
            run
        };
        out.extend(std::iter::repeat_n(c, keep));
        i += run;
    }
    // Only whole ASCII bytes were dropped, so the rest is still UTF-8.
    *buf = String::from_utf8(out).unwrap_or_default();
}

const FILE_EXTENSIONS: &[&str] = &[
    "bak", "cfg", "conf", "css", "csv", "doc", "docx", "exe", "gif", "gz", "htaccess", "htm",
    "html", "ini", "jpeg", "jpg", "js", "json", "log", "mp4", "pdf", "php", "png", "py", "rar",
    "sh", "sql", "svg", "tar", "txt", "xls", "xlsx", "xml", "yml", "zip",
];

/// Generic top-level domains customers use; every two-letter one is taken as a country's.
#[rustfmt::skip]
const KNOWN_TLDS: &[&str] = &[
    "academy", "agency", "app", "art", "auto", "bar", "beauty", "bike", "bio", "biz", "blog",
    "cafe", "car", "care", "casa", "center", "city", "clinic", "cloud", "club", "coffee", "com",
    "company", "consulting", "dental", "design", "dev", "digital", "eco", "edu", "email", "energy",
    "events", "farm", "fashion", "fit", "fitness", "garden", "gov", "green", "group", "guru",
    "health", "host", "hosting", "hotel", "house", "immo", "info", "int", "law", "legal", "life",
    "live", "market", "marketing", "media", "menu", "mobi", "name", "net", "network", "news",
    "online", "org", "partners", "photo", "pizza", "pro", "restaurant", "rocks", "school",
    "services", "shop", "site", "social", "software", "solutions", "space", "store", "studio",
    "systems", "tech", "tel", "tours", "travel", "website", "wedding", "wiki", "wine", "work",
    "world", "xyz",
];

/// Words by the area they belong to (0: none in particular).
type GroupedWords = &'static [(Group, &'static str)];

/// Articles, prepositions, pronouns, auxiliaries: no information either way.
#[rustfmt::skip]
const STOP: &str = "a abbiamo about ad again agli ai al alcune alcuni all alla alle allo almost \
    already altra altre altri altro always anche ancora any anymore anyone anything appear appena \
    are as at attuale attuali avete aziendale aziendali back be been bene big breve by can che chi \
    ci circa col come con correctly correttamente cosa could da dai dal dall dalla dalle dallo \
    davvero days degli dei del dell della delle dello di diverse diversi do does domani dopo dove \
    durante during ecc eg elettronica en ennesim era erano essere etc everything fatto for from \
    get getting gia giorni gli goes going gone got grav gross ha hai hanno happened happening has \
    have ho hours i ie ieri il in is it its just la le li little lo longer ma mai major me mentre \
    mese mi mia mie miei minuti mio molte molti molto more my n ne negli nei nel nell nella nelle \
    nello nessuno never niente nostra nostre nostri nostro nothing now nr nulla num numero o of \
    oggi on only or ora ore our per perche personale piccol piu po pochi poi possiamo possibile \
    posso potete potreste potresti prima principale properly proprio puoi pure qua qualche \
    qualcosa qualcuno quale quali quando quanta quante quanti quanto quasi quel quella quelle \
    quelli quello questa queste questi questo qui quick really riesce riesco riescono risulta \
    risultano riusciamo sara secondo seems seguito sembra sembrano semplice sempre seri serious \
    settimana settimane si sia siamo siete simple since small solo some somebody someone something \
    sono spesso stamane stamattina stanotte stasera stata state stati stato stessa stesso still su \
    sua succede succedendo successo sue sui sul sull sulla sulle suo suoi tanta tante tanti tanto \
    terzo that the their there this through ti to today tonight tra tramite tutta tutte tutti \
    tutto ulteriore ulteriori un una uno us using veloce vengono very vi via viene vostra vostre \
    vostri vostro was we went were what when where which who why will with yesterday you your";

/// Greetings and courtesy formulas, which belong in the description: greetings wherever they are.
#[rustfmt::skip]
const GREETING: &str = "buonanotte buonasera buondi buongiorno ciao cordiali dear egregi egregio \
    gent gentile gentili hello hey hi madam regards saluti saluto salve sig sigg sir sirs spett \
    spett.le spettabile";

/// Words that greet only in a greeting's place ("Good morning", "Gentile staff"), and are plain
/// words elsewhere ("since this morning", "andato a buon fine").
#[rustfmt::skip]
const GREETING_IN_PLACE: &str = "afternoon buon evening giorno good morning pomeriggio signore \
    signori staff team";

/// "Vorrei", "per favore", "grazie": polite padding.
#[rustfmt::skip]
const FILLER: &str = "advice advise ask asking attendiamo attendo avere avrei avremmo bisogno \
    capire chiedere chiediamo chiedo contattarvi cortese cortesemente desideriamo desidero fare \
    favore gentilmente grazie inform kindly know like mille necessaria necessario necessita need \
    needed needs please pls plz prego requested required richiesto riscontro risposta sapere \
    scriviamo scrivo segnalare segnalo serve servirebbe servono thank thanks thx volevamo volevo \
    vorrei vorremmo want would";

/// Urgency routes nothing; the priority field (web) says it.
#[rustfmt::skip]
const URGENCY: &str = "asap emergency emergenza immediate immediately immediato important \
    importante presto priorita priority subito urgent urgente urgenti urgentissima urgentissimo \
    urgently urgenza";

/// Words every ticket could have as its subject: they say nothing of what or where.
#[rustfmt::skip]
const GENERIC: &str = "accord aiutaci aiutami aiutare aiutarmi aiutateci aiutatemi aiuto \
    amministrativa amministrative amministrativi amministrativo apertura aprire assistance \
    assistenza attenzione attesa attn avviso call callback caso chiamata chiamatemi chiarimenti \
    chiarimento commerciale commerciali complaint comunicazione comunicazioni consulenza contact \
    contatt contattateci contattatemi contatto department domanda domande dubbi dubbio enquiry fix \
    follow follow-up followup general generale generica generico help helpdesk info information \
    informations informazione informazioni inquiry interventi intervento issue issues lamentela \
    notice notifica notizi novita oggetto open parl persist persistent phone problem problema \
    problematica problematiche problemi problems prova quesiti quesito question questione \
    questions reclami reclamo reminder reparto richiamare ricontatt risolta risolto risoluzione \
    risolvere segnalazione segnalazioni situazione sollecitare solleciti sollecito solve sos \
    subject support supporto tech technical tecnica tecnici tecnico telefonata telefonic telefono \
    test ufficio vari varie vario wait waiting";

/// A negation makes what follows a symptom: "non ricevo", "can't send".
#[rustfmt::skip]
const NEGATION: &str = "aren cannot cant couldn didn doesn don hasn haven impossibile impossible \
    isn nessun nessuna nn no non not senza unable wasn without won wont";

/// "Does not work" is a symptom, but a vague one.
#[rustfmt::skip]
const WORKS: &str = "andare attiva attivo function functioning funziona funzionamento funzionano funzionante \
    funzionanti funzionare operativa operativo va vanno work worked working works";

/// Something is wrong, but not what.
#[rustfmt::skip]
const VAGUE: &str = "anomal anomalia anomalie behavior behaviour broken bug bugs check \
    comportament controllo critic difficolta difficulties difficulty fault glitch guasti guasto ko \
    male malfunzionamenti malfunzionamento rott strana strane strange strani strano trouble \
    troubles verifica verifiche weird wrong";

/// Vague alone, but what follows may be its code: "errore 42".
#[rustfmt::skip]
const ERROR: &str = "error errore errori errors";

/// Make a following small number a code: "codice 12".
#[rustfmt::skip]
const CODE: &str = "cod code codice exit sqlstate status";

/// "Servizio": what a request acts on once the service is known.
#[rustfmt::skip]
const SERVICE_WORDS: &str = "service services servizi servizio";

/// "Nuovo": a purchase when followed by what.
#[rustfmt::skip]
const NEW: &str = "new nuov";

/// The ticket itself, not a service.
#[rustfmt::skip]
const TICKET_WORDS: &str = "case pratica ticket tickets";

/// Who or which file: "codice cliente 10234", "rif. 4455".
#[rustfmt::skip]
const REFERENCE: &str = "cliente clienti customer id rif riferimento";

/// Asking, which says what only with its object: "richiesta authcode", not "richiesta info".
#[rustfmt::skip]
const ASK: &str = "request requests richiedo richiediamo richiesta richieste";

/// Join two things that may be two problems.
#[rustfmt::skip]
const CONNECTOR: &str = "also and ed inoltre plus";

/// What is wrong, with the area it belongs to when it has one. Stems stand for every ending.
#[rustfmt::skip]
const SYMPTOM: GroupedWords = &[
    (0, "alert allarme altissim attacchi attacco attack bann blocca bloccat blocco blocked \
        bucat bruteforce cadut cancellat clonat cloned compromess compromised corrott corrupt \
        corrupted crash crasha \
        crashed critical damaged danneggiat deactivated delay delayed deleted denied deny \
        dimenticat disabilitat disabled disappeared disattivat disconnected disconness disservizio \
        doppi down duplicat duplicate elevat empty errat esaurit exceeded expired expires expiring \
        expiry fail failed failing failure fallisc fallit fatal forbidden forgot forgotten frozen \
        full \
        giu hacked hacker hackerat high illeggibil impallat inaccessibil inaccessible incorrect \
        incorrett indisponibil infected infett insecure insicur instabil insufficient intermittent \
        intermittente interrott interruzione invalid invalido invisibil irraggiungibil lag lent \
        lentezza lentissim limit locked loop lost maintenance malware manca mancano mancant mancat \
        manutenzione many missing negat offline outage overload overloaded pagat pers phishing \
        pien \
        quota rallenta rallentament rallentat refused reject rejected rifiut rifiutat ritard satur \
        saturat sbagliat scade scadenza scadut scompars slow slowness smarrit sospensione sospes \
        sovraccaric sparit spent superat suspended time-out timed timeout tropp unavailable \
        unreachable \
        unstable violat violated virus vuot warning"),
    (MAIL, "blacklist blacklisted bounce bounced bounces bouncing indietro respint rimbalz spam \
        undeliverable undelivered"),
    (WEB, "bianc blank redirect reindirizz reindirizzament rimand white"),
    (DNS, "propaga propagation propagazione"),
];

/// What is wanted. `SELF`: complete once the service is known ("rinnovo", "riavvio").
#[rustfmt::skip]
const REQUEST: GroupedWords = &[
    (0, "abilitare abilitazion activate activation add aggiornament aggiornare aggiungere aggiunt \
        ampliament annullament annullare attivare attivazion aument aumentare autorizzazion \
        cambiare cambio cancel chiud chiusur close cancellare cancellation cancellazion change \
        configura configurare \
        configuration configurazion configure copia copy creare create creazion delete \
        disabilitare disable disattivare disattivazion duplicato eliminare eliminazion enable \
        impostare impostazion increase install installare installation installazion migrare \
        migrate migration migrazion modific modificare modifiche modify move passaggi potenziament \
        recover recovery recuper recuperare register registrare registration registrazion reimpost \
        reimpostare reinstall reinstallazion remove riattivare riattivazion rimozion rimuovere \
        setting settings setup spostament spostare transfer trasferiment trasferire trasloc \
        update"),
    (BILLING | SELF, "disdett disdire downgrade recesso refund renew renewal rimbors rinnov rinnovare \
        upgrade voltura"),
    (BILLING, "pagare"),
    (SELF, "reboot reset resettare restart restor riavvi riavviare ripristin ripristinare \
        sblocc sbloccare unlock"),
    (MAIL, "delist delisting forward forwarding inoltro whitelist"),
    (DNS, "point punt puntament"),
    (DNS | SELF, "auth-code authcode authinfo epp"),
];

/// Requests that need no existing service.
#[rustfmt::skip]
const PURCHASE: GroupedWords = &[
    (BILLING, "acquist acquistare buy comprare cost discount gratuit listino offert order \
        ordinare ordine preventiv prezz price prices pricing promo promozion purchase quotation \
        quote sconto tariff trial"),
];

/// Areas too broad to route a problem by themselves.
#[rustfmt::skip]
const BROAD: GroupedWords = &[
    (ACCOUNT, "account panel pannello"),
    (SERVER, "cloud connection connectivity connession connettivita internet network rete server \
        servers"),
    (DNS, "domain domains domini dominio"),
    (MAIL, "e-mail email emails mail mails posta"),
    (WEB, "hosting page pages pagin sit web website websites"),
];

/// Objects narrow enough to route: a component, a protocol, a product, a document.
#[rustfmt::skip]
const NARROW: GroupedWords = &[
    (WEB, "admin api backend cache caricamento carrello cart cartella cdn certificat \
        certificate certificates checkout cloudflare cms cpanel cron crontab css database db \
        directadmin download drupal e-commerce ecommerce file files filezilla folder form \
        fracto frontend ftp git home homepage htaccess http https image images immagin \
        javascript joomla letsencrypt link links log logs magento mariadb modul mysql node \
        nodejs permessi permissions php phpmyadmin plesk plugin plugins prestashop python \
        sftp ssl tema theme tls upload url woocommerce wordpress wp wp-admin wp-login"),
    (MAIL, "alias allegat attachment autoresponder autorisponditore casell cronusmail destinatari \
        dkim dmarc imap inbox invio mailbox mailboxes mittente mx newsletter outlook pec pop pop3 \
        relay ricezione roundcube smtp spf thunderbird webmail"),
    (DNS, "cname dns nameserver nameservers ns ptr rdns record records registrar sottodomini \
        subdomain tld whois"),
    (SERVER, "backup backups banda bandwidth carico centos colocation console cpu cronuscloud \
        cronusvps debian dedicat dedicated dischi disco disk disks firewall idrac ilo \
        instance ip ipmi ipv4 ipv6 iso istanza kvm linux load memoria memory os port porta \
        porte ports processore rack raid ram rdp snapshot snapshots space spazio ssh storage \
        traffic traffico ubuntu uptime vpn vps windows"),
    (ACCOUNT, "2fa accedere access accesso autenticazione authentication credentials credenziali \
        login otp password passwords user username utente utenza"),
    (BILLING, "addebit amount billing bonifico carta charge contratt credito fattur fatturazione \
        importo intestatario intestazione invoice invoices iva license licenza nota pagament \
        partita payment payments paypal pian plan ricevuta saldo sdi vat"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> Facts {
        Facts::read(
            &tokenize(text).list,
            text,
            &[],
            &[],
            &mentions::Scan::new(text),
        )
    }

    #[test]
    fn no_word_is_in_two_lists_and_every_word_is_in_normal_form() {
        let lex = lexicon();
        for pair in lex.words.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{:?} twice", pair[1].0);
        }
        let mut buf = String::new();
        for (w, ..) in &lex.words {
            normalize(w, &mut buf);
            assert_eq!(
                &buf, w,
                "looked up in normal form, so it must be written so"
            );
            assert!(!w.is_empty() && w.len() <= 24);
        }
        assert!(FILE_EXTENSIONS.windows(2).all(|p| p[0] < p[1]));
        assert!(KNOWN_TLDS.windows(2).all(|p| p[0] < p[1]));
    }

    #[test]
    fn inflected_words_find_their_stem() {
        for (word, kind) in [
            ("scaduto", Kind::Symptom),
            ("scadute", Kind::Symptom),
            ("lentissimo", Kind::Symptom),
            ("fatture", Kind::Narrow),
            ("siti", Kind::Broad),
            ("sites", Kind::Broad),
            ("errors", Kind::ErrorWord),
            ("rinnovi", Kind::Request),
            ("rimbalzano", Kind::Symptom),
            ("fallito", Kind::Symptom),
            ("ricontattati", Kind::Generic),
            ("persistono", Kind::Generic),
            ("reinstallare", Kind::Request),
        ] {
            assert_eq!(lookup(word).map(|hit| hit.0), Some(kind), "{word}");
        }
        assert_eq!(lookup("xyzzy"), None);
    }

    #[test]
    fn a_letter_written_three_times_or_more_counts_once() {
        for (written, meant) in [("aiutoooo", "aiuto"), ("heeelp", "help"), ("sito", "sito")] {
            let mut buf = written.to_string();
            squeeze_repeats(&mut buf);
            assert_eq!(buf, meant);
        }
        let mut buf = "0000èèè".to_string();
        squeeze_repeats(&mut buf);
        assert_eq!(buf, "0000èèè", "only ASCII letters are squeezed");
    }

    #[test]
    fn richiesta_says_what_only_with_a_concrete_object() {
        assert_eq!(facts("richiesta authcode").request, 1);
        assert_eq!(facts("richiesta di backup").request, 1);
        assert_eq!(facts("richiesta assistenza dns").request, 0);
        assert_eq!(facts("richiesta info").request, 0);
    }

    #[test]
    fn numbers_are_told_apart_as_codes_dates_and_small_counts() {
        assert_eq!(number_kind("500"), (Kind::Code, WEB));
        assert_eq!(number_kind("550"), (Kind::Code, MAIL));
        assert_eq!(number_kind("5.7.1"), (Kind::Code, MAIL));
        assert_eq!(number_kind("2024/118"), (Kind::Code, 0));
        assert_eq!(number_kind("8.2"), (Kind::Code, 0));
        assert_eq!(number_kind("12345"), (Kind::Code, 0));
        assert_eq!(number_kind("2024"), (Kind::Date, 0));
        assert_eq!(number_kind("03/06/2024"), (Kind::Date, 0));
        assert_eq!(number_kind("2024-06-03"), (Kind::Date, 0));
        assert_eq!(number_kind("10:12"), (Kind::Date, 0));
        assert_eq!(number_kind("06/2024"), (Kind::Date, 0));
        assert_eq!(number_kind("42"), (Kind::SmallNumber, 0));
    }

    #[test]
    fn domains_file_names_and_missing_spaces_are_told_apart() {
        for d in [
            "pizzeria-da-mario.it",
            "www.example.com",
            "caffè.it",
            "shop.example.co.uk",
        ] {
            assert!(domain_like(d) == DomainLike::Domain, "{d}");
        }
        for f in ["wp-config.php", "index.html", "error.log"] {
            assert!(domain_like(f) == DomainLike::File, "{f}");
        }
        for n in [
            "lento.grazie",
            "s.r.l",
            "p.iva",
            "sito",
            ".it",
            "a..it",
            "v1.2",
        ] {
            assert!(domain_like(n) == DomainLike::No, "{n}");
        }
    }

    #[test]
    fn addresses_are_recognised_and_times_are_not() {
        assert!(is_ipv4("192.168.1.1"));
        assert!(is_ipv4("10.0.0.0/24"));
        assert!(!is_ipv4("256.1.1.1"));
        assert!(!is_ipv4("1.2.3"));
        assert!(is_ipv6("2001:db8::1"));
        assert!(is_ipv6("fe80:0:0:0:1:2:3:4"));
        assert!(!is_ipv6("10:12:30"));
    }

    #[test]
    fn reply_prefixes_are_dropped_and_ordinary_colons_kept() {
        assert_eq!(strip_reply_prefixes("Re: R: I: Fwd: errore"), "errore");
        assert_eq!(strip_reply_prefixes("RE[2]: TR: x"), "x");
        assert_eq!(strip_reply_prefixes("Re:"), "");
        assert_eq!(strip_reply_prefixes("Rinnovo: dominio"), "Rinnovo: dominio");
        assert_eq!(strip_reply_prefixes("Errore: 500"), "Errore: 500");
    }

    #[test]
    fn a_negation_before_a_verb_is_a_symptom_and_before_works_is_vague() {
        assert_eq!(facts("non ricevo email").symptom, 1);
        assert_eq!(facts("il sito non si apre più").symptom, 1);
        assert_eq!(facts("can't send mail").symptom, 1);
        let f = facts("non funziona più");
        assert_eq!((f.symptom, f.vague), (0, 1));
        let f = facts("it doesn't work");
        assert_eq!(f.symptom, 0);
        assert!(f.vague > 0);
    }

    #[test]
    fn the_accented_e_is_a_verb_and_the_plain_one_joins_two_things() {
        let breaks = |t: &str| {
            tokenize(t)
                .list
                .iter()
                .filter(|t| t.kind == Kind::Break)
                .count()
        };
        assert_eq!(breaks("il server è lento"), 0);
        assert_eq!(breaks("il server E' lento"), 0);
        assert_eq!(breaks("sito lento e fattura errata"), 1);
    }

    #[test]
    fn reading_stops_on_a_character_boundary() {
        let long = "è".repeat(2_000);
        let h = head(&long);
        assert!(h.len() <= READ_AT_MOST && h.chars().all(|c| c == 'è'));
    }
}
