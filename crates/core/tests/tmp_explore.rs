use helpdesk_core::api::*;
use helpdesk_core::subject::*;
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
fn explore() {
    let services = vec![
        svc(
            "h1",
            ServiceFamily::HostingShared,
            "Hosting WordPress",
            "pizzeria-da-mario.it",
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
    ];
    let input = std::fs::read_to_string("/tmp/explore/subjects.txt").unwrap();
    for line in input.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let (mode, subj) = line.split_once('|').unwrap();
        let channel = if mode.contains('m') {
            Channel::Email
        } else {
            Channel::Web
        };
        let department = if mode.contains('s') {
            Some(Department::Sales)
        } else {
            Some(Department::Helpdesk)
        };
        let chosen = if mode.contains('w') {
            Some(&services[0])
        } else {
            None
        };
        let ctx = SubjectContext {
            department,
            chosen_service: chosen,
            services: &services,
            channel,
        };
        let a = assess(subj, &ctx);
        let t = std::time::Instant::now();
        for _ in 0..1000 {
            std::hint::black_box(assess(std::hint::black_box(subj), &ctx));
        }
        let us = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "{:4}|{:45}| {:?} {:3} {:.1}us",
            mode, subj, a.verdict, a.score, us
        );
        for h in &a.hints {
            println!("        {}: {}", h.code, h.message);
        }
    }
}
