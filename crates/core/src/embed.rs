//! The widget's rules, shared by the server (which frames the app only for the panel's origins)
//! and the app (which takes commands only from those same origins): which parent may talk to the
//! app, and which theme values a host page may set.

/// Whether `origin` (e.g. "https://panel.newmedialabs.it") is one of the sources of a CSP
/// `frame-ancestors` list (`HELPDESK_FRAME_ANCESTORS`, e.g. "'self' https://panel.example"),
/// as a browser matches it: `'self'` is the app's own origin, a source without a port names the
/// scheme's default port, and `https://*.example.com` any subdomain of example.com. `'none'`,
/// schemes alone and opaque origins ("null") never match: a command must come from a named site.
pub fn ancestor_allows(sources: &str, origin: &str, self_origin: &str) -> bool {
    let Some(origin) = Origin::parse(origin) else {
        return false;
    };
    sources.split_ascii_whitespace().any(|source| {
        if source.eq_ignore_ascii_case("'self'") {
            return Origin::parse(self_origin).is_some_and(|me| me == origin);
        }
        let Some(pattern) = Origin::parse(source) else {
            return false;
        };
        if pattern.scheme != origin.scheme || pattern.port != origin.port {
            return false;
        }
        match pattern.host.strip_prefix("*.") {
            Some(parent) => origin
                .host
                .strip_suffix(parent)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => pattern.host == origin.host,
        }
    })
}

#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// "scheme://host[:port]" with nothing after it but an optional "/".
    fn parse(s: &str) -> Option<Origin> {
        let (scheme, rest) = s.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return None;
        }
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
                (host, port.parse::<u16>().ok()?)
            }
            _ => (rest, default_port),
        };
        if host.is_empty() {
            return None;
        }
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// A theme colour a host page may set (`data-accent`): "#rgb", "#rrggbb" or with alpha.
pub fn valid_colour(v: &str) -> bool {
    let Some(hex) = v.strip_prefix('#') else {
        return false;
    };
    matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A corner radius (`data-radius`): a number of px, rem or em, at most 64px / 4rem. Checked
/// without float parsing, whose tables would cost the app 13 KB of download.
pub fn valid_length(v: &str) -> bool {
    let (num, max) = if let Some(n) = v.strip_suffix("px") {
        (n, 64)
    } else if let Some(n) = v.strip_suffix("rem").or_else(|| v.strip_suffix("em")) {
        (n, 4)
    } else {
        return false;
    };
    let (int, frac) = match num.split_once('.') {
        Some((_, "")) => return false,
        Some(parts) => parts,
        None => (num, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 3 || frac.len() > 3 || !digits(int) || !digits(frac) {
        return false;
    }
    let whole: u32 = int.parse().unwrap_or(u32::MAX);
    whole < max || (whole == max && frac.bytes().all(|b| b == b'0'))
}

/// A font family list (`data-font`), e.g. "Inter, system-ui, sans-serif": names of letters,
/// digits, spaces and hyphens, optionally quoted, separated by commas. Nothing that could close
/// the declaration or load anything (no `;`, `(`, `{`, `\`, `url`).
pub fn valid_font(v: &str) -> bool {
    !v.trim().is_empty()
        && v.len() <= 200
        && v.split(',').all(|name| {
            let name = name.trim();
            let bare = name
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .or_else(|| name.strip_prefix('\'').and_then(|n| n.strip_suffix('\'')))
                .unwrap_or(name);
            !bare.trim().is_empty()
                && bare
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "https://helpdesk.smacloud.it";

    #[test]
    fn frame_ancestors_are_matched_as_a_browser_matches_them() {
        let list =
            "'self' https://panel.newmedialabs.it http://localhost:8081 https://*.example.com";
        for ok in [
            "https://panel.newmedialabs.it",
            "https://PANEL.newmedialabs.it:443",
            "http://localhost:8081",
            "https://helpdesk.smacloud.it",
            "https://a.example.com",
            "https://b.a.example.com",
        ] {
            assert!(ancestor_allows(list, ok, ME), "{ok}");
        }
        for no in [
            "http://panel.newmedialabs.it",
            "https://panel.newmedialabs.it:8443",
            "https://evil-panel.newmedialabs.it",
            "https://panel.newmedialabs.it.evil.com",
            "http://localhost:8082",
            "http://127.0.0.1:8081",
            "https://example.com",
            "https://xexample.com",
            "null",
            "",
            "https://panel.newmedialabs.it/path",
            "data:text/html,x",
        ] {
            assert!(!ancestor_allows(list, no, ME), "{no}");
        }
        assert!(!ancestor_allows("'none'", ME, ME));
        assert!(!ancestor_allows(
            "https:",
            "https://panel.newmedialabs.it",
            ME
        ));
    }

    #[test]
    fn theme_values_are_checked() {
        for ok in ["#0b5cad", "#FFF", "#0b5cad80"] {
            assert!(valid_colour(ok), "{ok}");
        }
        for no in ["red", "#12", "#0b5cadz", "url(x)", "#fff;color:red", ""] {
            assert!(!valid_colour(no), "{no}");
        }
        for ok in ["8px", "0.5rem", "1em", "0px", "64px", "4.0rem"] {
            assert!(valid_length(ok), "{ok}");
        }
        for no in [
            "8",
            "-1px",
            "100px",
            "64.5px",
            "1e3px",
            "calc(1px)",
            "px",
            ".5rem",
            "1.rem",
            "1..2px",
        ] {
            assert!(!valid_length(no), "{no}");
        }
        for ok in [
            "Inter",
            "\"Open Sans\", system-ui, sans-serif",
            "'Titillium Web'",
        ] {
            assert!(valid_font(ok), "{ok}");
        }
        for no in [
            "",
            "a;color:red",
            "x}body{",
            "url(evil)",
            "a\\b",
            ",",
            "\"\"",
        ] {
            assert!(!valid_font(no), "{no}");
        }
    }
}
