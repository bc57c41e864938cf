//! The languages the helpdesk speaks, shared by the app, the server and the rules in this crate
//! that write sentences (the subject-quality hints).

/// A language the helpdesk speaks. Italian is the default: the provider's customers are Italian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    It,
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::It, Lang::En];

    /// The code saved for a customer and taken by `PATCH /api/v1/me`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    /// A code as the API takes it: exactly `it` or `en`.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a tag (`en`, `en-GB`, `IT_it`): its primary subtag, in any case; `None`
    /// for a language the helpdesk does not speak.
    pub fn of_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Lang::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.code()))
    }

    /// A customer's saved language; Italian when none is saved. A tag with a region (`en-GB`,
    /// as an older import may hold) counts as its language.
    pub fn of_saved(saved: Option<&str>) -> Self {
        saved.and_then(Lang::of_tag).unwrap_or_default()
    }

    /// Picks the one of two things written side by side, Italian first.
    pub fn pick<T>(self, it: T, en: T) -> T {
        match self {
            Lang::It => it,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_back_and_nothing_else_parses() {
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
        for other in ["", "IT", "en-GB", "fr", " it"] {
            assert_eq!(Lang::parse(other), None, "{other:?}");
        }
        assert_eq!(Lang::default(), Lang::It);
    }

    #[test]
    fn a_tag_counts_as_its_primary_language() {
        assert_eq!(Lang::of_tag("en-GB"), Some(Lang::En));
        assert_eq!(Lang::of_tag(" IT_it"), Some(Lang::It));
        assert_eq!(Lang::of_tag("english"), None);
        assert_eq!(Lang::of_tag("de"), None);
        assert_eq!(Lang::of_saved(Some("fr")), Lang::It);
        assert_eq!(Lang::of_saved(Some("EN")), Lang::En);
    }
}
