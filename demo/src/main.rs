//! The shop demo: sets tracelink up (spans to the local store, JSON log lines
//! to stdout and `.tracelink/shop.log`, `/metrics` on a free port), runs the
//! flow of the `shop` library ([`shop::run`]), then prints this run's traces,
//! the commands that show them, and the exemplars of `/metrics`.
//!
//! ```text
//! cargo run -p tracelink-demo
//! ```
//!
//! The library's documentation (`src/lib.rs`) tells the whole story.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use shop::{payments, run, Answer, BoxError, Checkout, Outcome, LOG_FILE};
use tracelink::trace::TracesExporter;

mod tee;

/// Where spans go: the local store always, since the commands printed at the
/// end read it; OTLP too when the environment points at a collector; exactly
/// the exporters `OTEL_TRACES_EXPORTER` names, plus the store, when set.
fn exporters(config: &tracelink::Config) -> Vec<TracesExporter> {
    use tracelink::env::{
        OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_TRACES_EXPORTER,
    };

    let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
    let mut exporters = if set(OTEL_TRACES_EXPORTER) {
        config.traces_exporters().to_vec()
    } else if set(OTEL_EXPORTER_OTLP_ENDPOINT) || set(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
        vec![TracesExporter::Otlp]
    } else {
        Vec::new()
    };
    if !exporters.contains(&TracesExporter::File) {
        exporters.push(TracesExporter::File);
    }
    exporters
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let log = tee::Tee::create(Path::new(LOG_FILE))
        .map_err(|error| format!("cannot create {LOG_FILE}: {error}"))?;
    let mut builder = tracelink::builder()
        .with_service_name("shop")
        .with_log_writer(tracelink::logs::LogWriter::custom(log));
    let config = builder.config()?;
    let exporters = exporters(&config);
    builder = builder.with_traces_exporters(exporters.clone());
    if std::env::var_os(tracelink::env::OTEL_EXPORTER_PROMETHEUS_PORT).is_none() {
        // A free port rather than 9464, which another program may hold.
        builder = builder.with_prometheus_listener("127.0.0.1", 0);
    }
    let guard = builder.init()?;

    let outcome = run().await?;
    // Every span has ended: export them now, so that the store holds them
    // (and the console exporter's output comes before the summary). A
    // collector that is down is no reason to stop here.
    if let Err(error) = guard.flush() {
        eprintln!("shop: {error}");
    }

    print_summary(&outcome, &config, &exporters);
    if let Some(address) = guard.metrics_address() {
        print_exemplars(address, &outcome).await;
    }
    if let Err(error) = guard.shutdown() {
        eprintln!("shop: {error}");
    }
    Ok(())
}

/// The orders' traces, where everything went, and the commands that show
/// the traces, on stderr.
fn print_summary(outcome: &Outcome, config: &tracelink::Config, exporters: &[TracesExporter]) {
    let store = config.traces_file();
    eprintln!();
    eprintln!(
        "shop: {} orders, one trace each (gateway {}, payments {}); the notifier confirmed {:?}",
        outcome.checkouts.len(),
        outcome.gateway,
        outcome.payments,
        outcome.notified
    );
    for checkout in &outcome.checkouts {
        let line = format!(
            "  order {}  {:<8} {:>4} ms  trace {}  {}",
            checkout.order.id,
            format!("{:?}", checkout.answer).to_lowercase(),
            checkout.elapsed.as_millis(),
            checkout.trace_id,
            note(checkout)
        );
        eprintln!("{}", line.trim_end());
    }
    let mut sent = format!("spans in {}", store.display());
    if exporters.contains(&TracesExporter::Otlp) {
        let _ = write!(sent, " and to {}", config.traces_endpoint());
    }
    eprintln!("{sent}; log lines on stdout and in {LOG_FILE}");

    // The commands, with `--store` when the store is not where the
    // `tracelink` command looks by default.
    let cli = "cargo run -p tracelink-cli --";
    let store_option = if store == Path::new(tracelink::env::TRACELINK_TRACES_FILE_DEFAULT) {
        String::new()
    } else {
        format!(" --store {}", store.display())
    };
    let show = |checkout: &Checkout| {
        format!(
            "{cli} show {} --logs {LOG_FILE}{store_option}",
            checkout.trace_id
        )
    };
    let first = |wanted: fn(&Checkout) -> bool| outcome.checkouts.iter().find(|c| wanted(c));
    if let Some(slow) = first(|c| payments::needs_review(c.order.amount_cents)) {
        eprintln!(
            "\nthe slow trace, order {}:\n  {}",
            slow.order.id,
            show(slow)
        );
    }
    if let Some(failed) = first(|c| c.answer == Answer::Failed) {
        eprintln!(
            "the error trace, order {}:\n  {}",
            failed.order.id,
            show(failed)
        );
    }
    eprintln!("every trace with an error in the store:\n  {cli} traces --errors{store_option}");
    eprintln!(
        "from a log line to its trace:\n  grep 'card processor unavailable' {LOG_FILE} | head -1 | {cli} jump --logs {LOG_FILE}{store_option}"
    );
}

/// The duration buckets and counters of `/metrics` that carry an exemplar,
/// each with the order it points at, on stderr.
async fn print_exemplars(address: SocketAddr, outcome: &Outcome) {
    eprintln!(
        "\nexemplars in http://{address}/metrics, each pointing at a span of an order's trace:"
    );
    match scrape(address).await {
        Ok(body) => {
            for line in exemplar_lines(&body) {
                eprintln!("  {}  {line}", order_of(outcome, line));
            }
        }
        Err(error) => eprintln!("  cannot scrape: {error}"),
    }
}

/// What to look for in an order's trace.
fn note(checkout: &Checkout) -> &'static str {
    match checkout.answer {
        Answer::Placed if payments::needs_review(checkout.order.amount_cents) => {
            "slow: fraud.review"
        }
        Answer::Placed => "",
        Answer::Declined => "payments answered 402",
        Answer::Failed => "payments answered 500, the gateway 502",
    }
}

/// The request duration buckets, then the counters, of an OpenMetrics
/// exposition that carry an exemplar.
fn exemplar_lines(body: &str) -> Vec<&str> {
    const BUCKET: &str = "http_server_request_duration_seconds_bucket";
    let mut lines: Vec<&str> = body
        .lines()
        .filter(|line| {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            line.contains(" # {") && (name == BUCKET || name.ends_with("_total"))
        })
        .collect();
    lines.sort_by_key(|line| !line.starts_with(BUCKET));
    lines
}

/// `order N` for the order whose trace an exemplar line points at.
fn order_of(outcome: &Outcome, line: &str) -> String {
    outcome
        .checkouts
        .iter()
        .find(|c| line.contains(&format!("trace_id=\"{}\"", c.trace_id)))
        .map_or_else(|| "       ".to_owned(), |c| format!("order {}", c.order.id))
}

/// The OpenMetrics exposition (the format with exemplars) of `/metrics`.
async fn scrape(address: SocketAddr) -> Result<String, reqwest::Error> {
    reqwest::Client::new()
        .get(format!("http://{address}/metrics"))
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}
