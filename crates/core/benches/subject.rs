//! The subject check runs on every keystroke in the wizard: it must stay well under 0.1 ms.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use helpdesk_core::api::{Channel, Department, Service, ServiceFamily, ServiceStatus};
use helpdesk_core::lang::Lang;
use helpdesk_core::subject::{assess, SubjectContext};

fn service(id: &str, family: ServiceFamily, product: &str, identifier: &str) -> Service {
    Service {
        panel_id: None,
        id: id.to_string(),
        family,
        product: product.to_string(),
        identifier: identifier.to_string(),
        status: ServiceStatus::Active,
    }
}

fn services() -> Vec<Service> {
    vec![
        service(
            "h1",
            ServiceFamily::HostingShared,
            "Hosting WordPress",
            "pizzeria-da-mario.it",
        ),
        service(
            "h2",
            ServiceFamily::HostingShared,
            "Hosting Pro",
            "studio-rossi.it",
        ),
        service("v1", ServiceFamily::Cronuscloud, "CronusVPS", "vps-0042"),
        service(
            "m1",
            ServiceFamily::Cronuscloud,
            "CronusMail",
            "studio-rossi.it",
        ),
        service(
            "d1",
            ServiceFamily::Domain,
            "Dominio",
            "pizzeria-da-mario.it",
        ),
        service("x1", ServiceFamily::Dedicated, "Server dedicato", "ded-17"),
    ]
}

const SUBJECTS: &[(&str, &str)] = &[
    ("generic", "aiuto!"),
    ("greeting", "buongiorno, avrei bisogno di assistenza"),
    ("weak", "problema con il sito"),
    ("good", "pizzeria-da-mario.it: errore 500 sulla home"),
    ("two_problems", "sito lento e fattura sbagliata"),
    (
        "long",
        "Dopo l'aggiornamento di WordPress il sito pizzeria-da-mario.it mostra una pagina \
         bianca e l'area wp-admin risponde con errore 500, mentre la posta funziona",
    ),
];

fn bench(c: &mut Criterion) {
    let services = services();
    let web = SubjectContext {
        department: Some(Department::Helpdesk),
        chosen_service: Some(&services[0]),
        services: &services,
        channel: Channel::Web,
        lang: Lang::It,
    };
    let email = SubjectContext {
        chosen_service: None,
        channel: Channel::Email,
        lang: Lang::It,
        ..web
    };
    let mut group = c.benchmark_group("assess");
    for (name, subject) in SUBJECTS {
        group.bench_function(format!("web/{name}"), |b| {
            b.iter(|| assess(black_box(subject), black_box(&web)))
        });
    }
    group.bench_function("email/good", |b| {
        b.iter(|| assess(black_box(SUBJECTS[3].1), black_box(&email)))
    });
    group.bench_function("email/generic", |b| {
        b.iter(|| assess(black_box(SUBJECTS[0].1), black_box(&email)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
