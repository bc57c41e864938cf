//! Pieces several pages share.

pub mod attachments;
pub mod layout;
pub mod status;
