//! Showing times and sizes the way Italian readers expect, with the browser's own formatter.

use wasm_bindgen::JsValue;

thread_local! {
    /// Building a formatter is the slow part of `toLocaleString` (a good fraction of a
    /// millisecond): one kept for the app makes the dates of a thousand messages cheap.
    static DATETIME: js_sys::Function = {
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"short".into());
        let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"short".into());
        js_sys::Intl::DateTimeFormat::new(&js_sys::Array::of1(&"it-IT".into()), &opts).format()
    };
}

/// "25/11/26, 10:12" from an RFC 3339 time, in the reader's time zone.
pub fn datetime(iso: &str) -> String {
    let d = js_sys::Date::new(&JsValue::from_str(iso));
    if d.get_time().is_nan() {
        return iso.to_string();
    }
    DATETIME
        .with(|f| f.call1(&JsValue::NULL, &d))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| iso.to_string())
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
