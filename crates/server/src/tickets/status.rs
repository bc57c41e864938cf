//! Which status a ticket takes, and which events its thread shows, when someone writes to it or
//! asks for a status. Pure functions of the ticket's current status: storage reads that status in
//! the write's own transaction, asks these, and records what they answer.

use crate::storage::{MessageEffect, NewMessage};
use helpdesk_core::api::{AuthorKind, Status};

/// The status every ticket starts in, however it was opened.
pub const OPENED: Status = Status::Open;

/// Who writes a message, as the status rules tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// A customer's reply, from the web or by e-mail.
    Customer,
    /// A staff reply, with the status staff asked for (`None`: the ticket waits for the customer).
    Staff(Option<Status>),
    /// Automatic mail (an out-of-office): joins the thread, changes nothing, notifies no one.
    Automatic,
}

impl Writer {
    /// The writer of `msg`; `requested` is the status staff asked for (a customer asks none).
    pub fn of(msg: &NewMessage<'_>, requested: Option<Status>) -> Self {
        match (msg.automatic, msg.author_kind) {
            (true, _) => Writer::Automatic,
            (false, AuthorKind::Customer) => Writer::Customer,
            (false, AuthorKind::Staff) => Writer::Staff(requested),
        }
    }
}

/// What a new message does to a ticket that is `current`: a customer's reply opens it, a staff
/// reply makes it wait for the customer (or takes the status asked for) and notifies the customer,
/// automatic mail changes nothing. A reply to a closed ticket reopens it, which the thread shows
/// as an event before the reply; a reply that closes the ticket shows the closing after it.
pub fn after_message(current: Status, by: Writer) -> MessageEffect {
    let status = match by {
        Writer::Automatic => {
            return MessageEffect {
                event_before: None,
                event_after: None,
                status: current,
                notify: false,
            }
        }
        Writer::Customer => Status::Open,
        Writer::Staff(requested) => requested.unwrap_or(Status::AwaitingCustomer),
    };
    let was_closed = current == Status::Closed;
    let closes = status == Status::Closed;
    MessageEffect {
        event_before: (was_closed && !closes).then_some(Status::Open),
        event_after: (closes && !was_closed).then_some(Status::Closed),
        status,
        notify: matches!(by, Writer::Staff(_)),
    }
}

/// A status asked for (closing, reopening): the new status, with its event, or `None` when the
/// ticket is so already (nothing changes, no event).
pub fn on_request(current: Status, to: Status) -> Option<Status> {
    (current != to).then_some(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{AwaitingCustomer as Awaiting, Closed, Open};

    #[test]
    fn each_writer_on_each_status() {
        let table = [
            // A customer's reply opens the ticket; a closed one is reopened with an event.
            (
                Writer::Customer,
                Open,
                MessageEffect::new(None, Open, None, false),
            ),
            (
                Writer::Customer,
                Awaiting,
                MessageEffect::new(None, Open, None, false),
            ),
            (
                Writer::Customer,
                Closed,
                MessageEffect::new(Some(Open), Open, None, false),
            ),
            // A staff reply waits for the customer, who is notified.
            (
                Writer::Staff(None),
                Open,
                MessageEffect::new(None, Awaiting, None, true),
            ),
            (
                Writer::Staff(None),
                Awaiting,
                MessageEffect::new(None, Awaiting, None, true),
            ),
            (
                Writer::Staff(None),
                Closed,
                MessageEffect::new(Some(Open), Awaiting, None, true),
            ),
            // Staff may ask for a status: closing shows after the reply, once.
            (
                Writer::Staff(Some(Closed)),
                Open,
                MessageEffect::new(None, Closed, Some(Closed), true),
            ),
            (
                Writer::Staff(Some(Closed)),
                Awaiting,
                MessageEffect::new(None, Closed, Some(Closed), true),
            ),
            (
                Writer::Staff(Some(Closed)),
                Closed,
                MessageEffect::new(None, Closed, None, true),
            ),
            (
                Writer::Staff(Some(Open)),
                Closed,
                MessageEffect::new(Some(Open), Open, None, true),
            ),
            // Automatic mail changes nothing and notifies no one.
            (
                Writer::Automatic,
                Open,
                MessageEffect::new(None, Open, None, false),
            ),
            (
                Writer::Automatic,
                Awaiting,
                MessageEffect::new(None, Awaiting, None, false),
            ),
            (
                Writer::Automatic,
                Closed,
                MessageEffect::new(None, Closed, None, false),
            ),
        ];
        for (by, current, want) in table {
            assert_eq!(after_message(current, by), want, "{by:?} on {current:?}");
        }
    }

    #[test]
    fn the_writer_comes_from_the_message() {
        let staff = helpdesk_core::api::Customer {
            id: "s".into(),
            email: "s@example.it".into(),
            name: "S".into(),
            language: None,
            time_zone: helpdesk_core::api::DEFAULT_TIME_ZONE.into(),
            role: helpdesk_core::api::Role::Staff,
        };
        let mut msg = NewMessage::text(
            &staff,
            AuthorKind::Staff,
            helpdesk_core::api::Channel::Web,
            "x",
        );
        assert_eq!(Writer::of(&msg, Some(Closed)), Writer::Staff(Some(Closed)));
        msg.author_kind = AuthorKind::Customer;
        assert_eq!(Writer::of(&msg, Some(Closed)), Writer::Customer);
        msg.automatic = true;
        assert_eq!(Writer::of(&msg, None), Writer::Automatic);
    }

    #[test]
    fn a_status_asked_for_changes_only_what_differs() {
        for current in [Open, Awaiting, Closed] {
            for to in [Open, Closed] {
                let want = (current != to).then_some(to);
                assert_eq!(on_request(current, to), want, "{current:?} to {to:?}");
            }
        }
    }
}
