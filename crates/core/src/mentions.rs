//! Which of a customer's services a text names (domain, identifier or product).
//! (Placeholder until the real matcher lands.)

use crate::api::Service;

/// The customer's services named in `text`, in the order of `services`, each once.
pub fn services_named_in<'a>(text: &str, services: &'a [Service]) -> Vec<&'a Service> {
    let lower = text.to_lowercase();
    services
        .iter()
        .filter(|s| !s.identifier.is_empty() && lower.contains(&s.identifier.to_lowercase()))
        .collect()
}
