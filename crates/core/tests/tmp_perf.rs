use helpdesk_core::api::*;
fn svc(id: &str, family: ServiceFamily, product: &str, ident: &str) -> Service {
    Service {
        id: id.into(),
        family,
        product: product.into(),
        identifier: ident.into(),
        status: ServiceStatus::Active,
    }
}
#[test]
fn perf() {
    let services = vec![
        svc(
            "h1",
            ServiceFamily::HostingShared,
            "Hosting WordPress",
            "pizzeria-da-mario.it",
        ),
        svc(
            "h2",
            ServiceFamily::HostingShared,
            "Hosting Pro",
            "studio-rossi.it",
        ),
        svc("v1", ServiceFamily::Cronuscloud, "CronusVPS", "vps-0042"),
        svc(
            "m1",
            ServiceFamily::Cronuscloud,
            "CronusMail",
            "studio-rossi.it",
        ),
        svc(
            "d1",
            ServiceFamily::Domain,
            "Dominio",
            "pizzeria-da-mario.it",
        ),
        svc("x1", ServiceFamily::Dedicated, "Server dedicato", "ded-17"),
    ];
    for subj in ["aiuto!", "pizzeria-da-mario.it: errore 500 sulla home"] {
        let n = 100_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(helpdesk_core::mentions::services_named_in(
                std::hint::black_box(subj),
                &services,
            ));
        }
        println!(
            "mentions {subj}: {:.2}us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
        let ctx = helpdesk_core::subject::SubjectContext {
            department: Some(Department::Helpdesk),
            chosen_service: Some(&services[0]),
            services: &services,
            channel: Channel::Web,
        };
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(helpdesk_core::subject::assess(
                std::hint::black_box(subj),
                &ctx,
            ));
        }
        println!(
            "assess {subj}: {:.2}us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
        let ctx = helpdesk_core::subject::SubjectContext {
            department: Some(Department::Helpdesk),
            chosen_service: Some(&services[0]),
            services: &[],
            channel: Channel::Web,
        };
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(helpdesk_core::subject::assess(
                std::hint::black_box(subj),
                &ctx,
            ));
        }
        println!(
            "assess-noservices {subj}: {:.2}us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
#[test]
fn baseline() {
    let n = 1_000_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(std::hint::black_box("aiuto!").to_lowercase());
    }
    println!(
        "to_lowercase: {:.3}us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            std::hint::black_box("pizzeria-da-mario.it: errore 500 sulla home")
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>(),
        );
    }
    println!("words: {:.3}us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
