//! JSON in the app: the browser reads and writes the text (`JSON.parse`, `JSON.stringify`) and
//! serde-wasm-bindgen maps it to our types, so the wasm carries no JSON parser of its own
//! (serde_json was the app's largest dependency: leaving it took 7.2 KB off the gzip bundle).

use serde::{de::DeserializeOwned, Serialize};

/// The value a JSON text stands for, or `None` when the text is not JSON of that shape.
pub fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

/// The JSON text of a value: maps as objects, `None` as `null`, as any JSON reader expects.
pub fn stringify<T: Serialize>(value: &T) -> Option<String> {
    let js = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()?;
    js_sys::JSON::stringify(&js).ok()?.as_string()
}
