//! Showing times and sizes the way Italian readers expect, with the browser's own formatter.

use wasm_bindgen::JsValue;

/// "25/11/2026, 10:12:00" from an RFC 3339 time, in the reader's time zone.
pub fn datetime(iso: &str) -> String {
    let d = js_sys::Date::new(&JsValue::from_str(iso));
    if d.get_time().is_nan() {
        return iso.to_string();
    }
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"short".into());
    let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"short".into());
    d.to_locale_string("it-IT", &opts).into()
}

/// "1,2 MB", "340 kB", "12 byte".
pub fn size(bytes: u64) -> String {
    if bytes < 1024 {
        return [bytes.to_string().as_str(), " byte"].concat();
    }
    let (value, unit) = if bytes < 1024 * 1024 {
        (bytes as f64 / 1024.0, " kB")
    } else {
        (bytes as f64 / (1024.0 * 1024.0), " MB")
    };
    let n = js_sys::Number::from(value);
    let s: String = n.to_locale_string("it-IT").as_string().unwrap_or_default();
    // toLocaleString keeps three decimals; one is plenty for sizes.
    let trimmed = match s.find(',') {
        Some(i) if s.len() > i + 2 => s[..i + 2].to_string(),
        _ => s,
    };
    [trimmed.as_str(), unit].concat()
}
