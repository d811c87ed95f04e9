//! Real peers for a `/metrics` exposition: the official Python parsers and a
//! real Prometheus server.
//!
//! Include it from a test with
//!
//! ```ignore
//! #[path = "support/prometheus.rs"]
//! mod prometheus;
//! ```
//!
//! What it needs is installed by `scripts/install-test-deps.sh` (run it once,
//! as root): Debian's `prometheus` on `PATH`, and a venv at
//! `target/test-venv` with `prometheus_client`. When either is missing the
//! helpers panic with a message naming that script: these tests never skip.
//!
//! * [`openmetrics_check`] / [`prometheus_text_check`]: run
//!   `tests/tools/openmetrics_check.py`, which parses a body with
//!   `prometheus_client`'s OpenMetrics 1.0 (strict) or text 0.0.4 (lax)
//!   parser and returns its JSON summary, or the parser's error;
//!   [`check_batch`] parses many bodies in one Python process
//!   (`tests/tools/openmetrics_batch_check.py`), for property tests.
//! * [`Prometheus`]: a `prometheus` process on a free port of 127.0.0.1,
//!   scraping given targets every second, with exemplar storage on; killed
//!   by pid when dropped. Its HTTP API is read with [`http_get`], a small
//!   blocking HTTP/1.1 client.
//! * [`MetricsServer`]: serves a fixed (or freshly generated) body on
//!   `GET /metrics`, for scraping fixtures.

// Each test binary uses a different part of this module.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The content type an OpenMetrics 1.0 exposition is served with.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type a Prometheus text 0.0.4 exposition is served with.
pub const PROMETHEUS_TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const INSTALL_HINT: &str = "run `bash scripts/install-test-deps.sh` (as root) first; \
     CI runs it before `cargo test`";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------ Python checker

/// The venv's python, made by `scripts/install-test-deps.sh`.
///
/// Panics, naming the script, when it is missing.
pub fn venv_python() -> PathBuf {
    let python = manifest_dir().join("target/test-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing (the venv with prometheus_client): {INSTALL_HINT}",
        python.display()
    );
    python
}

/// Parses `body` as OpenMetrics 1.0 with `prometheus_client`'s strict parser
/// (`# EOF` required).
///
/// `Ok` holds the checker's JSON summary:
/// `{"format", "families": [{"name", "type", "unit", "help", "samples":
/// [{"name", "labels", "value", "timestamp", "exemplar": null | {"labels",
/// "value", "timestamp"}}]}]}`; values that JSON can't hold are the strings
/// `"NaN"`, `"+Inf"`, `"-Inf"`, timestamps are float seconds or null.
/// `Err` holds the parser's error message. Panics if the checker itself
/// can't run, so that a broken harness never looks like a rejected body.
pub fn openmetrics_check(body: &str) -> Result<Value, String> {
    run_checker(&[], body)
}

/// Like [`openmetrics_check`] for Prometheus text format 0.0.4, with
/// `prometheus_client.parser`. That parser is lax: it accepts much that a
/// real Prometheus rejects (an OpenMetrics exemplar, for one, reads as a
/// timestamp), so pair it with a scrape by [`Prometheus`].
pub fn prometheus_text_check(body: &str) -> Result<Value, String> {
    run_checker(&["--prometheus-text"], body)
}

fn run_checker(args: &[&str], body: &str) -> Result<Value, String> {
    let python = venv_python();
    let script = manifest_dir().join("tests/tools/openmetrics_check.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {INSTALL_HINT}", python.display()));
    // The checker reads all of stdin before it writes anything, so writing
    // first and collecting afterwards can't deadlock. A write error means it
    // died early: its exit status and stderr tell why.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let _ = stdin.write_all(body.as_bytes());
    drop(stdin);
    let out = child
        .wait_with_output()
        .expect("wait for openmetrics_check.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => Ok(serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("openmetrics_check.py printed no JSON ({e}):\n{stdout}"))),
        Some(1) => Err(stderr.trim().to_owned()),
        _ => panic!(
            "openmetrics_check.py failed to run ({}): {stderr}\n{INSTALL_HINT}",
            out.status
        ),
    }
}

/// Which parser [`check_batch`] runs on a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// OpenMetrics 1.0, the strict parser.
    OpenMetrics,
    /// Prometheus text 0.0.4, the lax parser.
    PrometheusText,
}

/// Parses every body with `prometheus_client` in one Python process
/// (`tests/tools/openmetrics_batch_check.py`): for each, `None` when it
/// parsed, the parser's error otherwise. Panics if the checker can't run.
pub fn check_batch(bodies: &[(BodyFormat, String)]) -> Vec<Option<String>> {
    let python = venv_python();
    let script = manifest_dir().join("tests/tools/openmetrics_batch_check.py");
    let input: Vec<Value> = bodies
        .iter()
        .map(|(format, body)| {
            let format = match format {
                BodyFormat::OpenMetrics => "openmetrics",
                BodyFormat::PrometheusText => "prometheus-text",
            };
            serde_json::json!({ "format": format, "body": body })
        })
        .collect();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {INSTALL_HINT}", python.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from a thread: the checker answers only once it has read all.
    let input = serde_json::to_vec(&input).expect("bodies as JSON");
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child
        .wait_with_output()
        .expect("wait for openmetrics_batch_check.py");
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openmetrics_batch_check.py failed ({}): {}\n{INSTALL_HINT}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Option<String>> = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("openmetrics_batch_check.py printed no JSON ({e}):\n{stdout}"));
    assert_eq!(results.len(), bodies.len(), "one result per body");
    results
}

// ------------------------------------------------------------ HTTP client

/// A response read by [`http_get`].
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path_and_query` from `addr` over HTTP/1.1 with `Connection: close`:
/// a blocking client on `std::net::TcpStream`, enough for Prometheus' API and
/// for scraping a `/metrics` endpoint. Understands `Content-Length` and
/// chunked bodies; asks for no compression.
pub fn http_get(addr: SocketAddr, path_and_query: &str) -> io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;

    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let head_end = find(&raw, b"\r\n\r\n").ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|_| bad("headers not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[head_end + 4..].to_vec();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.truncate(len);
    }
    let body = String::from_utf8(body).map_err(|_| bad("body not UTF-8"))?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n")?;
        let size_field = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size_hex = size_field.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Seconds since the Unix epoch, as Prometheus' API takes them.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

// ------------------------------------------------------------ Prometheus

/// One exemplar as `/api/v1/query_exemplars` returns it, with the labels of
/// the series it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// `__name__`, `job`, `instance` and the sample's own labels.
    pub series_labels: BTreeMap<String, String>,
    /// The exemplar's labels (`trace_id`, `span_id`, ...).
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// Seconds since the epoch, millisecond precision: the exposition's
    /// timestamp, or the scrape's when the exposition gave none.
    pub timestamp: f64,
}

/// A real `prometheus` server on a free port of 127.0.0.1, scraping its
/// targets every second, with `--enable-feature=exemplar-storage`; its data
/// dir, config and log live in a fresh temp dir. Dropping it kills the
/// process (by pid) and waits for it; the temp dir is removed, unless the
/// thread is panicking: then the log's tail is printed and the dir is kept.
#[derive(Debug)]
pub struct Prometheus {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
    targets: Vec<SocketAddr>,
}

static STARTED: AtomicUsize = AtomicUsize::new(0);

impl Prometheus {
    /// Starts Prometheus scraping `http://<scrape_target>/metrics`, and waits
    /// until it is ready (`/-/ready`).
    pub fn start(scrape_target: SocketAddr) -> Prometheus {
        Prometheus::start_scraping(&[scrape_target])
    }

    /// Like [`Prometheus::start`] with several targets, all in one job.
    pub fn start_scraping(scrape_targets: &[SocketAddr]) -> Prometheus {
        let bin = std::env::var_os("PROMETHEUS").unwrap_or_else(|| "prometheus".into());
        let dir = std::env::temp_dir().join(format!(
            "tracelink-prometheus-{}-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        ));
        fs::create_dir_all(&dir).expect("create the Prometheus temp dir");
        let targets: Vec<String> = scrape_targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: tracelink\n    honor_labels: false\n    \
             scheme: http\n    metrics_path: /metrics\n    static_configs:\n      \
             - targets: [{}]\n",
            targets.join(", ")
        );
        let config_path = dir.join("prometheus.yml");
        fs::write(&config_path, config).expect("write prometheus.yml");
        let log_path = dir.join("prometheus.log");

        // The free port is found by binding :0 and letting go of it, so
        // another process may take it first: then start again on another.
        for attempt in 1..=3 {
            let addr = free_port();
            let log = fs::File::create(&log_path).expect("create prometheus.log");
            let mut child = Command::new(&bin)
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("data").display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .arg("--enable-feature=exemplar-storage")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("dup log file"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    let _ = fs::remove_dir_all(&dir);
                    panic!(
                        "cannot run {}: {e}: Prometheus is needed; {INSTALL_HINT}",
                        bin.to_string_lossy()
                    )
                });
            match wait_ready(&mut child, addr, Duration::from_secs(60)) {
                Ok(()) => {
                    return Prometheus {
                        child,
                        addr,
                        dir,
                        targets: scrape_targets.to_vec(),
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    if attempt < 3 && log.contains("address already in use") {
                        eprintln!("prometheus: {addr} was taken ({e}); trying another port");
                        continue;
                    }
                    panic!(
                        "Prometheus did not get ready: {e}\n{}",
                        tail(&log_path, &log)
                    );
                }
            }
        }
        unreachable!()
    }

    /// Where its web server and API listen.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temp dir holding `prometheus.yml`, `prometheus.log` and `data/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything Prometheus logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let path = self.dir.join("prometheus.log");
        tail(&path, &self.log())
    }

    /// `GET /api/v1/<path_and_query>` and its `data`, or the API's error.
    pub fn api(&self, path_and_query: &str) -> Result<Value, String> {
        let path = format!("/api/v1/{path_and_query}");
        let r = http_get(self.addr, &path).map_err(|e| format!("GET {path}: {e}"))?;
        let json: Value = serde_json::from_str(&r.body).map_err(|e| {
            format!(
                "GET {path}: {} with no JSON body ({e}): {}",
                r.status, r.body
            )
        })?;
        if r.status != 200 || json["status"] != "success" {
            return Err(format!("GET {path}: {} {}", r.status, json));
        }
        Ok(json["data"].clone())
    }

    /// `GET /api/v1/targets`: `{"activeTargets": [...], "droppedTargets": [...]}`.
    pub fn targets(&self) -> Value {
        self.api("targets").unwrap_or_else(|e| panic!("{e}"))
    }

    /// The active target scraping `http://<scrape_target>/metrics`, if any:
    /// `{"labels", "scrapeUrl", "lastError", "lastScrape", "health", ...}`.
    pub fn target(&self, scrape_target: SocketAddr) -> Option<Value> {
        let url = format!("http://{scrape_target}/metrics");
        let targets = self.targets();
        targets["activeTargets"]
            .as_array()?
            .iter()
            .find(|t| t["scrapeUrl"] == url.as_str())
            .cloned()
    }

    /// Polls the target scraping `scrape_target` until `done(target)` and
    /// returns it; panics at the timeout with the last state seen (and the
    /// log's tail), saying it waited for `what`.
    pub fn wait_for_target(
        &self,
        scrape_target: SocketAddr,
        timeout: Duration,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let target = self.target(scrape_target);
            match &target {
                Some(t) if done(t) => return t.clone(),
                _ if Instant::now() > deadline => panic!(
                    "Prometheus' target {scrape_target} not {what} within {timeout:?}; last seen:\n{}\n{}",
                    serde_json::to_string_pretty(&target).unwrap(),
                    self.log_tail()
                ),
                _ => thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Waits for the first scrape of `scrape_target` (health no longer
    /// "unknown") and returns the target, up or down.
    pub fn wait_for_scrape(&self, scrape_target: SocketAddr, timeout: Duration) -> Value {
        self.wait_for_target(scrape_target, timeout, "scraped", |t| {
            t["health"] != "unknown"
        })
    }

    /// Waits until `scrape_target` is `health: "up"` with an empty
    /// `lastError`, and returns it. A target that is down is polled again,
    /// not failed at once, so that a slow scrape on a loaded machine (the
    /// scrape timeout is 1s) isn't a failure; the panic at the timeout shows
    /// its lastError.
    pub fn wait_for_up(&self, scrape_target: SocketAddr, timeout: Duration) -> Value {
        self.wait_for_target(scrape_target, timeout, "up with no lastError", |t| {
            t["health"] == "up" && t["lastError"] == ""
        })
    }

    /// [`Prometheus::wait_for_up`] for every target it scrapes, all within
    /// `timeout`; returns them in the order given to `start`.
    pub fn wait_for_target_up(&self, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        self.targets
            .iter()
            .map(|t| self.wait_for_up(*t, deadline.saturating_duration_since(Instant::now())))
            .collect()
    }

    /// `GET /api/v1/query?query=<q>` (instant query, now): its `data`
    /// (`{"resultType", "result"}`).
    pub fn query(&self, q: &str) -> Value {
        self.api(&format!("query?query={}", encode(q)))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The exemplars that `/api/v1/query_exemplars` returns for `query`
    /// between `start` and `end` (seconds since the epoch), now, without
    /// waiting.
    pub fn exemplars_between(&self, query: &str, start: f64, end: f64) -> Vec<Exemplar> {
        let path = format!(
            "query_exemplars?query={}&start={start:.3}&end={end:.3}",
            encode(query)
        );
        let data = self.api(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        for set in data.as_array().expect("query_exemplars data is an array") {
            let series_labels = string_map(&set["seriesLabels"]);
            for e in set["exemplars"].as_array().expect("exemplars is an array") {
                out.push(Exemplar {
                    series_labels: series_labels.clone(),
                    labels: string_map(&e["labels"]),
                    value: prometheus_float(&e["value"]),
                    timestamp: e["timestamp"]
                        .as_f64()
                        .expect("exemplar timestamp is a number"),
                });
            }
        }
        out
    }

    /// Waits until `query_exemplars` finds at least one exemplar for `query`
    /// with a timestamp within the last hour (or the next minute) and returns
    /// them all; panics at the timeout. An exemplar timestamped in another
    /// unit (milliseconds, say) lands decades away and is not found.
    pub fn query_exemplars(&self, query: &str, timeout: Duration) -> Vec<Exemplar> {
        self.wait_for_exemplars(query, None, timeout)
    }

    /// [`Prometheus::query_exemplars`] over a fixed window: for exemplars
    /// whose own timestamps are far from now.
    pub fn query_exemplars_between(
        &self,
        query: &str,
        start: f64,
        end: f64,
        timeout: Duration,
    ) -> Vec<Exemplar> {
        self.wait_for_exemplars(query, Some((start, end)), timeout)
    }

    fn wait_for_exemplars(
        &self,
        query: &str,
        window: Option<(f64, f64)>,
        timeout: Duration,
    ) -> Vec<Exemplar> {
        let deadline = Instant::now() + timeout;
        loop {
            let (start, end) = window.unwrap_or_else(|| (unix_now() - 3600.0, unix_now() + 60.0));
            let found = self.exemplars_between(query, start, end);
            if !found.is_empty() {
                return found;
            }
            assert!(
                Instant::now() <= deadline,
                "no exemplar for {query:?} between {start:.3} and {end:.3} within {timeout:?}; \
                 targets: {}\n{}",
                self.targets(),
                self.log_tail()
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            eprintln!("{}", self.log_tail());
            eprintln!("(kept {} for inspection)", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn wait_ready(child: &mut Child, addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait prometheus") {
            return Err(format!("prometheus exited with {status}"));
        }
        match http_get(addr, "/-/ready") {
            Ok(r) if r.status == 200 => return Ok(()),
            Ok(r) if Instant::now() > deadline => {
                return Err(format!("/-/ready: {} {}", r.status, r.body))
            }
            Err(e) if Instant::now() > deadline => return Err(format!("/-/ready: {e}")),
            _ => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The last 30 lines of a log, with its path.
fn tail(path: &Path, log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    format!("--- last lines of {}:\n{tail}", path.display())
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr")
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Prometheus' API writes sample and exemplar values as strings.
fn prometheus_float(v: &Value) -> f64 {
    match v.as_str() {
        Some("+Inf") => f64::INFINITY,
        Some("-Inf") => f64::NEG_INFINITY,
        Some(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("not a Prometheus float: {v}")),
        None => v
            .as_f64()
            .unwrap_or_else(|| panic!("not a Prometheus float: {v}")),
    }
}

// ------------------------------------------------------------ fixture server

/// A request [`MetricsServer`] received.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET /metrics HTTP/1.1`
    pub request_line: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Body = dyn Fn() -> String + Send + Sync;

/// A tiny HTTP server on a free port of 127.0.0.1 answering `GET /metrics`
/// with `body()` (called anew for each request) and the given content type,
/// and 404 to anything else; one connection at a time, each closed after its
/// response. It records the requests it gets. Dropping it stops it.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MetricsServer {
    /// Serves a fixed body.
    pub fn fixed(content_type: &str, body: &str) -> MetricsServer {
        let body = body.to_owned();
        MetricsServer::serve(content_type, move || body.clone())
    }

    /// Serves what `body` returns at each request.
    pub fn serve(
        content_type: &str,
        body: impl Fn() -> String + Send + Sync + 'static,
    ) -> MetricsServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let content_type = content_type.to_owned();
        let body: Arc<Body> = Arc::new(body);
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            thread::Builder::new()
                .name("metrics-fixture".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        if let Ok(stream) = stream {
                            // A client that misbehaves only loses its own response.
                            let _ = answer(stream, &content_type, &*body, &requests);
                        }
                    }
                })
                .expect("spawn the fixture server")
        };
        MetricsServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// Where it listens; `http://<addr>/metrics` is the scrape URL.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn answer(
    stream: TcpStream,
    content_type: &str,
    body: &Body,
    requests: &Mutex<Vec<Request>>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let request_line = request_line.trim_end().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let mut parts = request_line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    requests.lock().unwrap().push(Request {
        request_line: request_line.clone(),
        headers,
    });

    let mut stream = stream;
    if method == "GET" && path == "/metrics" {
        let body = body();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
    } else {
        stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
    }
    stream.flush()?;
    stream.shutdown(Shutdown::Write)
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
