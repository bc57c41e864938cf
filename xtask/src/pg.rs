//! A throwaway PostgreSQL from Debian's package for the tests, the cluster and the benchmarks: a
//! new cluster in a temporary folder of its own, on a free port of 127.0.0.1, with `fsync`
//! off; stopped and removed when dropped (also when a test run fails).

use crate::Result;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's PostgreSQL programs (`/usr/lib/postgresql/<version>/bin`), the newest installed.
pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

/// Runs a PostgreSQL program as the `postgres` user when we are root (the server refuses to run
/// as root), as ourselves otherwise.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("a free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("a free port: {e}"))
}

impl Postgres {
    /// A new cluster in a temporary folder (the `postgres` user must reach it, which a clone
    /// under a private home may not let it), started and answering.
    pub fn start(name: &str) -> Result<Self> {
        let bin = bin_dir().ok_or("PostgreSQL is not installed (cargo xtask setup installs it)")?;
        let dir = std::env::temp_dir().join(format!("helpdesk-pg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if is_root() {
            crate::sh(Command::new("chown").arg("postgres").arg(&dir))?;
        }
        let port = free_port()?;
        let pg = Postgres { dir, bin, port };
        let data = pg.dir.join("data");
        crate::sh(
            as_postgres(&pg.bin.join("initdb"))
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "-D",
                ])
                .arg(&data)
                .stdout(Stdio::null()),
        )?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB",
            pg.dir.display()
        );
        crate::sh(
            as_postgres(&pg.bin.join("pg_ctl"))
                .args(["-w", "-t", "60", "-D"])
                .arg(&data)
                .args(["-l"])
                .arg(pg.dir.join("log"))
                .args(["-o", &options, "start"])
                .stdout(Stdio::null()),
        )?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("PostgreSQL did not answer on port {port}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "xtask: PostgreSQL on 127.0.0.1:{port} ({})",
            pg.dir.display()
        );
        Ok(pg)
    }

    /// The URL of one of its databases.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a database.
    pub fn create_database(&self, name: &str) -> Result {
        crate::sh(
            Command::new(self.bin.join("createdb"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                ])
                .arg(name),
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.dir.join("data"))
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
