//! Pieces several pages share, and the parts of the ticket page.

pub mod attachments;
pub mod language_switch;
pub mod layout;
pub mod load;
pub mod mail_delivery;
pub mod message;
pub mod reply_box;
pub mod slow;
pub mod status;
pub mod thread;
pub mod ticket_head;
pub mod ticket_view;
