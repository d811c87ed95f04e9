//! `tracelink receive` in a child process, on free ports of 127.0.0.1,
//! killed by its PID when dropped; its memory and file descriptors read
//! from `/proc`; and a bare HTTP/1.1 client to talk to it byte by byte.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
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

/// Longer than any timeout of the receiver: a read that waits this long
/// means a connection was held open.
pub(crate) const HELD: Duration = Duration::from_secs(90);

/// The content type of OTLP/HTTP with protobuf bodies.
pub(crate) const PROTOBUF: &str = "application/x-protobuf";

/// An HTTP answer: status, headers (lowercase names), body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (an error's `google.rpc.Status` holds its message
    /// as is).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads an answer; a 100 Continue has no body.
pub(crate) fn read_answer(reader: &mut BufReader<TcpStream>) -> Answer {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line, not {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("name: value");
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    if status != 100 {
        let len: usize = answer
            .header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        answer.body = vec![0; len];
        reader.read_exact(&mut answer.body).expect("the body");
    }
    answer
}

/// Connects and sends the head of `POST path` for `len` bytes of
/// `content_type`.
pub(crate) fn send_head_to(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    len: usize,
    expect: bool,
) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(HELD)).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\n\
         content-length: {len}\r\n{}\r\n",
        if expect {
            "expect: 100-continue\r\n"
        } else {
            ""
        }
    )
    .unwrap();
    BufReader::new(stream)
}

/// `POST path` with `body` of `content_type`; the answer.
pub(crate) fn post_to(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Answer {
    let mut reader = send_head_to(addr, path, content_type, body.len(), false);
    // The answer may come before the whole body is taken (a refusal).
    let _ = reader.get_mut().write_all(body);
    read_answer(&mut reader)
}
