//! Entry point of the web app (built by Trunk).

fn main() {
    helpdesk_app::start();
}
