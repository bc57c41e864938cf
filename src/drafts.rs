//! Drafts saved locally, per customer, so a reload or an expired session loses nothing.

/// The browser's localStorage, where drafts are kept (and the session, on the app's own page).
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

const PREFIX: &str = "helpdesk.draft.";

/// The storage key of a draft of this customer (`what` is e.g. "wizard" or "reply.FPL-809-43017").
pub fn key(customer_id: &str, what: &str) -> String {
    [PREFIX, customer_id, ".", what].concat()
}

pub fn load(customer_id: &str, what: &str) -> Option<String> {
    local_storage()?
        .get_item(&key(customer_id, what))
        .ok()
        .flatten()
}

pub fn save(customer_id: &str, what: &str, value: &str) {
    if let Some(ls) = local_storage() {
        let _ = ls.set_item(&key(customer_id, what), value);
    }
}

pub fn clear(customer_id: &str, what: &str) {
    if let Some(ls) = local_storage() {
        let _ = ls.remove_item(&key(customer_id, what));
    }
}

/// Every draft key of a customer (cleared at an explicit logout: a shared computer keeps nothing).
pub fn keys_of(customer_id: &str) -> Vec<String> {
    let Some(ls) = local_storage() else {
        return Vec::new();
    };
    let prefix = [PREFIX, customer_id, "."].concat();
    let n = ls.length().unwrap_or(0);
    (0..n)
        .filter_map(|i| ls.key(i).ok().flatten())
        .filter(|k| k.starts_with(&prefix))
        .collect()
}
