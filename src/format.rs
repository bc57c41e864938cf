//! Times and sizes the way readers of the language on screen expect, with the browser's own
//! `Intl` formatters (no formatting code of ours). The formatters are kept in a `thread_local!`:
//! a cache of the browser's objects, built once per language, not state of the app.

use crate::i18n::Locale;
use crate::language::code;
use js_sys::{Array, Function, Intl, Object, Reflect};
use wasm_bindgen::JsValue;

/// The browser's tag for a language: the first of the browser's own languages that is a regional
/// form of this one (an American browser shown the app in English writes "12/7/26, 2:09 PM", a
/// British one "07/12/2026, 14:09"), else the language's usual form. The app's language decides
/// the language; the browser only its regional form.
fn tag(l: Locale) -> String {
    let default = match l {
        Locale::it => "it-IT",
        Locale::en => "en-GB",
    };
    let languages = web_sys::window()
        .map(|w| w.navigator().languages().to_vec())
        .unwrap_or_default();
    languages
        .iter()
        .filter_map(JsValue::as_string)
        .find(|t| {
            let primary = t.split(['-', '_']).next().unwrap_or_default();
            primary.eq_ignore_ascii_case(code(l)) && t.len() > primary.len()
        })
        .unwrap_or_else(|| default.to_string())
}

fn options(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// Building a formatter is the slow part (a good fraction of a millisecond): one kept per
/// language and kind makes the dates of a thousand messages cheap.
struct Formatters {
    datetime: Function,
    /// Sizes in bytes, in kilobytes, in megabytes.
    sizes: [Function; 3],
}

impl Formatters {
    fn new(l: Locale) -> Self {
        let locales = Array::of1(&tag(l).into());
        let datetime = Intl::DateTimeFormat::new(
            &locales,
            &options(&[("dateStyle", "short".into()), ("timeStyle", "short".into())]),
        )
        .format();
        let unit = |unit: &str, display: &str, digits: u32| {
            Intl::NumberFormat::new(
                &locales,
                &options(&[
                    ("style", "unit".into()),
                    ("unit", unit.into()),
                    ("unitDisplay", display.into()),
                    ("maximumFractionDigits", digits.into()),
                ]),
            )
            .format()
        };
        Formatters {
            datetime,
            // Bytes in full: the short unit is "byte" whatever the number in English ("156
            // byte"), the long one "156 bytes" (and "156 byte" in Italian, where it is the same).
            sizes: [
                unit("byte", "long", 0),
                unit("kilobyte", "short", 1),
                unit("megabyte", "short", 1),
            ],
        }
    }
}

thread_local! {
    static FORMATTERS: [Formatters; 2] = [Formatters::new(Locale::it), Formatters::new(Locale::en)];
}

fn with<R>(l: Locale, f: impl FnOnce(&Formatters) -> R) -> R {
    let i = usize::from(code(l) == "en");
    FORMATTERS.with(|all| f(&all[i]))
}

fn call(f: &Function, v: &JsValue) -> Option<String> {
    f.call1(&JsValue::NULL, v).ok().and_then(|s| s.as_string())
}

/// "25/11/26, 10:12" (Italian), "25/11/2026, 10:12" (British English) or "11/25/26, 10:12 AM"
/// (American English) from an RFC 3339 time, in the reader's time zone.
pub fn datetime(l: Locale, iso: &str) -> String {
    let d = js_sys::Date::new(&JsValue::from_str(iso));
    if d.get_time().is_nan() {
        return iso.to_string();
    }
    with(l, |f| call(&f.datetime, &d)).unwrap_or_else(|| iso.to_string())
}

/// "1,2 MB", "340 kB", "12 byte" in Italian; "1.2 MB", "340 kB", "12 bytes" in English.
pub fn size(l: Locale, bytes: u64) -> String {
    let (i, value) = if bytes < 1024 {
        (0, bytes as f64)
    } else if bytes < 1024 * 1024 {
        (1, bytes as f64 / 1024.0)
    } else {
        (2, bytes as f64 / (1024.0 * 1024.0))
    };
    with(l, |f| call(&f.sizes[i], &JsValue::from_f64(value))).unwrap_or_else(|| bytes.to_string())
}
