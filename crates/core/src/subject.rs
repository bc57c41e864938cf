//! Subject quality: one rule for the wizard's live hints, the server's check and e-mail answers.
//! (Placeholder until the real rule lands.)

use crate::api::{Assessment, Channel, Department, Service, Verdict};

/// What the subject is judged against.
#[derive(Debug, Clone, Copy)]
pub struct SubjectContext<'a> {
    pub department: Option<Department>,
    /// The service chosen in the wizard; on the web it counts as naming "where".
    pub chosen_service: Option<&'a Service>,
    /// All the customer's services: names and domains recognised in the subject, and examples.
    pub services: &'a [Service],
    /// By e-mail the subject itself must name the service or domain.
    pub channel: Channel,
}

pub fn assess(subject: &str, _ctx: &SubjectContext<'_>) -> Assessment {
    let n = subject.trim().chars().count();
    Assessment {
        score: if n > 10 { 80 } else { 10 },
        verdict: if n > 10 { Verdict::Good } else { Verdict::Generic },
        hints: Vec::new(),
    }
}
