//! The outage soak (issue 13): a service keeps serving while its collector
//! dies and comes back, and every span it made is accounted for.
//!
//! The process plays a service: `--workers` threads (4) run "requests" at a
//! paced total of `--rate` spans per second (20,000). A request is a SERVER
//! span with a child span, both with typed attributes (string, integer,
//! boolean, float), and one `info!` line in the child; the lines go through
//! tracelink's JSON layer to `/dev/null` (`LogWriter::custom` over the file,
//! one `write` per line; `TRACELINK_LOG_FORMAT=none` turns them off).
//! tracelink is set up by `tracelink::builder()`, with the `OTEL_*`,
//! `TRACELINK_*` and `RUST_LOG` variables of this process plus the endpoint
//! and protocol of a `tracelink receive` that the soak starts itself on a
//! free 127.0.0.1 port. The receiver is killed (SIGKILL, by pid) after
//! `--up` seconds (10), restarted on the same port `--down` seconds later
//! (15), and the soak runs `--after` more seconds (15).
//!
//! Every second it prints: elapsed time, spans produced, exported, dropped
//! and failed (`Guard::stats().spans()`), pending (produced less the three:
//! spans in the queue or in flight), RSS (`VmRSS`), and the worst request
//! stall of that second (the longest wall time of one request on any
//! worker, `Instant` around the request, pacing sleep excluded). At the end
//! the workers stop, `guard.flush()` and then `guard.shutdown()` run (both
//! results printed; the totals are read between the two, since `shutdown`
//! consumes the guard), and it prints the totals, the check produced ==
//! exported + dropped + failed (PASS/FAIL), peak RSS (`VmHWM`), the worst
//! stall overall and per phase, how long after the restart `exported` rose
//! again and the last span was lost, and, as a cross-check from the other
//! side, the spans the receiver stored (unique span ids) against `exported`.
//!
//! Run with `./scripts/soak.sh` (builds the receiver and this bench in
//! release, both protocols, about 60 s each), or by hand:
//!
//! ```text
//! cargo build --release -p tracelink-cli
//! cargo bench --bench soak -- --protocol grpc --up 10 --down 15 --after 15
//! ```
//!
//! `--protocol grpc|http/protobuf|both` (`both`, the default, runs one
//! child process per protocol and prints a table), `--workers N`,
//! `--rate SPANS_PER_S`, `--up S`, `--down S`, `--after S`, `--tracelink
//! PATH` (default: the `tracelink` next to this bench's `deps/` directory,
//! i.e. `target/release/tracelink`). The exit status is 1 if the check fails.
//!
//! Run by `cargo test --all-targets` (no `--bench` argument), it only checks
//! itself for about half a second: two workers against the `file` exporter,
//! produced == exported + dropped + failed and exported == spans in the file.
//!
//! Measured 2026-12-07, 2-core x86_64 VM, release, `./scripts/soak.sh`
//! defaults (15 s up, 25 s down, 20 s up; 20,000 spans/s; `OTEL_BSP_*` at
//! tracelink's defaults: queue 2048, batch 512, delay 5 s):
//!
//! | protocol      |  produced | exported | dropped | failed | check | peak RSS | worst stall | recovery |
//! |---------------|----------:|---------:|--------:|-------:|-------|---------:|------------:|---------:|
//! | grpc          | 1,200,088 |  696,672 | 488,568 | 14,848 | PASS  | 10.3 MiB |      5.2 ms |   0.26 s |
//! | http/protobuf | 1,200,096 |  700,648 | 484,600 | 14,848 | PASS  |  9.5 MiB |      7.9 ms |   0.07 s |
//!
//! The receiver stored exactly `exported` spans (unique ids, no duplicates)
//! both times; every log line was written. Recovery (restart to the first
//! rise of `exported`) moved between 0.07 and 0.46 s over gRPC and 0.07 and
//! 0.08 s over HTTP in shorter runs: it is where the retried batch is in its
//! backoff when the receiver returns. A stall is wall time: on two cores
//! shared by four workers, the export thread and the receiver it is mostly
//! the scheduler's doing, and it is lowest while the receiver is down
//! (0.4 ms, 1.2 ms), when the export thread has little to do.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Spans one request makes: the SERVER span and its child.
const SPANS_PER_REQUEST: u64 = 2;
/// How often the main loop samples the stats (the resolution of the
/// recovery time).
const TICK: Duration = Duration::from_millis(5);
/// A worker more than this behind its schedule skips ahead instead of
/// bursting to catch up (the skipped requests are counted).
const CATCH_UP_LIMIT: Duration = Duration::from_millis(100);
/// How long a (re)started receiver may take to accept connections.
const RECEIVER_START_LIMIT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|arg| arg == "--bench") {
        return self_check();
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("soak: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(tracelink) = options.receiver_binary() else {
        return ExitCode::from(2);
    };
    match options.protocol {
        Protocol::Both => run_both(&options, &tracelink),
        protocol => match run_soak(&options, protocol, &tracelink) {
            Ok(summary) if summary.pass => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(error) => {
                eprintln!("soak: {error}");
                ExitCode::from(2)
            }
        },
    }
}

const USAGE: &str = "usage: soak --bench [--protocol grpc|http/protobuf|both] [--workers N] \
[--rate SPANS_PER_S] [--up S] [--down S] [--after S] [--tracelink PATH]";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Grpc,
    Http,
    Both,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http/protobuf",
            Protocol::Both => "both",
        }
    }
}

#[derive(Clone, Debug)]
struct Options {
    protocol: Protocol,
    workers: usize,
    /// Spans per second, over all workers.
    rate: u64,
    up: Duration,
    down: Duration,
    after: Duration,
    tracelink: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            protocol: Protocol::Both,
            workers: 4,
            rate: 20_000,
            up: Duration::from_secs(10),
            down: Duration::from_secs(15),
            after: Duration::from_secs(15),
            tracelink: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if arg == "--bench" {
                continue;
            }
            let mut value = || {
                args.next()
                    .ok_or_else(|| format!("{arg} needs a value"))
                    .cloned()
            };
            match arg.as_str() {
                "--protocol" => {
                    options.protocol = match value()?.as_str() {
                        "grpc" => Protocol::Grpc,
                        "http/protobuf" | "http" => Protocol::Http,
                        "both" => Protocol::Both,
                        other => return Err(format!("unknown protocol {other:?}")),
                    }
                }
                "--workers" => options.workers = number(arg, &value()?)?,
                "--rate" => options.rate = number(arg, &value()?)?,
                "--up" => options.up = seconds(arg, &value()?)?,
                "--down" => options.down = seconds(arg, &value()?)?,
                "--after" => options.after = seconds(arg, &value()?)?,
                "--tracelink" => options.tracelink = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if options.workers == 0 || options.rate == 0 {
            return Err("--workers and --rate must be at least 1".into());
        }
        Ok(options)
    }

    /// The `tracelink` binary: `--tracelink`, else the one cargo built in the
    /// same profile, next to this bench's `deps/` directory. `None` (after
    /// saying why) when it is not there.
    fn receiver_binary(&self) -> Option<PathBuf> {
        if let Some(path) = &self.tracelink {
            if path.is_file() {
                return Some(path.clone());
            }
            eprintln!("soak: no tracelink binary at {}", path.display());
            return None;
        }
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("tracelink")));
        match beside {
            Some(path) if path.is_file() => Some(path),
            _ => {
                eprintln!(
                    "soak: no tracelink binary beside this bench; run \
                     `cargo build --release -p tracelink-cli` first, or pass --tracelink PATH"
                );
                None
            }
        }
    }

    /// The arguments that give a child process these options for one protocol.
    fn child_args(&self, protocol: Protocol, tracelink: &Path) -> Vec<String> {
        vec![
            "--bench".into(),
            "--protocol".into(),
            protocol.name().into(),
            "--workers".into(),
            self.workers.to_string(),
            "--rate".into(),
            self.rate.to_string(),
            "--up".into(),
            self.up.as_secs_f64().to_string(),
            "--down".into(),
            self.down.as_secs_f64().to_string(),
            "--after".into(),
            self.after.as_secs_f64().to_string(),
            "--tracelink".into(),
            tracelink.display().to_string(),
        ]
    }
}

fn number<T: std::str::FromStr>(arg: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{arg}: {value:?} is not a number"))
}

fn seconds(arg: &str, value: &str) -> Result<Duration, String> {
    let secs: f64 = number(arg, value.strip_suffix('s').unwrap_or(value))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{arg}: {value:?} is not a duration"))
}

// ---------------------------------------------------------------- the service

/// What the workers and the main loop share.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    /// Spans made by requests that have finished.
    produced: AtomicU64,
    /// The longest request since the main loop last took it, in ns.
    stall_ns: AtomicU64,
    /// Requests that took over 1 ms, and over 10 ms.
    over_1ms: AtomicU64,
    over_10ms: AtomicU64,
    /// Requests skipped because a worker fell too far behind its schedule.
    skipped: AtomicU64,
}

/// One request: a SERVER span, a child span, a log line in the child.
fn request(worker: usize, n: u64) {
    let root = tracing::info_span!(
        "GET /orders/{id}",
        otel.kind = "server",
        http.request.method = "GET",
        http.route = "/orders/{id}",
        http.response.status_code = 200_i64,
        order.id = n,
        worker = worker as i64,
    );
    let _root = root.enter();
    let query = tracing::info_span!(
        "db.query",
        db.system = "postgresql",
        db.operation = "SELECT",
        db.rows = 3_i64,
        db.cached = n % 2 == 0,
        db.ratio = 0.25_f64,
    );
    let _query = query.enter();
    tracing::info!(amount_cents = 2500_i64, order.id = n, "order loaded");
}

/// A worker: requests at `per_second`, from `start`, until told to stop.
fn worker(id: usize, per_second: f64, start: Instant, shared: &Shared) {
    let interval = Duration::from_secs_f64(1.0 / per_second);
    let mut next = start;
    let mut n = 0_u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        let began = Instant::now();
        request(id, n);
        let took = began.elapsed();
        shared
            .produced
            .fetch_add(SPANS_PER_REQUEST, Ordering::Relaxed);
        shared
            .stall_ns
            .fetch_max(took.as_nanos() as u64, Ordering::Relaxed);
        if took > Duration::from_millis(1) {
            shared.over_1ms.fetch_add(1, Ordering::Relaxed);
            if took > Duration::from_millis(10) {
                shared.over_10ms.fetch_add(1, Ordering::Relaxed);
            }
        }
        n += 1;
        next += interval;
        let now = Instant::now();
        if now > next + CATCH_UP_LIMIT {
            let behind = (now - next).as_secs_f64() / interval.as_secs_f64();
            shared.skipped.fetch_add(behind as u64, Ordering::Relaxed);
            next = now;
        }
    }
}

/// tracelink's settings: this process's `OTEL_*`, `TRACELINK_*` and
/// `RUST_LOG`, then `overrides`, then the soak's defaults for what is unset.
fn settings(overrides: &[(&str, String)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = std::env::vars()
        .filter(|(key, _)| {
            key.starts_with("OTEL_") || key.starts_with("TRACELINK_") || key == "RUST_LOG"
        })
        .collect();
    for (key, value) in overrides {
        env.insert((*key).to_owned(), value.clone());
    }
    for (key, value) in [
        ("OTEL_SERVICE_NAME", "soak"),
        // No /metrics listener unless asked; if asked, on 127.0.0.1 only.
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
    ] {
        env.entry(key.to_owned())
            .or_insert_with(|| value.to_owned());
    }
    env
}

/// Installs tracelink with `env`, its log lines going to `/dev/null`.
fn install(env: HashMap<String, String>) -> Result<tracelink::Guard, String> {
    let null = File::options()
        .write(true)
        .open("/dev/null")
        .map_err(|error| format!("cannot open /dev/null: {error}"))?;
    tracelink::builder()
        .with_env(env)
        .with_log_writer(tracelink::logs::LogWriter::custom(Arc::new(null)))
        .init()
        .map_err(|error| format!("tracelink did not start: {error}"))
}

// ------------------------------------------------------------------ the soak

/// What one soak ended with.
#[derive(Debug)]
struct Summary {
    protocol: Protocol,
    produced: u64,
    exported: u64,
    dropped: u64,
    failed: u64,
    pass: bool,
    peak_rss_kib: u64,
    worst_stall: Duration,
    /// From the restart (spawn) to the first rise of `exported`.
    recovery: Option<Duration>,
    received: u64,
}

impl Summary {
    /// The line `run_both` reads back from a child.
    fn to_line(&self) -> String {
        format!(
            "RESULT protocol={} produced={} exported={} dropped={} failed={} check={} \
             peak_rss_kib={} worst_stall_us={} recovery_ms={} received={}",
            self.protocol.name(),
            self.produced,
            self.exported,
            self.dropped,
            self.failed,
            if self.pass { "PASS" } else { "FAIL" },
            self.peak_rss_kib,
            self.worst_stall.as_micros(),
            self.recovery
                .map_or_else(|| "none".to_owned(), |d| d.as_millis().to_string()),
            self.received,
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Up,
    Down,
    /// Restarted, not yet accepting connections.
    Restarting,
    UpAgain,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Up => "up",
            Phase::Down => "down",
            Phase::Restarting => "restart",
            Phase::UpAgain => "up again",
        }
    }

    /// Where a stall seen in this phase counts: up, down, up again (the few
    /// ms of restarting with the last).
    fn slot(self) -> usize {
        match self {
            Phase::Up => 0,
            Phase::Down => 1,
            Phase::Restarting | Phase::UpAgain => 2,
        }
    }
}

fn run_soak(options: &Options, protocol: Protocol, tracelink: &Path) -> Result<Summary, String> {
    let dir = TempDir::new("tracelink-soak")?;
    let store = dir.path.join("traces.jsonl");
    let address = free_port()?;
    let mut receiver = Receiver::new(tracelink, protocol, address, &store, &dir.path);
    receiver.spawn()?;
    receiver.wait_ready()?;

    let endpoint = format!("http://{address}");
    let guard = install(settings(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.name().to_owned()),
    ]))?;
    println!(
        "soak {}: receiver pid {} on {address}; {} workers, {} spans/s; \
         up {:.0} s, down {:.0} s, up {:.0} s",
        protocol.name(),
        receiver.pid().unwrap_or(0),
        options.workers,
        options.rate,
        options.up.as_secs_f64(),
        options.down.as_secs_f64(),
        options.after.as_secs_f64(),
    );
    println!(
        "{:>6} {:<8} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8} {:>9}",
        "t (s)",
        "phase",
        "produced",
        "exported",
        "dropped",
        "failed",
        "pending",
        "RSS MiB",
        "stall ms"
    );

    let shared = Shared::default();
    let per_worker = options.rate as f64 / SPANS_PER_REQUEST as f64 / options.workers as f64;
    let kill_at = options.up;
    let restart_at = options.up + options.down;
    let end_at = restart_at + options.after;

    let mut phase = Phase::Up;
    let mut worst = [Duration::ZERO; 3]; // up, down, up again (restarting included)
    let mut killed_at = None;
    let mut restarted_at = None;
    let mut listening_after = None;
    let mut exported_at_restart = 0;
    let mut recovery = None;
    let mut last_loss_after = None;
    let mut lost_at_restart = 0;
    let mut second = 1_u32;

    let start = Instant::now();
    std::thread::scope(|scope| -> Result<(), String> {
        for id in 0..options.workers {
            let shared = &shared;
            std::thread::Builder::new()
                .name(format!("worker-{id}"))
                .spawn_scoped(scope, move || worker(id, per_worker, start, shared))
                .map_err(|error| format!("cannot start a worker: {error}"))?;
        }
        let outcome = (|| loop {
            std::thread::sleep(TICK);
            let elapsed = start.elapsed();
            let spans = guard.stats().spans();
            // This second's line first, in the phase it ran in; then what the
            // schedule says to do now.
            if elapsed >= Duration::from_secs(u64::from(second)) || elapsed >= end_at {
                let stall = Duration::from_nanos(shared.stall_ns.swap(0, Ordering::Relaxed));
                let slot = &mut worst[phase.slot()];
                *slot = (*slot).max(stall);
                let produced = shared.produced.load(Ordering::Relaxed);
                let settled = spans.exported() + spans.dropped() + spans.failed();
                println!(
                    "{:>6.1} {:<8} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8.1} {:>9.2}",
                    elapsed.as_secs_f64(),
                    phase.name(),
                    produced,
                    spans.exported(),
                    spans.dropped(),
                    spans.failed(),
                    produced as i64 - settled as i64,
                    proc_status_kib("VmRSS:") as f64 / 1024.0,
                    stall.as_secs_f64() * 1e3,
                );
                second += 1;
            }
            match phase {
                Phase::Up if elapsed >= kill_at => {
                    receiver.kill();
                    killed_at = Some(elapsed);
                    phase = Phase::Down;
                }
                Phase::Down if elapsed >= restart_at => {
                    exported_at_restart = spans.exported();
                    lost_at_restart = spans.lost();
                    restarted_at = Some(Instant::now());
                    receiver.spawn()?;
                    phase = Phase::Restarting;
                }
                Phase::Restarting => {
                    let since = restarted_at.map_or(Duration::ZERO, |at| at.elapsed());
                    if receiver.accepts() {
                        listening_after = Some(since);
                        phase = Phase::UpAgain;
                    } else if receiver.exited() {
                        receiver.spawn()?; // the port was not free yet
                    } else if since > RECEIVER_START_LIMIT {
                        return Err("the receiver did not come back".to_owned());
                    }
                }
                _ => {}
            }
            if let Some(at) = restarted_at {
                if recovery.is_none() && spans.exported() > exported_at_restart {
                    recovery = Some(at.elapsed());
                }
                if spans.lost() > lost_at_restart {
                    lost_at_restart = spans.lost();
                    last_loss_after = Some(at.elapsed());
                }
            }
            if elapsed >= end_at {
                return Ok(());
            }
        })();
        shared.stop.store(true, Ordering::Relaxed);
        outcome
    })?;
    let ran = start.elapsed();
    let stall = Duration::from_nanos(shared.stall_ns.swap(0, Ordering::Relaxed));
    let slot = &mut worst[phase.slot()];
    *slot = (*slot).max(stall);

    // The workers have stopped: `produced` is final.
    let produced = shared.produced.load(Ordering::Relaxed);
    let before = guard.stats().spans();
    let flush_began = Instant::now();
    let flushed = guard.flush();
    let flush_took = flush_began.elapsed();
    let stats = guard.stats();
    let spans = stats.spans();
    let lines = stats.log_lines();
    let shutdown_began = Instant::now();
    let shut_down = guard.shutdown();
    let shutdown_took = shutdown_began.elapsed();
    // Before the store is counted, which is not the service's memory.
    let peak_rss_kib = proc_status_kib("VmHWM:");
    let end_rss_kib = proc_status_kib("VmRSS:");
    receiver.kill();
    let received = count_spans(&store)?;
    let receiver_stderr = receiver.stderr_excerpt();
    drop(dir);

    let settled = spans.exported() + spans.dropped() + spans.failed();
    let pass = produced == settled;
    let worst_stall = worst.iter().copied().max().unwrap_or_default();
    let summary = Summary {
        protocol,
        produced,
        exported: spans.exported(),
        dropped: spans.dropped(),
        failed: spans.failed(),
        pass,
        peak_rss_kib,
        worst_stall,
        recovery,
        received: received.unique,
    };

    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    println!();
    println!(
        "soak {} done after {:.1} s: {:.0} spans/s made ({} requests skipped behind schedule)",
        protocol.name(),
        ran.as_secs_f64(),
        produced as f64 / ran.as_secs_f64(),
        shared.skipped.load(Ordering::Relaxed),
    );
    println!(
        "  at stop: {} produced, {} settled, {} pending; flush {} in {}, then: \
         {} exported, {} dropped, {} failed",
        produced,
        before.exported() + before.dropped() + before.failed(),
        produced as i64 - (before.exported() + before.dropped() + before.failed()) as i64,
        result(&flushed),
        ms(flush_took),
        spans.exported(),
        spans.dropped(),
        spans.failed(),
    );
    println!(
        "  shutdown: {} in {}",
        result(&shut_down),
        ms(shutdown_took)
    );
    println!(
        "  produced {produced} {} exported {} + dropped {} + failed {} (= {settled}): {}",
        if pass { "==" } else { "!=" },
        spans.exported(),
        spans.dropped(),
        spans.failed(),
        if pass { "PASS" } else { "FAIL" },
    );
    println!(
        "  peak RSS (VmHWM) {:.1} MiB, RSS at the end {:.1} MiB",
        peak_rss_kib as f64 / 1024.0,
        end_rss_kib as f64 / 1024.0,
    );
    println!(
        "  worst request stall {} (up {}, down {}, up again {}); \
         requests over 1 ms: {}, over 10 ms: {}",
        ms(worst_stall),
        ms(worst[0]),
        ms(worst[1]),
        ms(worst[2]),
        shared.over_1ms.load(Ordering::Relaxed),
        shared.over_10ms.load(Ordering::Relaxed),
    );
    println!(
        "  receiver killed at {:.1} s, restarted at {:.1} s, listening {} later; \
         exported rose again {} after the restart; last span lost {} after it",
        killed_at.unwrap_or_default().as_secs_f64(),
        restart_at.as_secs_f64(),
        listening_after.map_or_else(|| "never".to_owned(), ms),
        recovery.map_or_else(|| "never".to_owned(), ms),
        last_loss_after.map_or_else(|| "none lost".to_owned(), ms),
    );
    let delivery = match received.unique.cmp(&spans.exported()) {
        std::cmp::Ordering::Equal => "== exported".to_owned(),
        std::cmp::Ordering::Greater => format!(
            "exported + {} (spans counted lost that arrived)",
            received.unique - spans.exported()
        ),
        std::cmp::Ordering::Less => format!(
            "exported - {} (spans counted exported that are not in the store)",
            spans.exported() - received.unique
        ),
    };
    println!(
        "  the receiver stored {} spans ({} unique): {delivery}",
        received.total, received.unique
    );
    println!(
        "  log lines: {} written, {} dropped, {} failed, of {} requests",
        lines.written(),
        lines.dropped(),
        lines.failed(),
        produced / SPANS_PER_REQUEST,
    );
    if !receiver_stderr.is_empty() {
        println!("  the receiver's stderr:\n{receiver_stderr}");
    }
    println!("{}", summary.to_line());
    Ok(summary)
}

fn result(outcome: &Result<(), tracelink::Error>) -> String {
    match outcome {
        Ok(()) => "Ok(())".to_owned(),
        Err(error) => format!("Err({error})"),
    }
}

/// Runs one child process per protocol, passing its lines through, then
/// prints the two summaries side by side.
fn run_both(options: &Options, tracelink: &Path) -> ExitCode {
    let exe = std::env::current_exe().expect("the path of this bench's executable");
    let mut rows = Vec::new();
    let mut ok = true;
    for protocol in [Protocol::Grpc, Protocol::Http] {
        let child = Command::new(&exe)
            .args(options.child_args(protocol, tracelink))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => KillOnDrop(child),
            Err(error) => {
                eprintln!("soak: cannot run {}: {error}", exe.display());
                return ExitCode::from(2);
            }
        };
        let mut row = None;
        if let Some(stdout) = child.0.stdout.take() {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                if let Some(fields) = line.strip_prefix("RESULT ") {
                    row = Some(fields.to_owned());
                }
            }
        }
        let status = child.0.wait();
        ok &= status.is_ok_and(|status| status.success());
        rows.push((protocol, row));
        println!();
    }
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>8} {:>6} {:>9} {:>11} {:>9} {:>9}",
        "protocol",
        "produced",
        "exported",
        "dropped",
        "failed",
        "check",
        "peak RSS",
        "worst stall",
        "recovery",
        "received"
    );
    for (protocol, row) in rows {
        let Some(row) = row else {
            println!("{:<14} (no result)", protocol.name());
            ok = false;
            continue;
        };
        let field: HashMap<&str, &str> = row
            .split(' ')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        let get = |key| field.get(key).copied().unwrap_or("?");
        let mib = get("peak_rss_kib")
            .parse::<f64>()
            .map_or_else(|_| "?".to_owned(), |kib| format!("{:.1} MiB", kib / 1024.0));
        let stall = get("worst_stall_us")
            .parse::<f64>()
            .map_or_else(|_| "?".to_owned(), |us| format!("{:.1} ms", us / 1e3));
        let recovery = get("recovery_ms").parse::<f64>().map_or_else(
            |_| get("recovery_ms").to_owned(),
            |ms| format!("{:.2} s", ms / 1e3),
        );
        println!(
            "{:<14} {:>9} {:>9} {:>9} {:>8} {:>6} {:>9} {:>11} {:>9} {:>9}",
            get("protocol"),
            get("produced"),
            get("exported"),
            get("dropped"),
            get("failed"),
            get("check"),
            mib,
            stall,
            recovery,
            get("received"),
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

// ----------------------------------------------------------- the receiver

/// A `tracelink receive` child process on one port, started and killed by
/// pid; killed when dropped.
struct Receiver {
    command: Command,
    address: SocketAddr,
    stderr: PathBuf,
    child: Option<Child>,
}

impl Receiver {
    fn new(
        tracelink: &Path,
        protocol: Protocol,
        address: SocketAddr,
        store: &Path,
        dir: &Path,
    ) -> Self {
        let (grpc, http) = match protocol {
            Protocol::Grpc => (address.to_string(), "off".to_owned()),
            _ => ("off".to_owned(), address.to_string()),
        };
        let mut command = Command::new(tracelink);
        command
            .arg("receive")
            .arg("--store")
            .arg(store)
            .args(["--listen", &grpc, "--http-listen", &http])
            // Never rotate: every span stays in the store, to be counted.
            .args(["--max-bytes", "16GiB", "--quiet"])
            .env_remove("TRACELINK_TRACES_FILE")
            .env_remove("TRACELINK_TRACES_FILE_MAX_BYTES")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        Self {
            command,
            address,
            stderr: dir.join("receiver.stderr"),
            child: None,
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the receiver (reaping a previous one that exited).
    fn spawn(&mut self) -> Result<(), String> {
        self.kill();
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(&self.stderr)
            .map_err(|error| format!("cannot open {}: {error}", self.stderr.display()))?;
        let child = self
            .command
            .stderr(stderr)
            .spawn()
            .map_err(|error| format!("cannot start the receiver: {error}"))?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the receiver accepts connections, restarting it while its
    /// port is not free yet.
    fn wait_ready(&mut self) -> Result<(), String> {
        let began = Instant::now();
        while !self.accepts() {
            if began.elapsed() > RECEIVER_START_LIMIT {
                return Err(format!("the receiver did not listen on {}", self.address));
            }
            if self.exited() {
                self.spawn()?;
            }
            std::thread::sleep(TICK);
        }
        Ok(())
    }

    fn accepts(&self) -> bool {
        TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok()
    }

    fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|child| !matches!(child.try_wait(), Ok(None)))
    }

    /// SIGKILL to its pid, and reaps it.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // an error: it had exited already
            let _ = child.wait();
        }
    }

    /// Its stderr (it runs `--quiet`: only warnings and errors), at most
    /// 20 lines of it, indented.
    fn stderr_excerpt(&self) -> String {
        let Ok(file) = File::open(&self.stderr) else {
            return String::new();
        };
        let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
        let mut out: Vec<String> = lines
            .iter()
            .take(20)
            .map(|line| format!("    {line}"))
            .collect();
        if lines.len() > 20 {
            out.push(format!("    ... {} lines in all", lines.len()));
        }
        out.join("\n")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A child process killed (by pid) and reaped when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A free port on 127.0.0.1 (free when asked; the receiver binds it next).
fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|error| format!("no free port on 127.0.0.1: {error}"))
}

// ------------------------------------------------------------------ helpers

/// Spans in a store (OTLP/JSON lines; rotated files too), by `"spanId"`.
#[derive(Debug, Default)]
struct Received {
    total: u64,
    unique: u64,
}

fn count_spans(store: &Path) -> Result<Received, String> {
    let mut files = vec![store.to_path_buf()];
    files.extend((1..=3).map(|n| PathBuf::from(format!("{}.{n}", store.display()))));
    let mut ids = HashSet::new();
    let mut total = 0;
    let needle = b"\"spanId\":\"";
    for path in files.iter().filter(|path| path.is_file()) {
        let file =
            File::open(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            if read == 0 {
                break;
            }
            for at in memchr::memmem::find_iter(&line, needle) {
                let hex = line.get(at + needle.len()..at + needle.len() + 16);
                let id = hex
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok());
                if let Some(id) = id {
                    total += 1;
                    ids.insert(id);
                }
            }
        }
    }
    Ok(Received {
        total,
        unique: ids.len() as u64,
    })
}

/// A `/proc/self/status` value in KiB (`VmRSS:`, `VmHWM:`); 0 if unknown.
fn proc_status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with(key))?;
            line[key.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// A directory of its own under the temp dir, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(prefix: &str) -> Result<Self, String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

// --------------------------------------------------------------- test mode

/// `cargo test --all-targets`: half a second of two workers against the
/// `file` exporter, and the same accounting checks.
fn self_check() -> ExitCode {
    match try_self_check() {
        Ok(line) => {
            println!("soak self-check: {line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("soak self-check failed: {error}");
            ExitCode::from(1)
        }
    }
}

fn try_self_check() -> Result<String, String> {
    let dir = TempDir::new("tracelink-soak-check")?;
    let store = dir.path.join("traces.jsonl");
    let guard = install(settings(&[
        ("OTEL_TRACES_EXPORTER", "file".to_owned()),
        ("TRACELINK_TRACES_FILE", store.display().to_string()),
        ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
    ]))?;
    let shared = Shared::default();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for id in 0..2 {
            let shared = &shared;
            scope.spawn(move || worker(id, 1_000.0, start, shared));
        }
        std::thread::sleep(Duration::from_millis(300));
        shared.stop.store(true, Ordering::Relaxed);
    });
    let produced = shared.produced.load(Ordering::Relaxed);
    let flushed = guard.flush();
    let spans = guard.stats().spans();
    let lines = guard.stats().log_lines();
    let shut_down = guard.shutdown();
    let received = count_spans(&store)?;
    let line = format!(
        "produced {produced}, exported {}, dropped {}, failed {}, in the file {}, \
         log lines {}; flush {}, shutdown {}",
        spans.exported(),
        spans.dropped(),
        spans.failed(),
        received.unique,
        lines.written(),
        result(&flushed),
        result(&shut_down),
    );
    let settled = spans.exported() + spans.dropped() + spans.failed();
    let expected_lines =
        if std::env::var("TRACELINK_LOG_FORMAT").is_ok_and(|f| f == "none" || f == "off") {
            0
        } else {
            produced / SPANS_PER_REQUEST
        };
    if produced == 0 || produced != settled || received.unique != spans.exported() {
        return Err(line);
    }
    if lines.written() != expected_lines || flushed.is_err() || shut_down.is_err() {
        return Err(line);
    }
    Ok(line)
}
