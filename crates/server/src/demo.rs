//! Demo data (`HELPDESK_DEMO=1`): loaded through the same import and the same staff-reply path
//! as real data, so every screen has something real to show.

use crate::auth::hash_password;
use crate::import::{import, ImportFile};
use crate::state::AppState;
use crate::storage::prelude::*;
use crate::storage::{Created, NewMessage, TicketDraft};
use helpdesk_core::api::{
    AuthorKind, Channel, Department, Priority, ServiceFamily, StaffReply, Status,
};

pub const DEMO_PASSWORD: &str = "demo-password";

fn demo_accounts(hash: &str) -> anyhow::Result<ImportFile> {
    let json = serde_json::json!({ "customers": [
        { "email": "demo@example.it", "name": "Mario Rossi", "password_hash": hash, "services": [
            { "id": "h-101", "family": "hosting_shared", "product": "Hosting Basic Illimitato", "identifier": "pizzeria-da-mario.it" },
            { "id": "h-102", "family": "hosting_shared", "product": "Hosting Pro", "identifier": "studio-rossi.it" },
            { "id": "h-103", "family": "hosting_shared", "product": "Hosting WordPress", "identifier": "blog-mario.it" },
            { "id": "h-104", "family": "hosting_shared", "product": "Fracto", "identifier": "fracto-mario-01", "status": "suspended" },
            { "id": "c-201", "family": "cronuscloud", "product": "CronusVPS", "identifier": "vps-0042" },
            { "id": "c-202", "family": "cronuscloud", "product": "CronusMail", "identifier": "mail.pizzeria-da-mario.it" },
            { "id": "c-203", "family": "cronuscloud", "product": "Server SMTP", "identifier": "smtp-0007" },
            { "id": "l-301", "family": "colocation", "product": "Colocation 1U", "identifier": "rack-b12-u07" },
            { "id": "d-401", "family": "dedicated", "product": "Server dedicato", "identifier": "ds-118" },
            { "id": "n-501", "family": "domain", "product": "Dominio", "identifier": "pizzeria-da-mario.it" },
            { "id": "n-502", "family": "domain", "product": "Dominio", "identifier": "mario-rossi.com" },
            { "id": "n-503", "family": "domain", "product": "Dominio", "identifier": "ristorante-mario.eu", "status": "expired" }
        ]},
        { "email": "altro@example.it", "name": "Anna Bianchi", "password_hash": hash, "services": [
            { "id": "h-901", "family": "hosting_shared", "product": "Hosting Pro", "identifier": "bianchi-arredi.it" },
            { "id": "n-902", "family": "domain", "product": "Dominio", "identifier": "bianchi-arredi.it" }
        ]},
        { "email": "staff@example.it", "name": "Giulia (Assistenza)", "role": "staff", "password_hash": hash }
    ]});
    Ok(serde_json::from_value(json)?)
}

struct DemoTicket {
    customer: &'static str,
    department: Department,
    service: Option<&'static str>,
    subject: &'static str,
    description: &'static str,
    priority: Priority,
    staff_replies: &'static [&'static str],
    customer_reply: Option<&'static str>,
    close: bool,
}

const TICKETS: &[DemoTicket] = &[
    DemoTicket {
        customer: "demo@example.it",
        department: Department::Sales,
        service: Some("mario-rossi.com"),
        subject: "Rinnovo del dominio mario-rossi.com in scadenza",
        description: "Il dominio mario-rossi.com scade il mese prossimo: vorrei rinnovarlo per due anni. Potete inviarmi la fattura intestata a Mario Rossi?",
        priority: Priority::Low,
        staff_replies: &["Buongiorno, abbiamo rinnovato il dominio per due anni e inviato la fattura n. 2024/118 all'indirizzo di riferimento."],
        customer_reply: None,
        close: true,
    },
    DemoTicket {
        customer: "demo@example.it",
        department: Department::Helpdesk,
        service: Some("vps-0042"),
        subject: "VPS vps-0042 non raggiungibile via SSH dalle 9:00",
        description: "Da stamattina alle 9:00 la connessione SSH a vps-0042 va in timeout (porta 22). Il sito sulla stessa macchina risponde. Ho già riavviato dal pannello senza risultato.",
        priority: Priority::Normal,
        staff_replies: &["Abbiamo verificato: il firewall della VPS blocca la porta 22 dopo un aggiornamento. Può riprovare adesso?"],
        customer_reply: Some("Ora funziona, grazie! Però il firewall è di nuovo attivo dopo il riavvio: potete controllare che la regola resti?"),
        close: false,
    },
    DemoTicket {
        customer: "demo@example.it",
        department: Department::Helpdesk,
        service: Some("mail.pizzeria-da-mario.it"),
        subject: "Non ricevo e-mail su info@pizzeria-da-mario.it da ieri",
        description: "Da ieri pomeriggio la casella info@pizzeria-da-mario.it non riceve più messaggi: chi scrive non riceve errori, ma i messaggi non arrivano. L'invio funziona.",
        priority: Priority::Normal,
        staff_replies: &[],
        customer_reply: None,
        close: false,
    },
    DemoTicket {
        customer: "demo@example.it",
        department: Department::Helpdesk,
        service: Some("blog-mario.it"),
        subject: "Errore 500 su blog-mario.it dopo l'aggiornamento di un plugin",
        description: "Dopo aver aggiornato il plugin della cache, tutte le pagine di blog-mario.it mostrano \"500 Internal Server Error\". L'area wp-admin non si apre. Ho provato a svuotare la cache del browser.",
        priority: Priority::Normal,
        staff_replies: &["Il plugin aggiornato richiede PHP 8.2: abbiamo aggiornato la versione PHP del sito. Ci conferma che ora funziona?"],
        customer_reply: None,
        close: false,
    },
    DemoTicket {
        customer: "altro@example.it",
        department: Department::Helpdesk,
        service: Some("bianchi-arredi.it"),
        subject: "Certificato SSL scaduto su bianchi-arredi.it",
        description: "Il browser segnala che il certificato di bianchi-arredi.it è scaduto ieri. Il rinnovo automatico non sembra essere partito.",
        priority: Priority::Normal,
        staff_replies: &[],
        customer_reply: None,
        close: false,
    },
];

/// The advisory lock held while seeding (any number: the helpdesk's database has no other).
const SEED_LOCK: i64 = 0x4845_4c50_4445_534b;

/// Seeds the demo accounts and tickets, once, into an empty database.
pub async fn seed_if_empty(state: &AppState) -> anyhow::Result<()> {
    // Several instances on one PostgreSQL: one seeds while the others wait, then find the data.
    let _seeding = match state.store.postgres() {
        Some(pg) => Some(pg.exclusive(SEED_LOCK).await?),
        None => None,
    };
    if state
        .store
        .account_by_email("demo@example.it")
        .await?
        .is_some()
    {
        return Ok(());
    }
    let hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD)).await??;
    import(&state.store, &demo_accounts(&hash)?).await?;
    let staff = state
        .store
        .account_by_email("staff@example.it")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo staff missing"))?
        .customer;
    let config = &state.config;
    for t in TICKETS {
        let customer = state
            .store
            .account_by_email(t.customer)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo customer missing"))?
            .customer;
        let services = state.store.services(&customer.id).await?;
        // A sales question about a domain names the domain, not the hosting of the same name.
        let want_domain = t.department == Department::Sales;
        let service_id = t.service.and_then(|ident| {
            services
                .iter()
                .filter(|s| s.identifier == ident)
                .max_by_key(|s| (s.family == ServiceFamily::Domain) == want_domain)
                .map(|s| s.id.clone())
        });
        let created = crate::tickets::record_ticket(
            &state.store,
            TicketDraft {
                account_id: &customer.id,
                department: t.department,
                service_id: service_id.as_deref(),
                subject: t.subject,
                priority: t.priority,
                channel: Channel::Web,
                first: NewMessage::text(
                    &customer,
                    AuthorKind::Customer,
                    Channel::Web,
                    t.description,
                ),
            },
            None,
            {
                let config = config.clone();
                move |ctx| Some(crate::notify::acknowledgment(&config, ctx, None))
            },
        )
        .await?;
        let Created::New(ticket) = created else {
            continue;
        };
        for reply in t.staff_replies {
            let req = StaffReply {
                body: reply.to_string(),
                status: t.close.then_some(Status::Closed),
            };
            crate::tickets::staff_reply(state, &staff, &ticket.code, &req)
                .await
                .map_err(|e| anyhow::anyhow!("demo staff reply: {e}"))?;
        }
        if let Some(body) = t.customer_reply {
            crate::tickets::add_message(
                &state.store,
                crate::storage::Viewer::Customer(&customer.id),
                &ticket.code,
                NewMessage::text(&customer, AuthorKind::Customer, Channel::Email, body),
                None,
                None,
                |_| None,
            )
            .await?;
        }
    }
    tracing::info!("demo data seeded: demo@example.it / altro@example.it / staff@example.it, password {DEMO_PASSWORD}");
    Ok(())
}
