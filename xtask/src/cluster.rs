//! `cargo xtask cluster`: PostgreSQL, two helpdesk instances (each with its own data folder and
//! SMTP port) and nginx in front of them on 127.0.0.1:8080, with the demo data. The nginx
//! configuration is `deploy/nginx.conf`, the one the README gives a provider.

use crate::pg::{free_port, Postgres};
use crate::{root, setup, sh, Result};
use std::process::{Child, Command};

/// The cluster's processes: stopped when dropped.
pub struct Cluster {
    pub postgres: Postgres,
    pub instances: Vec<Child>,
    pub nginx: Option<Child>,
    pub ports: Vec<u16>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(n) = self.nginx.as_mut() {
            let _ = n.kill();
            let _ = n.wait();
        }
        for c in &mut self.instances {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts the cluster with `server` (a built helpdesk-server) on nginx port `port`, every
/// instance's data under `target/cluster/<n>`, each instance also given `env`.
pub fn start(
    server: &std::path::Path,
    port: u16,
    demo: bool,
    env: &[(&str, &str)],
) -> Result<Cluster> {
    let postgres = Postgres::start("cluster")?;
    postgres.create_database("helpdesk")?;
    let url = postgres.url("helpdesk");
    let base = root().join("target/cluster");
    let _ = std::fs::remove_dir_all(&base);
    let mut cluster = Cluster {
        postgres,
        instances: Vec::new(),
        nginx: None,
        ports: Vec::new(),
    };
    for n in 0..2 {
        let http = free_port()?;
        let smtp = free_port()?;
        let data = base.join(format!("instance-{n}"));
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let child = Command::new(server)
            .arg("serve")
            .env("HELPDESK_DATABASE_URL", &url)
            .env("HELPDESK_DATA_DIR", &data)
            .env("HELPDESK_BIND", format!("127.0.0.1:{http}"))
            .env("HELPDESK_SMTP_BIND", format!("127.0.0.1:{smtp}"))
            .env("HELPDESK_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("HELPDESK_TRUSTED_PROXIES", "127.0.0.1/32")
            .env("HELPDESK_APP_DIR", root().join("dist"))
            .env("HELPDESK_DEMO", if demo { "1" } else { "0" })
            .env_remove("HELPDESK_DEMO_PANEL_BIND")
            .env("HELPDESK_MAIL_REQUIRE_AUTH", "0")
            .envs(env.iter().copied())
            .spawn()
            .map_err(|e| format!("starting instance {n}: {e}"))?;
        cluster.instances.push(child);
        cluster.ports.push(http);
        eprintln!(
            "xtask: instance {n} on 127.0.0.1:{http} (SMTP {smtp}), data in {}",
            data.display()
        );
    }
    for p in &cluster.ports {
        wait_for(*p)?;
    }
    let dir = base.join("nginx");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let conf = std::fs::read_to_string(root().join("deploy/nginx.conf"))
        .map_err(|e| format!("deploy/nginx.conf: {e}"))?
        .replace("@DIR@", &dir.display().to_string())
        .replace("@PORT_A@", &cluster.ports[0].to_string())
        .replace("@PORT_B@", &cluster.ports[1].to_string())
        .replace("@PORT@", &port.to_string());
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
    let nginx = Command::new(setup::NGINX)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(dir.join("error.log"))
        .spawn()
        .map_err(|e| format!("starting nginx: {e}"))?;
    cluster.nginx = Some(nginx);
    wait_for(port)?;
    Ok(cluster)
}

fn wait_for(port: u16) -> Result {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            return Err(format!("nothing answers on 127.0.0.1:{port}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

/// `cargo xtask cluster`.
pub fn cluster() -> Result {
    setup::all()?;
    crate::build_app()?;
    sh(crate::cargo().args(["build", "--profile", "server", "-p", "helpdesk-server"]))?;
    let port = std::env::var("HELPDESK_CLUSTER_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let mut cluster = start(
        &root().join("target/server/helpdesk-server"),
        port,
        true,
        &[],
    )?;
    eprintln!(
        "xtask: the helpdesk, through nginx, at http://127.0.0.1:{port}/ (two instances on \
         PostgreSQL {}); log in as demo@example.it / demo-password (Ctrl+C stops it)",
        cluster.postgres.url("helpdesk")
    );
    for c in &mut cluster.instances {
        let _ = c.wait();
    }
    Ok(())
}
