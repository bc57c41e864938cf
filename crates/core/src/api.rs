//! The JSON contract between the app and the server (`/api/v1`), as DESIGN.md names it.
//!
//! Field names and enum values are the contract; labels shown to people live in the app's texts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The names of a contract enum's values, written by serde's derive (`rename_all`) and read by
/// `parse`: reading goes through one shared `String` read instead of serde's per-enum visitor
/// (about 1 KB of the app's gzip). A test checks that both spell every value alike.
macro_rules! contract_enum {
    ($t:ident { $($v:ident = $name:literal),+ $(,)? }) => {
        impl $t {
            /// Every value, in the order the app shows them.
            pub const ALL: &'static [$t] = &[$($t::$v),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $name,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some($t::$v),)+
                    _ => None,
                }
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $t::parse(&s).ok_or_else(|| {
                    serde::de::Error::invalid_value(
                        serde::de::Unexpected::Str(&s),
                        &"one of the values of the API contract",
                    )
                })
            }
        }
    };
}

/// Which intake a ticket belongs to: technical help or commercial/administrative questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Department {
    Helpdesk,
    Sales,
}
contract_enum!(Department { Helpdesk = "helpdesk", Sales = "sales" });

/// Web tickets choose between the two; e-mail tickets are always `Low` (the seed's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
}
contract_enum!(Priority { Low = "low", Normal = "normal" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    AwaitingCustomer,
    Closed,
}
contract_enum!(Status {
    Open = "open",
    AwaitingCustomer = "awaiting_customer",
    Closed = "closed",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Email,
    /// Written by staff in the helpdesk's own tools (the staff API, `helpdesk-server staff
    /// reply`): neither the customers' website nor an e-mail. Only messages have it, never a
    /// ticket.
    Staff,
}
contract_enum!(Channel {
    Web = "web",
    Email = "email",
    Staff = "staff",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Customer,
    Staff,
}
contract_enum!(AuthorKind { Customer = "customer", Staff = "staff" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Something somebody wrote.
    Message,
    /// A status change, shown inline in the thread.
    Event,
}
contract_enum!(MessageKind { Message = "message", Event = "event" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Staff,
}
contract_enum!(Role { Customer = "customer", Staff = "staff" });

/// The service families of the seed, in the order the wizard shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceFamily {
    HostingShared,
    Cronuscloud,
    Colocation,
    Dedicated,
    Domain,
}
contract_enum!(ServiceFamily {
    HostingShared = "hosting_shared",
    Cronuscloud = "cronuscloud",
    Colocation = "colocation",
    Dedicated = "dedicated",
    Domain = "domain",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    Active,
    Suspended,
    Expired,
}
contract_enum!(ServiceStatus {
    Active = "active",
    Suspended = "suspended",
    Expired = "expired",
});

// ----- session -----

/// A sign-on token signed by the control panel (HS256 JWT), traded for a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SsoRequest {
    /// A JWT in compact form (ASCII), at most 8 KiB as the server checks (`sso::MAX_TOKEN_BYTES`).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 5,
            max_length = 8192,
            pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
        )
    )]
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub customer: Customer,
    /// On a sign-on, the language the panel's token asked for (its `locale` claim: `it` or
    /// `en`); the app speaks it before the customer's saved choice. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// The logged-in account (a customer, or staff answering tickets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
    /// The language the customer chose for e-mails and messages (`it` or `en`); null when none
    /// is saved, and then the server writes Italian.
    #[serde(default)]
    pub language: Option<String>,
    /// The IANA time zone the times of the customer's e-mails are written in (e.g.
    /// `Europe/Rome`): the one the app last sent from the browser, `DEFAULT_TIME_ZONE` until then.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    pub role: Role,
}

/// The time zone of a customer whose browser has not told one yet: the provider's customers are
/// Italian.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Rome";

fn default_time_zone() -> String {
    DEFAULT_TIME_ZONE.to_string()
}

/// `PATCH /api/v1/me`: what customers may change of their own account. A field left out stays
/// as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// `it` or `en` saves the language of e-mails and messages; null clears it (Italian then).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, nullable, pattern = "^(it|en)$")
    )]
    pub language: Option<Option<String>>,
    /// An IANA time zone name (`Europe/Rome`, `America/New_York`) saves the zone of the times in
    /// e-mails; null clears it (`Europe/Rome` then).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, nullable, max_length = 64)
    )]
    pub time_zone: Option<Option<String>>,
}

/// A field that is present, null or not (`Some(None)` for null), as against one left out (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

// ----- services -----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Service {
    pub id: String,
    pub family: ServiceFamily,
    /// The product, e.g. "Hosting WordPress" or "CronusVPS".
    pub product: String,
    /// The domain or identifier that names this instance, e.g. "pizzeria-da-mario.it" or "vps-0042".
    pub identifier: String,
    pub status: ServiceStatus,
    /// The control panel's own id of the service (what the panel's pages know it by), so the
    /// widget's `prefill` can name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceList {
    pub items: Vec<Service>,
}

/// What a ticket says about its service, denormalised so that lists need no second request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceSummary {
    pub id: String,
    pub family: ServiceFamily,
    pub product: String,
    pub identifier: String,
}

// ----- subject quality -----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssessRequest {
    /// As typed so far; at most 150 characters (`limits::SUBJECT_MAX_CHARS`).
    #[cfg_attr(feature = "openapi", schema(max_length = 150))]
    pub subject: String,
    #[serde(default)]
    pub department: Option<Department>,
    #[serde(default)]
    pub service_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Generic,
    Weak,
    Good,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Hint {
    /// Stable code, e.g. `name_service`; the app and e-mail answers key on it.
    pub code: String,
    /// The sentence shown to the customer, in the request's language (the `Accept-Language` of
    /// an API call, the customer's saved language in an e-mail answer; Italian by default),
    /// from the one table of `helpdesk_core::hints`.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Assessment {
    pub score: u8,
    pub verdict: Verdict,
    pub hints: Vec<Hint>,
}

// ----- tickets -----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub department: Department,
    /// One of the customer's services; may be null only for `sales`.
    #[serde(default)]
    pub service_id: Option<String>,
    /// Specific, not generic (the subject rule): 4 to 150 characters, at least 4 once trimmed
    /// (`limits::SUBJECT_MIN_CHARS`, `limits::SUBJECT_MAX_CHARS`).
    #[cfg_attr(feature = "openapi", schema(min_length = 4, max_length = 150))]
    pub subject: String,
    /// 30 to 50,000 characters, at least 30 once trimmed (`limits::DESCRIPTION_MIN_CHARS`,
    /// `limits::BODY_MAX_CHARS`).
    #[cfg_attr(feature = "openapi", schema(min_length = 30, max_length = 50000))]
    pub description: String,
    pub priority: Priority,
    /// Ids returned by `POST /uploads`, each attached once; at most 10
    /// (`limits::MAX_FILES_PER_MESSAGE`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub upload_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// 1 to 50,000 characters, not empty once trimmed (`limits::REPLY_MIN_CHARS`,
    /// `limits::BODY_MAX_CHARS`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 50000))]
    pub body: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub upload_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketSummary {
    pub code: String,
    pub subject: String,
    pub department: Department,
    pub service: Option<ServiceSummary>,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub created_at: String,
    pub last_activity_at: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StatusCounts {
    pub open: u64,
    pub awaiting_customer: u64,
    pub closed: u64,
}

impl StatusCounts {
    pub fn get(&self, status: Status) -> u64 {
        match status {
            Status::Open => self.open,
            Status::AwaitingCustomer => self.awaiting_customer,
            Status::Closed => self.closed,
        }
    }

    pub fn total(&self) -> u64 {
        self.open + self.awaiting_customer + self.closed
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketList {
    pub items: Vec<TicketSummary>,
    pub next_cursor: Option<String>,
    pub counts: StatusCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Author {
    pub kind: AuthorKind,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Message {
    pub id: String,
    pub kind: MessageKind,
    pub author: Author,
    pub channel: Channel,
    pub body: String,
    pub created_at: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// For an `event`: the status the ticket moved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Set for mail that announced itself as automatic (an out-of-office, say).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub automatic: bool,
    /// Set for e-mail that came signed (S/MIME or PGP/MIME). The signature itself is no
    /// attachment; only the original e-mail still holds it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signed: bool,
    /// The message as received, for e-mails: downloadable like an attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_email: Option<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Ticket {
    pub code: String,
    pub subject: String,
    pub department: Department,
    pub service: Option<ServiceSummary>,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub created_at: String,
    pub last_activity_at: String,
    pub messages: Vec<Message>,
}

impl Ticket {
    pub fn summary(&self) -> TicketSummary {
        TicketSummary {
            code: self.code.clone(),
            subject: self.subject.clone(),
            department: self.department,
            service: self.service.clone(),
            status: self.status,
            priority: self.priority,
            channel: self.channel,
            created_at: self.created_at.clone(),
            last_activity_at: self.last_activity_at.clone(),
        }
    }
}

// ----- uploads -----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Upload {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

// ----- refused e-mails -----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailRejection {
    pub id: String,
    pub received_at: String,
    pub subject: String,
    /// Stable code of the reason, e.g. `attachments_too_large`.
    pub reason: String,
    /// The explanation in Italian, with what to do.
    pub message: String,
    /// The text the customer wrote, as plain text read from the e-mail kept as received (at
    /// most `MAIL_REJECTION_TEXT_MAX_CHARS` characters), so that it can be sent again; null once
    /// that e-mail is deleted (after the retention period, 30 days by default) or when it could
    /// not be read (encrypted, unreadable).
    #[serde(default)]
    pub text: Option<String>,
    /// The file names of its attachments, to attach again (empty when it had none, or once the
    /// e-mail is deleted).
    #[serde(default)]
    pub attachment_names: Vec<String>,
}

/// The most characters of a refused e-mail's text the list gives back: a ticket's description
/// takes no more (`limits::BODY_MAX_CHARS`).
pub const MAIL_REJECTION_TEXT_MAX_CHARS: usize = crate::limits::BODY_MAX_CHARS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailRejectionList {
    pub items: Vec<MailRejection>,
}

// ----- delivery of our e-mails -----

/// Why our e-mails to an address come back, by the bounce's status code (RFC 3463).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MailDeliveryReason {
    /// The mailbox is full (4.2.2, 5.2.2).
    MailboxFull,
    /// No such mailbox (5.1.1).
    UnknownUser,
    /// Refused by the receiving server's policy (5.7.x).
    Rejected,
    Other,
}
contract_enum!(MailDeliveryReason {
    MailboxFull = "mailbox_full",
    UnknownUser = "unknown_user",
    Rejected = "rejected",
    Other = "other",
});

/// Our e-mails to the account's reference address come back undelivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailDelivery {
    /// When the first bounce arrived (RFC 3339).
    pub since: String,
    pub reason: MailDeliveryReason,
}

/// `GET /api/v1/me`: the account, and whether our e-mails reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    #[serde(flatten)]
    pub customer: Customer,
    /// Null while our e-mails are delivered (as far as we know).
    #[serde(default)]
    pub mail_delivery: Option<MailDelivery>,
}

// ----- staff -----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StaffReply {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 50000))]
    pub body: String,
    /// The status after the reply; defaults to `awaiting_customer`.
    #[serde(default)]
    pub status: Option<Status>,
}

/// One e-mail the intake refused (automatic mail, bounces and the rest), for staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffMailRecord {
    pub id: String,
    pub received_at: String,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    /// The refusal's reason code (`automatic`, `bounce`, `unknown_sender`, ...).
    pub reason: String,
    /// The kind of automatic mail (`delivery_status`, `read_receipt`, `out_of_office`, ...).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// An address our e-mails do not reach, for staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffUndeliverable {
    pub address: String,
    pub since: String,
    pub reason: MailDeliveryReason,
    /// The bounce's status and diagnostic, as the receiving server wrote them.
    #[serde(default)]
    pub detail: Option<String>,
}

/// `GET /api/v1/staff/mail`: recent refused e-mails and the addresses our e-mails do not reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffMailList {
    pub items: Vec<StaffMailRecord>,
    pub undeliverable: Vec<StaffUndeliverable>,
}

// ----- errors -----

/// The one error shape of the API: `{"error": {"code", "message", "fields"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// Stable, machine-readable, e.g. `invalid_credentials`, `validation`, `not_found`.
    pub code: String,
    /// A sentence for people (Italian).
    pub message: String,
    /// Field name → stable code of what is wrong with it (for validation errors).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// The subject-quality hints, when the subject was refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<Hint>,
    /// Seconds to wait, for `too_many_attempts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// For `invalid_credentials`, only when few are left: how many more wrong passwords the
    /// e-mail may take before logins with it are refused (0: refused from now on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// With `attempts_left`: for how many seconds logins would be (0 left: are) refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_secs: Option<u64>,
}

/// Public, non-secret settings the server hands the app inside index.html.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AppConfig {
    /// Where the app lives, without trailing slash ("" for the root, "/PanelNML" under a path).
    pub base: String,
    pub demo: bool,
    pub password_reset_url: String,
    pub max_upload_bytes: u64,
    /// `HELPDESK_FRAME_ANCESTORS`: the pages that may frame the app are the ones whose commands
    /// the app takes inside the widget (see `embed::ancestor_allows`).
    #[serde(default)]
    pub frame_ancestors: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes each value with serde's derive and reads it back through `parse`.
    fn round_trip<T>(values: &[T], name: fn(&T) -> &'static str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        for v in values {
            let written = serde_json::to_value(v).unwrap();
            assert_eq!(written, serde_json::json!(name(v)), "{v:?}");
            assert_eq!(&serde_json::from_value::<T>(written).unwrap(), v);
        }
    }

    #[test]
    fn every_contract_value_is_written_and_read_by_the_same_name() {
        round_trip(Department::ALL, |v| v.as_str());
        round_trip(Priority::ALL, |v| v.as_str());
        round_trip(Status::ALL, |v| v.as_str());
        round_trip(Channel::ALL, |v| v.as_str());
        round_trip(AuthorKind::ALL, |v| v.as_str());
        round_trip(MessageKind::ALL, |v| v.as_str());
        round_trip(Role::ALL, |v| v.as_str());
        round_trip(ServiceFamily::ALL, |v| v.as_str());
        round_trip(ServiceStatus::ALL, |v| v.as_str());
        round_trip(MailDeliveryReason::ALL, |v| v.as_str());
    }

    #[test]
    fn a_value_outside_the_contract_is_refused_with_what_was_sent() {
        let err = serde_json::from_str::<Priority>("\"urgent\"").unwrap_err();
        assert!(err.to_string().contains("urgent"), "{err}");
        assert!(serde_json::from_str::<Status>("3").is_err());
    }
}
