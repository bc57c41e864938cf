//! The wizard's state: which step, and everything typed so far. It is the draft, saved locally
//! on every change, so a reload, a lost connection or an expired session loses nothing.

use crate::components::attachments::Attached;
use crate::i18n::*;
use helpdesk_core::api::{Department, Priority};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Step {
    #[default]
    Department,
    Service,
    Subject,
    Description,
    Priority,
    Attachments,
    Review,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::Department,
        Step::Service,
        Step::Subject,
        Step::Description,
        Step::Priority,
        Step::Attachments,
        Step::Review,
    ];

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn next(self) -> Step {
        Self::ALL.get(self.index() + 1).copied().unwrap_or(self)
    }

    pub fn prev(self) -> Step {
        self.index()
            .checked_sub(1)
            .map(|i| Self::ALL[i])
            .unwrap_or(self)
    }

    pub fn title(self, l: Locale) -> &'static str {
        match self {
            Step::Department => td_string!(l, step_department),
            Step::Service => td_string!(l, step_service),
            Step::Subject => td_string!(l, step_subject),
            Step::Description => td_string!(l, step_description),
            Step::Priority => td_string!(l, step_priority),
            Step::Attachments => td_string!(l, step_attachments),
            Step::Review => td_string!(l, step_review),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Draft {
    pub step: Step,
    pub department: Option<Department>,
    pub service_id: Option<String>,
    /// Sales & Marketing only: "nessun servizio esistente" was chosen.
    pub no_service: bool,
    pub subject: String,
    pub description: String,
    pub priority: Option<Priority>,
    pub uploads: Vec<Attached>,
    /// Services the description also named, that the customer will ask about separately.
    pub separate: Vec<String>,
    /// One key per draft: a retried submit can never open a second ticket.
    pub idempotency_key: String,
}

impl Draft {
    pub fn is_blank(&self) -> bool {
        self.department.is_none() && self.subject.is_empty() && self.description.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_go_forward_and_back_within_bounds() {
        assert_eq!(Step::Department.prev(), Step::Department);
        assert_eq!(Step::Department.next(), Step::Service);
        assert_eq!(Step::Review.next(), Step::Review);
        assert_eq!(Step::Review.index(), 6);
    }

    #[test]
    fn a_draft_round_trips_through_json() {
        let d = Draft {
            subject: "Errore 500".into(),
            step: Step::Subject,
            ..Draft::default()
        };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Draft>(&json).unwrap(), d);
        assert_eq!(
            serde_json::from_str::<Draft>("{}").unwrap(),
            Draft::default()
        );
    }
}
