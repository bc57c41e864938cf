//! Customers' time zones: the IANA names `PATCH /api/v1/me` takes, and the times of e-mails as
//! the customer reads them. The zone data is jiff's bundled copy of the IANA database, compiled
//! into the binary, so that a name means the same on every machine whatever its system has.

use crate::texts::Language;
use jiff::tz::TimeZone;

pub use helpdesk_core::api::DEFAULT_TIME_ZONE;

/// No IANA name is longer (the longest is 32 characters): a longer one is refused unread.
const MAX_NAME_LEN: usize = 64;

/// The canonical name of a zone the database knows, in any case (`america/new_york` gives
/// `America/New_York`); `None` for anything else, `Etc/Unknown` included.
pub fn canonical(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return None;
    }
    let tz = jiff::tz::db().get(name).ok()?;
    tz.iana_name().map(str::to_string)
}

/// The zone of a customer's saved name: `DEFAULT_TIME_ZONE` for none, and for a name the bundled
/// database no longer knows (names are only added to it, but a stored row is not checked again).
pub fn of_saved(name: &str) -> TimeZone {
    jiff::tz::db()
        .get(name)
        .or_else(|_| jiff::tz::db().get(DEFAULT_TIME_ZONE))
        .unwrap_or(TimeZone::UTC)
}

/// A moment (µs since the epoch) as a customer reads it in their zone, with the zone's
/// abbreviation so that nobody takes it for another: "01/12/2025 19:37 CET" in Italian,
/// "1 Dec 2025, 19:37 CET" in English (day first: unambiguous on both sides of the ocean).
pub fn when(us: i64, tz: &TimeZone, lang: Language) -> String {
    let Ok(t) = jiff::Timestamp::from_microsecond(us) else {
        return String::new();
    };
    let local = t.to_zoned_datetime(tz.clone());
    let format = lang.pick("%d/%m/%Y %H:%M %Z", "%-d %b %Y, %H:%M %Z");
    local.strftime(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_made_canonical() {
        assert_eq!(canonical("Europe/Rome").as_deref(), Some("Europe/Rome"));
        assert_eq!(
            canonical("america/new_york").as_deref(),
            Some("America/New_York")
        );
        assert_eq!(canonical("UTC").as_deref(), Some("UTC"));
        for bad in [
            "",
            "Mars/Olympus_Mons",
            "Europe/Rome ",
            "../../etc/passwd",
            "Etc/Unknown",
            "+01:00",
            "EST5EDT,M3.2.0,M11.1.0",
            &"Europe/".repeat(20),
        ] {
            assert_eq!(canonical(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_moment_reads_in_the_customer_zone_with_its_daylight_saving() {
        // 2025-12-01 18:37 UTC, winter; 2025-07-01 18:37 UTC, summer.
        let winter = 1_764_614_220_000_000;
        let summer = 1_751_395_020_000_000;
        let rome = of_saved("Europe/Rome");
        let new_york = of_saved("America/New_York");
        assert_eq!(when(winter, &rome, Language::It), "01/12/2025 19:37 CET");
        assert_eq!(when(summer, &rome, Language::It), "01/07/2025 20:37 CEST");
        assert_eq!(
            when(winter, &new_york, Language::En),
            "1 Dec 2025, 13:37 EST"
        );
        assert_eq!(
            when(summer, &new_york, Language::En),
            "1 Jul 2025, 14:37 EDT"
        );
        // A name no longer known reads as the default's.
        assert_eq!(
            when(winter, &of_saved("Nowhere/Land"), Language::It),
            "01/12/2025 19:37 CET"
        );
    }
}
