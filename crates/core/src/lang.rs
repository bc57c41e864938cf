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

    /// A customer's saved language; Italian when none is saved. A tag with a region (`en-GB`,
    /// as an older import may hold) counts as its language.
    pub fn of_saved(saved: Option<&str>) -> Self {
        match saved.map(|tag| tag.split(['-', '_']).next().unwrap_or(tag).trim()) {
            Some(p) if p.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::It,
        }
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
}
