//! The session ended: where every 401 goes, whoever got it (a request of the API client, the
//! live stream, an upload). The API client reaches it through its `Link`, set up once in `App`.
//! From here the page's guard (`router::signed_in`) takes the customer to the login, which says
//! why and brings them back to where they were.

use crate::embed::Embed;
use crate::session::Session;

/// The server no longer knows the session: it is forgotten here too (drafts kept, see
/// `Session::expire`), and inside a signed-on widget the panel is asked for a new token (the
/// login page says so).
pub fn session_ended(session: Session, embed: Embed) {
    session.expire();
    embed.ask();
}
