//! One page per file, named after what the user sees.

pub mod login;
pub mod not_found;
pub mod rejections;
pub mod ticket;
pub mod tickets;
pub mod wizard;
