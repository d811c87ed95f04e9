//! The `/metrics` listener cannot be held: 1,000 slowloris connections (or
//! as many as the file limit allows) leave it with a bounded number of open
//! connections and bounded memory while a normal scrape is still answered;
//! and a process out of file descriptors does not spin its thread on the
//! failing accept (a child process under `ulimit -n`), which answers again
//! once descriptors are free. `init()` installs globals: the slowloris test
//! is the only one that calls it in this process, the other does in a child.

#[path = "support/prometheus.rs"]
mod prometheus;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// At most this many connections are open in the listener (src/metrics/server.rs).
const MAX_CONNECTIONS: usize = 64;

fn guard() -> tracelink::Guard {
    tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_FORMAT", "none"),
        ])
        .with_prometheus_listener("127.0.0.1", 0)
        .init()
        .expect("init")
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

fn soft_file_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024)
}

fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    statm.split(' ').nth(1).unwrap().parse::<usize>().unwrap() * 4096
}

#[test]
fn slowloris_connections_do_not_hold_the_listener() {
    let guard = guard();
    let address = guard.metrics_address().expect("listening");
    metrics::counter!("orders_total").increment(1);
    let clients = 1000.min(soft_file_limit().saturating_sub(MAX_CONNECTIONS + 200) / 2);
    assert!(
        clients >= 200,
        "the file limit leaves room for {clients} clients only"
    );

    let (files_before, rss_before) = (open_files(), rss());
    let mut slow = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut stream = TcpStream::connect(address).expect("connect");
        // Half a request, as slowloris sends it, then nothing.
        let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        slow.push(stream);
    }
    // Let the listener accept them all, and close what it closes.
    std::thread::sleep(Duration::from_millis(500));
    for stream in &mut slow {
        // One more header byte each: a held connection takes it.
        let _ = stream.write_all(b"a");
    }

    let start = Instant::now();
    let response = prometheus::http_get(address, "/metrics").expect("a scrape while held");
    let took = start.elapsed();
    assert_eq!(response.status, 200);
    assert!(
        response.body.contains("orders_total 1\n"),
        "{}",
        response.body
    );
    assert!(took < Duration::from_secs(3), "the scrape took {took:?}");

    // The listener's own descriptors: ours are the clients'.
    let listener_files = open_files().saturating_sub(files_before + clients);
    assert!(
        listener_files <= MAX_CONNECTIONS + 8,
        "{clients} slow clients hold {listener_files} descriptors of the listener"
    );
    let grown = rss().saturating_sub(rss_before);
    assert!(
        grown < 16 << 20,
        "{clients} slow clients grew the resident size by {grown} bytes"
    );

    // Most were closed at once, to make way; the rest keep their slot until
    // their header deadline, not for ever.
    let closed = slow
        .iter()
        .filter(|&s| {
            s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
            match (&mut &*s).read(&mut [0; 16]) {
                Ok(0) => true,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
                Ok(_) => false,
            }
        })
        .count();
    assert!(
        closed >= clients - MAX_CONNECTIONS,
        "only {closed} of {clients} closed"
    );
    drop(slow);
    guard.shutdown().expect("shutdown");
}

/// The metrics thread's CPU time (user + system), from its /proc stat.
fn cpu_of(stat: &std::fs::File) -> Duration {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 1024];
    let n = stat.read_at(&mut buf, 0).expect("read the thread's stat");
    let stat = String::from_utf8_lossy(&buf[..n]);
    // Fields after the command name (in parentheses): utime and stime are
    // the 14th and 15th of the line, the 12th and 13th after it.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|f| f.parse().expect("a tick count"))
        .collect();
    // USER_HZ is 100 on Linux.
    Duration::from_millis((fields[0] + fields[1]) * 10)
}

fn metrics_thread_stat() -> std::fs::File {
    // The thread names itself once it runs.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        for task in std::fs::read_dir("/proc/self/task")
            .expect("/proc/self/task")
            .flatten()
        {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim_end() == "tracelink-metri" {
                return std::fs::File::open(task.path().join("stat")).expect("the thread's stat");
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no tracelink-metrics thread");
}

#[test]
fn out_of_file_descriptors_the_listener_waits_instead_of_spinning() {
    const NAME: &str = "out_of_file_descriptors_the_listener_waits_instead_of_spinning";
    if support::in_child() {
        let guard = guard();
        let address: SocketAddr = guard.metrics_address().expect("listening");
        let stat = metrics_thread_stat();
        // Take every descriptor left, then give one back for the client: the
        // listener's accept has none.
        let mut hoard = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            hoard.push(file);
        }
        hoard.pop();
        let mut client = TcpStream::connect(address).expect("connect with the last descriptor");
        let before = cpu_of(&stat);
        std::thread::sleep(Duration::from_secs(2));
        let spent = cpu_of(&stat).saturating_sub(before);
        println!("metrics thread CPU over 2 s without descriptors: {spent:?}");
        assert!(
            spent < Duration::from_millis(300),
            "it spun: {spent:?} of CPU in 2 s"
        );

        // Descriptors again: the waiting connection is answered.
        hoard.truncate(hoard.len().saturating_sub(16));
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        client
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("the request");
        let mut response = String::new();
        let _ = client.read_to_string(&mut response);
        assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
        drop(hoard);
        guard.shutdown().expect("shutdown");
        return;
    }
    // The child runs under a low file limit, set by the shell.
    let exe = std::env::current_exe().expect("the test binary");
    let output = std::process::Command::new("sh")
        .args(["-c", "ulimit -Sn 128 && exec \"$0\" \"$@\""])
        .arg(exe)
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(support::CHILD_TEST, NAME)
        .env_remove("RUST_LOG")
        .env_remove("OTEL_LOG_LEVEL")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("without descriptors"), "{stdout}");
    // Said once, not at every failed accept.
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("the /metrics listener cannot accept a connection"))
        .count();
    assert_eq!(warnings, 1, "{stderr}");
}
