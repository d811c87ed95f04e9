//! `tracelink receive` in a child process, on free ports of 127.0.0.1,
//! killed by its PID when dropped; its memory and file descriptors read
//! from `/proc`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A child process, killed (by PID) and reaped on drop.
pub(crate) struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `tracelink receive` on free ports, and the addresses it listens on.
pub(crate) struct Receiver {
    process: Killed,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
}

impl Receiver {
    pub(crate) fn start(store: &Path) -> Self {
        Self::with(store, &[])
    }

    /// With more options (`--max-connections 8`, ...).
    pub(crate) fn with(store: &Path, options: &[&str]) -> Self {
        let mut child = super::tracelink()
            .args([
                "receive",
                "--listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
                "--store",
            ])
            .arg(store)
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tracelink receive starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let process = Killed(child);
        // Read the addresses on a thread, so a receiver that never prints
        // fails the test instead of hanging it.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut addresses = HashMap::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("receiver: {line}");
                let mut words = line.split_whitespace();
                if let (Some(kind @ ("OTLP/gRPC" | "OTLP/HTTP")), Some(addr)) =
                    (words.next(), words.next())
                {
                    addresses.insert(
                        kind.to_owned(),
                        addr.parse::<SocketAddr>().expect("an address"),
                    );
                }
                if line.trim_start().starts_with("limits:") {
                    let _ = tx.send(addresses.clone());
                }
            }
        });
        let addresses = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the receiver prints its addresses");
        Self {
            process,
            grpc: addresses["OTLP/gRPC"],
            http: addresses["OTLP/HTTP"],
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.process.0.id()
    }

    /// A line of `/proc/PID/status`, in KiB: `VmHWM` is the peak resident
    /// memory, `VmRSS` the current.
    pub(crate) fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in {status}"))
    }

    /// The file descriptors it has open.
    pub(crate) fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("/proc/PID/fd")
            .count()
    }
}
