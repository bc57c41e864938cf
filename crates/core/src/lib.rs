//! Rules and types shared by the helpdesk's web app and server: the API contract, ticket codes,
//! subject quality and its hints (in every language, see [`hints`]), quoted-text detection and
//! limits. Pure Rust, no I/O; compiles to wasm32.

pub mod api;
pub mod code;
pub mod embed;
pub mod hints;
pub mod lang;
pub mod limits;
pub mod mentions;
pub mod quote;
pub mod subject;
pub mod text;

pub use code::TicketCode;
