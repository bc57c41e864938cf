//! The texts that depend on a value (a status, a department, a wait), chosen by key. Every text is
//! in locales/it.json and locales/en.json (leptos_i18n, `crate::i18n`); these take the language
//! so that views call them inside a closure that tracks it.

use crate::i18n::*;
use helpdesk_core::api::{Department, Priority, ServiceFamily, ServiceStatus, Status};

pub fn status_label(l: Locale, s: Status) -> &'static str {
    match s {
        Status::Open => td_string!(l, status.open),
        Status::AwaitingCustomer => td_string!(l, status.awaiting),
        Status::Closed => td_string!(l, status.closed),
    }
}

pub fn status_tab(l: Locale, s: Status) -> &'static str {
    match s {
        Status::Open => td_string!(l, tab.open),
        Status::AwaitingCustomer => td_string!(l, tab.awaiting),
        Status::Closed => td_string!(l, tab.closed),
    }
}

/// What a tab of the list holds, in the customer's terms.
pub fn tab_help(l: Locale, s: Option<Status>) -> &'static str {
    match s {
        None => td_string!(l, tab_help.all),
        Some(Status::Open) => td_string!(l, tab_help.open),
        Some(Status::AwaitingCustomer) => td_string!(l, tab_help.awaiting),
        Some(Status::Closed) => td_string!(l, tab_help.closed),
    }
}

pub fn priority_label(l: Locale, p: Priority) -> &'static str {
    match p {
        Priority::Low => td_string!(l, priority.low),
        Priority::Normal => td_string!(l, priority.normal),
    }
}

pub fn department_label(l: Locale, d: Department) -> &'static str {
    match d {
        Department::Helpdesk => td_string!(l, department.helpdesk),
        Department::Sales => td_string!(l, department.sales),
    }
}

pub fn family_label(l: Locale, f: ServiceFamily) -> &'static str {
    match f {
        ServiceFamily::HostingShared => td_string!(l, family.hosting_shared),
        ServiceFamily::Cronuscloud => td_string!(l, family.cronuscloud),
        ServiceFamily::Colocation => td_string!(l, family.colocation),
        ServiceFamily::Dedicated => td_string!(l, family.dedicated),
        ServiceFamily::Domain => td_string!(l, family.domain),
    }
}

/// A product's name in the language on screen. The provider's product names are Italian: a brand
/// ("Hosting Pro", "CronusVPS") reads the same in any language, but a product named by its
/// family's plain Italian word ("Dominio", "Server dedicato", "Dominio .it") is that word in the
/// language on screen ("Domain", "Dedicated server", "Domain .it").
pub fn product_label(l: Locale, f: ServiceFamily, product: &str) -> String {
    let (italian, here) = match f {
        ServiceFamily::Domain => (
            td_string!(Locale::it, product.domain),
            td_string!(l, product.domain),
        ),
        ServiceFamily::Dedicated => (
            td_string!(Locale::it, product.dedicated),
            td_string!(l, product.dedicated),
        ),
        _ => return product.to_string(),
    };
    match product.get(..italian.len()) {
        Some(head)
            if head.eq_ignore_ascii_case(italian)
                && product[italian.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric()) =>
        {
            [here, &product[italian.len()..]].concat()
        }
        _ => product.to_string(),
    }
}

pub fn service_status_label(l: Locale, s: ServiceStatus) -> &'static str {
    match s {
        ServiceStatus::Active => td_string!(l, service_status.active),
        ServiceStatus::Suspended => td_string!(l, service_status.suspended),
        ServiceStatus::Expired => td_string!(l, service_status.expired),
    }
}

/// What helps the technician, per department (the description step's checklist).
pub fn checklist(l: Locale, d: Department) -> Vec<&'static str> {
    match d {
        Department::Helpdesk => vec![
            td_string!(l, checklist.helpdesk_what),
            td_string!(l, checklist.helpdesk_when),
            td_string!(l, checklist.helpdesk_where),
            td_string!(l, checklist.helpdesk_error),
            td_string!(l, checklist.helpdesk_tried),
        ],
        Department::Sales => vec![
            td_string!(l, checklist.sales_which),
            td_string!(l, checklist.sales_need),
            td_string!(l, checklist.sales_deadlines),
        ],
    }
}

/// "Too many attempts…" with the wait in the unit a person thinks in: seconds under a minute,
/// then minutes (rounded up, so the customer never retries too early), then hours.
pub fn too_many_attempts(l: Locale, seconds: u64) -> String {
    match seconds {
        0..=59 => td_string!(l, too_many_seconds, count = seconds.max(1)).to_string(),
        60..=3600 => td_string!(l, too_many_minutes, count = seconds.div_ceil(60)).to_string(),
        _ => td_string!(l, too_many_hours, count = seconds.div_ceil(3600)).to_string(),
    }
}

/// A wrong e-mail or password, and, when few attempts are left, how many before logins are
/// refused for `seconds` (none left: refused from now on).
pub fn invalid_credentials(l: Locale, attempts_left: Option<u32>, seconds: u64) -> String {
    // In minutes, rounded up: the lock is never shorter than said.
    let wait = || td_string!(l, wait_minutes, count = seconds.div_ceil(60).max(1)).to_string();
    match attempts_left {
        None => td_string!(l, err_credentials).to_string(),
        Some(0) => td_string!(l, err_credentials_locked, wait = wait()).to_string(),
        Some(n) => [
            td_string!(l, err_credentials),
            " ",
            &td_string!(l, login_attempts_left, count = u64::from(n), wait = wait()).to_string(),
        ]
        .concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::{invalid_credentials, product_label, too_many_attempts};
    use crate::i18n::Locale;
    use helpdesk_core::api::ServiceFamily;

    #[test]
    fn a_product_named_by_its_family_is_named_in_the_language_on_screen() {
        let en = |f, p| product_label(Locale::en, f, p);
        assert_eq!(en(ServiceFamily::Domain, "Dominio"), "Domain");
        assert_eq!(en(ServiceFamily::Domain, "Dominio .it"), "Domain .it");
        assert_eq!(
            en(ServiceFamily::Dedicated, "Server dedicato"),
            "Dedicated server"
        );
        assert_eq!(en(ServiceFamily::Domain, "Dominioplus"), "Dominioplus");
        assert_eq!(
            en(ServiceFamily::HostingShared, "Hosting Pro"),
            "Hosting Pro"
        );
        assert_eq!(en(ServiceFamily::Cronuscloud, "Server SMTP"), "Server SMTP");
        assert_eq!(
            product_label(Locale::it, ServiceFamily::Domain, "Dominio"),
            "Dominio"
        );
    }

    #[test]
    fn a_lockout_says_the_wait_in_minutes_or_hours_not_hundreds_of_seconds() {
        let it = |s| too_many_attempts(Locale::it, s);
        assert_eq!(
            it(894),
            "Troppi tentativi di accesso. Riprova tra 15 minuti."
        );
        assert_eq!(
            it(1),
            "Troppi tentativi di accesso. Riprova tra un secondo."
        );
        assert_eq!(
            it(42),
            "Troppi tentativi di accesso. Riprova tra 42 secondi."
        );
        assert_eq!(it(61), "Troppi tentativi di accesso. Riprova tra 2 minuti.");
        assert_eq!(
            it(60),
            "Troppi tentativi di accesso. Riprova tra un minuto."
        );
        assert_eq!(it(5400), "Troppi tentativi di accesso. Riprova tra 2 ore.");
        let en = |s| too_many_attempts(Locale::en, s);
        assert_eq!(
            en(894),
            "Too many sign-in attempts. Try again in 15 minutes."
        );
        assert_eq!(en(1), "Too many sign-in attempts. Try again in one second.");
        assert_eq!(
            en(3600),
            "Too many sign-in attempts. Try again in 60 minutes."
        );
    }

    #[test]
    fn a_wrong_password_warns_before_the_lock() {
        let it = |left, s| invalid_credentials(Locale::it, left, s);
        assert_eq!(
            it(None, 900),
            "E-mail o password non corretti. Controlla e riprova."
        );
        assert_eq!(
            it(Some(2), 899),
            "E-mail o password non corretti. Controlla e riprova. Ancora 2 tentativi, poi l'accesso si blocca per 15 minuti."
        );
        assert_eq!(
            it(Some(1), 30),
            "E-mail o password non corretti. Controlla e riprova. Ancora un tentativo, poi l'accesso si blocca per un minuto."
        );
        assert_eq!(
            it(Some(0), 900),
            "E-mail o password non corretti. L'accesso è bloccato per 15 minuti."
        );
        let en = |left, s| invalid_credentials(Locale::en, left, s);
        assert_eq!(
            en(Some(2), 900),
            "Wrong e-mail or password. Check them and try again. 2 more attempts, then sign-in is blocked for 15 minutes."
        );
    }
}

#[cfg(test)]
mod counts {
    use crate::i18n::*;

    #[test]
    fn a_count_picks_the_form_for_one_or_for_more() {
        let s = td_string!(Locale::it, description_count, count = 5u64, min = 30usize).to_string();
        assert_eq!(s, "5 caratteri (almeno 30)");
        let one = td_string!(Locale::it, description_count, count = 1u64, min = 30usize);
        assert_eq!(one.to_string(), "1 carattere (almeno 30)");
        let en = td_string!(Locale::en, show_older, count = 1u64).to_string();
        assert_eq!(en, "Show 1 earlier message");
        let en = td_string!(Locale::en, show_older, count = 12u64).to_string();
        assert_eq!(en, "Show 12 earlier messages");
    }
}
