//! The real server binary as its own process, for attacks whose effect is measured on the process
//! itself: its memory, its open files.

use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `helpdesk-server serve` in a fresh data folder, killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    /// The HTTP address.
    pub addr: SocketAddr,
    /// The SMTP intake's address, when asked for.
    pub smtp: Option<SocketAddr>,
    pub dir: Option<tempfile::TempDir>,
}

/// How to start it: extra `HELPDESK_*` variables, an open-file limit, an SMTP listener.
#[derive(Default)]
pub struct Spec<'a> {
    pub env: &'a [(&'a str, &'a str)],
    pub open_files: Option<u64>,
    pub smtp: bool,
    /// A data folder to reuse (a restart after a crash); a fresh one when `None`.
    pub data_dir: Option<&'a std::path::Path>,
}

pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

impl ServerProcess {
    /// Starts the server and waits (up to 60 s) until it answers `/healthz`.
    pub async fn start(spec: Spec<'_>) -> ServerProcess {
        let dir = match spec.data_dir {
            Some(_) => None,
            None => Some(tempfile::tempdir().expect("temporary folder")),
        };
        let data_dir = spec
            .data_dir
            .map(std::path::Path::to_path_buf)
            .or_else(|| dir.as_ref().map(|d| d.path().to_path_buf()))
            .expect("a data folder");
        let addr = free_addr();
        let smtp = spec.smtp.then(free_addr);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_helpdesk-server"));
        cmd.arg("serve")
            .env("HELPDESK_BIND", addr.to_string())
            .env(
                "HELPDESK_SMTP_BIND",
                smtp.map_or("off".to_string(), |a| a.to_string()),
            )
            .env("HELPDESK_DATA_DIR", &data_dir)
            .env_remove("HELPDESK_DATABASE_URL")
            .env("HELPDESK_APP_DIR", data_dir.join("no-app"))
            // Warnings show (a refused accept, say), but not the missing built app.
            .env("RUST_LOG", "warn,helpdesk_server::http::app_files=error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in spec.env {
            cmd.env(k, v);
        }
        if let Some(n) = spec.open_files {
            // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
            unsafe {
                cmd.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, n, n));
            }
        }
        let child = cmd.spawn().expect("spawning the server");
        let server = ServerProcess {
            child,
            addr,
            smtp,
            dir,
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let answered = client
                .get(server.url("/healthz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if answered.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not start within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The process's resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }
}

/// A process's resident memory now, in KiB (0 once it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
