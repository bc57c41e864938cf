//! The plural rules the texts need (see `init`).

/// The plural rules of Italian and English, from icu_plurals' compiled data: the one piece of ICU
/// data the texts need, given to leptos_i18n as its data provider (its `icu_compiled_data`
/// feature would bring every ICU crate's data, and cannot be resolved beside icu 2.4).
struct PluralRulesData;

mod icu {
    pub use leptos_i18n::reexports::icu::{locid, plurals, provider};
}

impl leptos_i18n::custom_provider::IcuDataProvider for PluralRulesData {
    fn try_new_plural_rules(
        &self,
        locale: &icu::locid::Locale,
        rule_type: icu::plurals::PluralRuleType,
    ) -> Result<icu::plurals::PluralRules, icu::provider::DataError> {
        icu::plurals::PluralRules::try_new(
            locale.into(),
            icu::plurals::PluralRulesOptions::default().with_type(rule_type),
        )
    }
}

/// Gives leptos_i18n its plural rules; before any text with a count is shown.
pub fn init() {
    leptos_i18n::custom_provider::set_icu_data_provider(PluralRulesData);
}
