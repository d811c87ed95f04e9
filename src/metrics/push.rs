//! The metrics push (`OTEL_METRICS_EXPORTER=otlp`, `console`): a thread of
//! its own that, every `OTEL_METRIC_EXPORT_INTERVAL` and once more at
//! shutdown, takes what the recorder holds and sends it, each push bounded
//! by `OTEL_METRIC_EXPORT_TIMEOUT` (and at shutdown by the guard's
//! deadline). Recording never waits for it: the push reads the same atomic
//! cells `/metrics` reads.
//!
//! OTLP goes over gRPC (tonic's client of the official service) or
//! HTTP/protobuf (`POST /v1/metrics`), with the same TLS, headers, gzip
//! and timeout rules as the other signals. A push that fails is not
//! retried: with cumulative temporality the next one carries the totals;
//! with delta, what it carried is lost, and counted as failed.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

use super::otlp::Converter;
use super::{Format, MetricsHandle};
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use crate::export::OtlpTarget;
use crate::export::{ExportStats, Outcome};
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use crate::trace::Protocol;

/// Where each push goes.
#[derive(Debug)]
pub(crate) enum Sink {
    /// OTLP, to a Collector or backend.
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    Otlp(Box<Otlp>),
    /// The OpenMetrics text on stderr, for development.
    Console,
}

impl Sink {
    /// An OTLP sink for `target`, made inside `runtime` (tonic's channel
    /// needs one).
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    pub(crate) fn otlp(
        target: &OtlpTarget<'_>,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<Self, crate::Error> {
        let _enter = runtime.enter();
        Otlp::new(target).map(|otlp| Sink::Otlp(Box::new(otlp)))
    }

    fn describe(&self) -> String {
        match self {
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Sink::Otlp(otlp) => format!(
                "OTLP/{} {}",
                otlp.protocol.name(),
                crate::diag::redact_url(&otlp.endpoint)
            ),
            Sink::Console => "console (stderr)".into(),
        }
    }
}

/// OTLP metrics: the transport and where it sends.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
#[derive(Debug)]
pub(crate) struct Otlp {
    transport: Transport,
    endpoint: String,
    protocol: Protocol,
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
enum Transport {
    #[cfg(feature = "otlp-grpc")]
    Grpc {
        client: opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient<
            tonic::transport::Channel,
        >,
        metadata: tonic::metadata::MetadataMap,
    },
    #[cfg(feature = "otlp-http")]
    Http {
        client: Box<dyn opentelemetry_http::HttpClient>,
        uri: http::Uri,
        headers: Vec<(http::HeaderName, http::HeaderValue)>,
        gzip: bool,
    },
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the headers: their values are credentials.
        match self {
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc { .. } => f.write_str("Grpc"),
            #[cfg(feature = "otlp-http")]
            Transport::Http { uri, gzip, .. } => {
                write!(
                    f,
                    "Http({}, gzip: {gzip})",
                    crate::diag::redact_url(&uri.to_string())
                )
            }
        }
    }
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
impl Otlp {
    fn new(target: &OtlpTarget<'_>) -> Result<Self, crate::Error> {
        let transport = match target.protocol {
            #[cfg(feature = "otlp-grpc")]
            Protocol::Grpc => grpc(target)?,
            #[cfg(feature = "otlp-http")]
            Protocol::HttpProtobuf => http(target)?,
            #[allow(unreachable_patterns)]
            other => {
                return Err(target.error(
                    "metric",
                    format!("protocol {other} is not compiled in; enable tracelink's `otlp-grpc` or `otlp-http` feature"),
                ))
            }
        };
        Ok(Self {
            transport,
            endpoint: target.endpoint.to_owned(),
            protocol: target.protocol,
        })
    }

    /// Sends `request`; the error says why it failed, whole.
    async fn send(&self, request: &ExportMetricsServiceRequest) -> Result<(), String> {
        match &self.transport {
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc { client, metadata } => {
                let mut call = tonic::Request::new(request.clone());
                *call.metadata_mut() = metadata.clone();
                let mut client = client.clone();
                match client.export(call).await {
                    Ok(response) => partial(
                        response
                            .into_inner()
                            .partial_success
                            .map(|p| (p.rejected_data_points, p.error_message)),
                    ),
                    Err(status) => Err(format!(
                        "gRPC status {:?}: {}",
                        status.code(),
                        status.message()
                    )),
                }
            }
            #[cfg(feature = "otlp-http")]
            Transport::Http {
                client,
                uri,
                headers,
                gzip,
            } => {
                use prost::Message as _;
                let mut body = request.encode_to_vec();
                let mut builder = http::Request::post(uri.clone())
                    .header(http::header::CONTENT_TYPE, "application/x-protobuf");
                if *gzip {
                    body = gzipped(&body).map_err(|e| format!("gzip: {e}"))?;
                    builder = builder.header(http::header::CONTENT_ENCODING, "gzip");
                }
                for (name, value) in headers {
                    builder = builder.header(name, value);
                }
                let request = builder
                    .body(opentelemetry_http::Bytes::from(body))
                    .map_err(|e| e.to_string())?;
                let response = client.send_bytes(request).await.map_err(|e| chain(&*e))?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    let text = String::from_utf8_lossy(response.body());
                    let text: String = text.chars().take(200).collect();
                    Err(format!("HTTP {}: {text}", response.status()))
                }
            }
        }
    }
}

/// A partial success, as the collector told it.
#[cfg(feature = "otlp-grpc")]
fn partial(rejected: Option<(i64, String)>) -> Result<(), String> {
    match rejected {
        Some((n, message)) if n > 0 => Err(format!("{n} data points rejected: {message}")),
        _ => Ok(()),
    }
}

/// An error and its causes, on one line.
#[cfg(feature = "otlp-http")]
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(all(feature = "otlp-http", feature = "gzip"))]
fn gzipped(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body)?;
    encoder.finish()
}

#[cfg(all(feature = "otlp-http", not(feature = "gzip")))]
fn gzipped(_body: &[u8]) -> std::io::Result<Vec<u8>> {
    Err(std::io::Error::other(
        "this build has no gzip; enable tracelink's `gzip` feature",
    ))
}

#[cfg(feature = "otlp-grpc")]
fn grpc(target: &OtlpTarget<'_>) -> Result<Transport, crate::Error> {
    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
    let endpoint = tonic::transport::Endpoint::from_shared(target.endpoint.to_owned())
        .map_err(|e| target.error("metric", e))?
        .connect_timeout(target.timeout)
        .timeout(target.timeout);
    let channel = match target.tls {
        #[cfg(feature = "tls")]
        Some(tls) => endpoint.connect_with_connector_lazy(crate::transport::connector(
            rustls::ClientConfig::clone(tls),
            true,
        )),
        _ => endpoint.connect_lazy(),
    };
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (key, value) in target.headers {
        // Checked when the configuration was resolved.
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            metadata.insert(key, value);
        }
    }
    #[allow(unused_mut)]
    let mut client = MetricsServiceClient::new(channel);
    if target.compression == crate::trace::Compression::Gzip {
        #[cfg(feature = "gzip")]
        {
            client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        #[cfg(not(feature = "gzip"))]
        return Err(target.error(
            "metric",
            "this build has no gzip; enable tracelink's `gzip` feature",
        ));
    }
    Ok(Transport::Grpc { client, metadata })
}

#[cfg(feature = "otlp-http")]
fn http(target: &OtlpTarget<'_>) -> Result<Transport, crate::Error> {
    let uri: http::Uri = target
        .endpoint
        .parse()
        .map_err(|e: http::uri::InvalidUri| target.error("metric", e))?;
    let client: Box<dyn opentelemetry_http::HttpClient> = match target.tls {
        #[cfg(feature = "tls")]
        Some(tls) => Box::new(crate::transport::HttpClient::new(
            rustls::ClientConfig::clone(tls),
            target.timeout,
        )),
        _ => Box::new(
            opentelemetry_http::hyper::HyperClient::with_default_connector(target.timeout, None),
        ),
    };
    let headers = target
        .headers
        .iter()
        .filter_map(|(key, value)| Some((key.parse().ok()?, value.parse().ok()?)))
        .collect();
    Ok(Transport::Http {
        client,
        uri,
        headers,
        gzip: target.compression == crate::trace::Compression::Gzip,
    })
}

/// What the guard asks of the push thread.
enum Command {
    /// Push now; answer whether every sink took it.
    Flush(mpsc::Sender<bool>),
    /// Push a last time, by the deadline, and stop.
    Stop(Instant, mpsc::Sender<bool>),
}

/// The push thread, as the guard holds it.
#[derive(Debug)]
pub(crate) struct Pusher {
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<crate::export::Counters>,
}

/// How the push thread runs.
#[derive(Debug)]
pub(crate) struct Schedule {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

struct Worker {
    handle: MetricsHandle,
    sinks: Vec<Sink>,
    converter: Converter,
    schedule: Schedule,
    counters: Arc<crate::export::Counters>,
    runtime: tokio::runtime::Runtime,
}

impl Pusher {
    /// Starts the push thread.
    pub(crate) fn start(
        handle: MetricsHandle,
        sinks: Vec<Sink>,
        converter: Converter,
        schedule: Schedule,
        runtime: tokio::runtime::Runtime,
    ) -> std::io::Result<Self> {
        crate::diag::diag!(
            Info,
            "metrics pushed every {} ms to {}",
            schedule.interval.as_millis(),
            sinks
                .iter()
                .map(Sink::describe)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let counters = Arc::new(crate::export::Counters::default());
        let (tx, rx) = mpsc::channel();
        let worker = Worker {
            handle,
            sinks,
            converter,
            schedule,
            counters: Arc::clone(&counters),
            runtime,
        };
        let thread = std::thread::Builder::new()
            .name("tracelink-metrics".into())
            .spawn(move || {
                crate::filter::quiet::mark_export_thread();
                worker.run(&rx);
            })?;
        Ok(Self {
            commands: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            counters,
        })
    }

    /// Data points pushed, and those whose push failed.
    pub(crate) fn stats(&self) -> ExportStats {
        self.counters.snapshot()
    }

    fn send(&self, command: Command) -> bool {
        let commands = self.commands.lock().unwrap_or_else(PoisonError::into_inner);
        commands.as_ref().is_some_and(|tx| tx.send(command).is_ok())
    }

    /// Pushes now; waits at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Outcome {
        let (tx, rx) = mpsc::channel();
        if !self.send(Command::Flush(tx)) {
            return Outcome::Clean;
        }
        match rx.recv_timeout(timeout) {
            Ok(true) => Outcome::Clean,
            Ok(false) => Outcome::Failed,
            Err(_) => Outcome::TimedOut,
        }
    }

    /// Asks for the last push, by `deadline`; [`Stopping::wait`] waits for it.
    pub(crate) fn begin_stop(&self, deadline: Instant) -> Stopping<'_> {
        let (tx, rx) = mpsc::channel();
        let sent = self.send(Command::Stop(deadline, tx));
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        Stopping {
            pusher: self,
            answer: sent.then_some(rx),
            deadline,
        }
    }
}

/// A last push under way.
#[derive(Debug)]
pub(crate) struct Stopping<'a> {
    pusher: &'a Pusher,
    answer: Option<mpsc::Receiver<bool>>,
    deadline: Instant,
}

impl Stopping<'_> {
    pub(crate) fn wait(self) -> Outcome {
        let Some(answer) = self.answer else {
            return Outcome::Clean;
        };
        let wait =
            self.deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100);
        let outcome = match answer.recv_timeout(wait) {
            Ok(true) => Outcome::Clean,
            Ok(false) => Outcome::Failed,
            Err(_) => return Outcome::TimedOut,
        };
        if let Some(thread) = self
            .pusher
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = thread.join();
        }
        outcome
    }
}

impl Worker {
    fn run(mut self, commands: &mpsc::Receiver<Command>) {
        let mut next = Instant::now() + self.schedule.interval;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            match commands.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => {
                    self.push(Instant::now() + self.schedule.timeout);
                    next += self.schedule.interval;
                    // Never a burst of pushes to catch up after a stall.
                    next = next.max(Instant::now());
                }
                Ok(Command::Flush(answer)) => {
                    let ok = self.push(Instant::now() + self.schedule.timeout);
                    let _ = answer.send(ok);
                }
                Ok(Command::Stop(deadline, answer)) => {
                    let by = deadline.min(Instant::now() + self.schedule.timeout);
                    let ok = self.push(by);
                    let _ = answer.send(ok);
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.runtime.shutdown_background();
    }

    /// One push to every sink, by `deadline`; whether all took it.
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(unused_variables)
    )]
    fn push(&mut self, deadline: Instant) -> bool {
        let (request, points) = self.handle.with_snapshot(|snapshot, descriptions| {
            self.converter
                .request(snapshot, descriptions, SystemTime::now())
        });
        let points = points as u64;
        // The points count once, as the spans' batches do: pushed if every
        // sink took them, failed otherwise.
        self.counters.take(points);
        let mut all = true;
        for sink in &self.sinks {
            let result: Result<(), String> = match sink {
                #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
                Sink::Otlp(otlp) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    self.runtime
                        .block_on(async { tokio::time::timeout(left, otlp.send(&request)).await })
                        .unwrap_or_else(|_| {
                            Err(format!("no answer within {} ms", left.as_millis()))
                        })
                }
                Sink::Console => {
                    use std::io::Write as _;
                    let text = self.handle.render(Format::OpenMetrics);
                    let _ = std::io::stderr().lock().write_all(text.as_bytes());
                    Ok(())
                }
            };
            if let Err(error) = &result {
                crate::diag::diag!(
                    Warn,
                    "metrics push to {} failed: {error}{}",
                    sink.describe(),
                    crate::transport::explain_tls(error)
                        .map(|why| format!(" ({why})"))
                        .unwrap_or_default()
                );
            }
            all &= result.is_ok();
        }
        self.counters.settle(points, all);
        all
    }
}
