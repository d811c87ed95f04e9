//! Test support: a real OTLP receiver and a black-hole collector.
//!
//! [`Receiver`] is a small OTLP collector built on the official protobuf types
//! (`opentelemetry-proto`). One instance listens on two ports of 127.0.0.1:
//!
//! * OTLP/gRPC: tonic's generated `TraceServiceServer`, `LogsServiceServer`
//!   and `MetricsServiceServer`, gzip accepted;
//! * OTLP/HTTP with protobuf bodies: a hyper 1 server answering
//!   `POST /v1/traces`, `POST /v1/logs` and `POST /v1/metrics`.
//!
//! It runs on its own Tokio runtime in a background thread, so the tests stay
//! synchronous, records every export request it accepts (decoded spans, log
//! records or metrics, their resource and the request headers or gRPC
//! metadata), and can be told to fail the next requests. Dropping it stops
//! both servers. Logs are read with [`Receiver::logs`] ([`logs`] module),
//! metrics with [`Receiver::metric`] ([`metrics`] module).
//!
//! [`PyReceiver`] ([`python`] module) is the same three signals received by
//! Python's official OTLP protos, for tests that want a decoder nobody here
//! wrote.
//!
//! [`BlackHole`] accepts TCP connections and never reads from them nor answers:
//! a collector that hangs.

// Each test binary uses a different part of this module.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{HeaderMap, Method, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span, status, Span};
use tokio::sync::watch;
use tracing_subscriber::layer::SubscriberExt;

pub mod logs;
pub mod metrics;
pub mod python;
pub mod workloads;

// The types tests name most, at the top; a test binary uses some of them.
#[allow(unused_imports)]
pub use logs::{LogsRequest, ReceivedLog};
#[allow(unused_imports)]
pub use metrics::{DataPoint, MetricKind, MetricsRequest, ReceivedExemplar, ReceivedMetric};
#[allow(unused_imports)]
pub use python::PyReceiver;

/// How an export request reached the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with a protobuf body.
    Http,
}

/// The three OTLP signals, each with its own export service and HTTP path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Spans: `TraceService/Export`, `POST /v1/traces`.
    Traces,
    /// Log records: `LogsService/Export`, `POST /v1/logs`.
    Logs,
    /// Metrics: `MetricsService/Export`, `POST /v1/metrics`.
    Metrics,
}

impl Signal {
    /// The OTLP/HTTP path of this signal's export requests.
    pub fn http_path(self) -> &'static str {
        match self {
            Self::Traces => "/v1/traces",
            Self::Logs => "/v1/logs",
            Self::Metrics => "/v1/metrics",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One export request a receiver accepted, of any signal: `B` is the
/// decoded body ([`ExportRequest`], [`LogsRequest`], [`MetricsRequest`]).
#[derive(Clone, Debug)]
pub struct Request<B> {
    /// The protocol it came by.
    pub transport: Transport,
    /// HTTP headers, or gRPC metadata; names in lower case.
    pub headers: Vec<(String, String)>,
    /// Whether the body came gzip-compressed (`content-encoding` or
    /// `grpc-encoding`). The Python receiver cannot see it over gRPC, and
    /// says `false` there.
    pub gzip: bool,
    /// The request as decoded.
    pub body: B,
}

impl<B> Request<B> {
    /// The value of a header (gRPC metadata entry), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One trace export request a receiver accepted.
pub type ExportRequest = Request<ExportTraceServiceRequest>;

impl ExportRequest {
    /// How many spans the request carried.
    pub fn span_count(&self) -> usize {
        self.body
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len())
            .sum()
    }
}

/// A received span with the resource and scope it was sent under.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub transport: Transport,
    pub resource: Vec<KeyValue>,
    pub scope: String,
    pub span: Span,
}

impl ReceivedSpan {
    pub fn name(&self) -> &str {
        &self.span.name
    }

    /// The trace id in lower-case hex (32 digits).
    pub fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }

    /// The span id in lower-case hex (16 digits).
    pub fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    /// The parent's span id in hex; `None` for a root span.
    /// The W3C trace flags the span was exported with (the low 8 bits of
    /// the OTLP `flags` field), as two hex digits like a `traceparent`'s.
    pub fn trace_flags(&self) -> String {
        format!("{:02x}", self.span.flags & 0xff)
    }

    /// A span attribute's value as received, with its protobuf type.
    pub fn attr_value(&self, key: &str) -> Option<&any_value::Value> {
        self.span
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    /// A span attribute that arrived as an OTLP `intValue` (`None` if it is
    /// missing or of another type, such as the string `"200"`).
    pub fn int_attr(&self, key: &str) -> Option<i64> {
        match self.attr_value(key) {
            Some(any_value::Value::IntValue(i)) => Some(*i),
            _ => None,
        }
    }

    /// How many times the span carries the attribute `key` (OTLP allows one).
    pub fn attr_count(&self, key: &str) -> usize {
        self.span
            .attributes
            .iter()
            .filter(|kv| kv.key == key)
            .count()
    }

    pub fn parent_span_id(&self) -> Option<String> {
        (!self.span.parent_span_id.is_empty()).then(|| hex(&self.span.parent_span_id))
    }

    pub fn kind(&self) -> span::SpanKind {
        self.span.kind()
    }

    /// The status code; `Unset` when the span carries no status at all.
    pub fn status_code(&self) -> status::StatusCode {
        self.span.status.as_ref().map_or(
            status::StatusCode::Unset,
            opentelemetry_proto::tonic::trace::v1::Status::code,
        )
    }

    pub fn status_message(&self) -> &str {
        self.span.status.as_ref().map_or("", |s| s.message.as_str())
    }

    /// A span attribute, as a string.
    pub fn attr(&self, key: &str) -> Option<String> {
        attr(&self.span.attributes, key)
    }

    /// A resource attribute, as a string.
    pub fn resource_attr(&self, key: &str) -> Option<String> {
        attr(&self.resource, key)
    }

    /// The span's events with that name.
    pub fn events_named(&self, name: &str) -> Vec<&span::Event> {
        self.span.events.iter().filter(|e| e.name == name).collect()
    }
}

/// Lower-case hex of an id.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The value of `key` among OTLP attributes, as a string.
pub fn attr(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .map(any_value_to_string)
}

/// An OTLP value as a string: strings as they are, numbers and booleans
/// formatted, arrays and maps in a debug form.
pub fn any_value_to_string(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// The export requests of one signal, in arrival order, and a condition
/// variable signalled whenever one is added.
#[derive(Debug)]
struct Inbox<T> {
    items: Mutex<Vec<T>>,
    arrived: Condvar,
}

impl<T> Default for Inbox<T> {
    fn default() -> Self {
        Self {
            items: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
        }
    }
}

impl<T: Clone> Inbox<T> {
    fn lock(&self) -> MutexGuard<'_, Vec<T>> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, item: T) {
        self.lock().push(item);
        self.arrived.notify_all();
    }

    /// Everything received so far.
    fn snapshot(&self) -> Vec<T> {
        self.lock().clone()
    }

    /// Waits until `done` holds for what was received, or `timeout` passes;
    /// returns the lock on what was received either way.
    fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[T]) -> bool,
    ) -> MutexGuard<'_, Vec<T>> {
        let deadline = Instant::now() + timeout;
        let mut items = self.lock();
        loop {
            let now = Instant::now();
            if done(&items) || now >= deadline {
                return items;
            }
            items = self
                .arrived
                .wait_timeout(items, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

impl Inbox<ExportRequest> {
    /// Waits for `n` spans in all; returns every span received.
    fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        let requests = self.wait_until(timeout, |requests| {
            requests
                .iter()
                .map(ExportRequest::span_count)
                .sum::<usize>()
                >= n
        });
        flatten(&requests)
    }
}

/// What a receiver got, signal by signal: the Rust [`Receiver`]'s and the
/// [`PyReceiver`]'s, both of which dereference to it.
#[derive(Debug, Default)]
pub struct Inboxes {
    traces: Inbox<ExportRequest>,
    logs: Inbox<LogsRequest>,
    metrics: Inbox<MetricsRequest>,
}

impl Inboxes {
    /// Every trace export request accepted so far.
    pub fn requests(&self) -> Vec<ExportRequest> {
        self.traces.snapshot()
    }

    /// Every span accepted so far, with its resource.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        flatten(&self.traces.lock())
    }

    /// Waits until at least `n` spans have arrived, or `timeout` passes; returns
    /// what arrived either way (assert on its length).
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        self.traces.wait_for_spans(n, timeout)
    }

    /// Every logs export request accepted so far.
    pub fn logs_requests(&self) -> Vec<LogsRequest> {
        self.logs.snapshot()
    }

    /// Every log record accepted so far, with its resource and scope.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        logs::flatten(&self.logs.lock())
    }

    /// Waits until at least `n` log records have arrived, or `timeout`
    /// passes; returns what arrived either way (assert on its length).
    pub fn wait_for_logs(&self, n: usize, timeout: Duration) -> Vec<ReceivedLog> {
        self.logs.wait_for_logs(n, timeout)
    }

    /// Every metrics export request accepted so far.
    pub fn metrics_requests(&self) -> Vec<MetricsRequest> {
        self.metrics.snapshot()
    }

    /// Every metric of every metrics request so far, in arrival order (a
    /// metric exported every interval appears once per export).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        metrics::flatten(&self.metrics.lock())
    }

    /// The latest data received of the metric `name`: the last export that
    /// carried it (with cumulative temporality, everything so far).
    pub fn metric(&self, name: &str) -> Option<ReceivedMetric> {
        metrics::latest(&self.metrics.lock(), name)
    }

    /// Waits until at least `n` metrics export requests have arrived, or
    /// `timeout` passes; returns what arrived either way.
    pub fn wait_for_metrics(&self, n: usize, timeout: Duration) -> Vec<MetricsRequest> {
        self.metrics.wait_until(timeout, |r| r.len() >= n).clone()
    }

    /// Waits until the latest data of the metric `name` satisfies `until`
    /// (say, its counter reached 3), or `timeout` passes; returns that latest
    /// data either way, `None` if the metric never arrived (assert on it).
    pub fn wait_for_metric(
        &self,
        name: &str,
        timeout: Duration,
        until: impl FnMut(&ReceivedMetric) -> bool,
    ) -> Option<ReceivedMetric> {
        self.metrics.wait_for_metric(name, timeout, until)
    }

    /// The exemplars of the latest data of metric `name` that name no span
    /// received so far: empty when every exemplar links to an exported span.
    /// Panics if the metric never arrived (so that "empty" means something).
    pub fn exemplars_without_span(&self, name: &str) -> Vec<ReceivedExemplar> {
        let metric = self
            .metric(name)
            .unwrap_or_else(|| panic!("the receiver got no metric {name:?}"));
        metric.exemplars_without_span(&self.spans())
    }
}

/// What the receiver's servers share with the test.
#[derive(Debug, Default)]
struct State {
    inboxes: Inboxes,
    /// How many of the next requests to fail, whatever their signal.
    fail_next: AtomicUsize,
    /// How many of the next requests of each signal to fail (by `Signal::index`).
    fail_next_of: [AtomicUsize; 3],
    /// How many requests were failed on purpose, per signal.
    rejected: [AtomicUsize; 3],
    /// Requests that were not valid OTLP, with the reason.
    problems: Mutex<Vec<String>>,
    /// TLS handshakes that failed, with the reason.
    tls_failures: Mutex<Vec<String>>,
}

impl State {
    fn requests(&self) -> MutexGuard<'_, Vec<ExportRequest>> {
        self.inboxes.traces.lock()
    }

    fn record(&self, request: ExportRequest) {
        self.inboxes.traces.push(request);
    }

    /// True if this request of `signal` must fail (and counts it): first
    /// what [`Receiver::fail_next_of`] asked for this signal, then what
    /// [`Receiver::fail_next`] asked for any.
    fn take_failure(&self, signal: Signal) -> bool {
        let take_one = |counter: &AtomicUsize| {
            counter
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .is_ok()
        };
        let take = take_one(&self.fail_next_of[signal.index()]) || take_one(&self.fail_next);
        if take {
            self.rejected[signal.index()].fetch_add(1, Ordering::AcqRel);
        }
        take
    }

    fn problem(&self, problem: String) {
        eprintln!("receiver: invalid request: {problem}");
        self.problems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(problem);
    }
}

/// An OTLP receiver of traces, logs and metrics serving gRPC and
/// HTTP/protobuf on 127.0.0.1.
#[derive(Debug)]
pub struct Receiver {
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    state: Arc<State>,
    /// Dropping it tells the servers to stop.
    stop: Option<watch::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    tls: bool,
}

impl Receiver {
    /// Starts a receiver on two free ports.
    pub fn start() -> Self {
        Self::start_on(0, 0)
    }

    /// Starts a receiver on these ports of 127.0.0.1; 0 picks a free one.
    ///
    /// For "the collector comes up later": build tracelink against
    /// [`free_port`], then start the receiver on that port.
    pub fn start_on(grpc_port: u16, http_port: u16) -> Self {
        Self::start_with(grpc_port, http_port, None)
    }

    /// Starts a receiver that speaks TLS on both ports, with `tls` (see
    /// `support/tls.rs` for throwaway certificates); its endpoints are
    /// `https://localhost:PORT`.
    pub fn start_tls(tls: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(0, 0, Some(tls))
    }

    fn start_with(grpc_port: u16, http_port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        // Bound here, synchronously: once this returns, connections are accepted
        // (the kernel queues them until the server task takes them).
        let grpc = bind(grpc_port);
        let http = bind(http_port);
        let grpc_addr = grpc.local_addr().expect("gRPC listener address");
        let http_addr = http.local_addr().expect("HTTP listener address");
        let state = Arc::new(State::default());
        let (stop, stopped) = watch::channel(());
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".into())
            .spawn({
                let state = state.clone();
                let tls = tls.clone().map(tokio_rustls::TlsAcceptor::from);
                move || serve(grpc, http, state, stopped, tls)
            })
            .expect("receiver thread starts");
        Self {
            grpc_addr,
            http_addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
            tls: tls.is_some(),
        }
    }

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:PORT`, or
    /// `https://localhost:PORT` with TLS.
    pub fn grpc_endpoint(&self) -> String {
        self.endpoint(self.grpc_addr)
    }

    /// The OTLP/HTTP base URL, `http://127.0.0.1:PORT` (spans go to
    /// `/v1/traces`), or `https://localhost:PORT` with TLS.
    pub fn http_endpoint(&self) -> String {
        self.endpoint(self.http_addr)
    }

    fn endpoint(&self, addr: SocketAddr) -> String {
        if self.tls {
            format!("https://localhost:{}", addr.port())
        } else {
            format!("http://{addr}")
        }
    }

    /// TLS handshakes the receiver refused, each with rustls's reason.
    pub fn tls_failures(&self) -> Vec<String> {
        self.state
            .tls_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Fails the next `n` export requests, whatever their signal (traces,
    /// logs and metrics share the count): gRPC answers `UNAVAILABLE`, HTTP
    /// `503`. A failed request is not recorded.
    pub fn fail_next(&self, n: usize) {
        self.state.fail_next.store(n, Ordering::Release);
    }

    /// Fails the next `n` export requests of `signal` only, as
    /// [`fail_next`](Self::fail_next) does; the other signals pass. A request
    /// uses up this count before the shared one.
    pub fn fail_next_of(&self, signal: Signal, n: usize) {
        self.state.fail_next_of[signal.index()].store(n, Ordering::Release);
    }

    /// How many requests were failed on purpose by [`fail_next`](Self::fail_next)
    /// or [`fail_next_of`](Self::fail_next_of), all signals together.
    pub fn rejected(&self) -> usize {
        self.state
            .rejected
            .iter()
            .map(|n| n.load(Ordering::Acquire))
            .sum()
    }

    /// How many requests of `signal` were failed on purpose.
    pub fn rejected_of(&self, signal: Signal) -> usize {
        self.state.rejected[signal.index()].load(Ordering::Acquire)
    }

    /// Requests that were not valid OTLP (wrong path, content type, body...).
    pub fn problems(&self) -> Vec<String> {
        self.state
            .problems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl std::ops::Deref for Receiver {
    type Target = Inboxes;

    /// What it received: `receiver.spans()`, `receiver.logs()`, ...
    fn deref(&self) -> &Inboxes {
        &self.state.inboxes
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bind(port: u16) -> TcpListener {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
    listener
        .set_nonblocking(true)
        .expect("listener can be non-blocking");
    listener
}

fn flatten(requests: &[ExportRequest]) -> Vec<ReceivedSpan> {
    let mut spans = Vec::new();
    for request in requests {
        for resource_spans in &request.body.resource_spans {
            let resource = resource_spans
                .resource
                .as_ref()
                .map(|r| r.attributes.clone())
                .unwrap_or_default();
            for scope_spans in &resource_spans.scope_spans {
                let scope = scope_spans
                    .scope
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                for span in &scope_spans.spans {
                    spans.push(ReceivedSpan {
                        transport: request.transport,
                        resource: resource.clone(),
                        scope: scope.clone(),
                        span: span.clone(),
                    });
                }
            }
        }
    }
    spans
}

/// The receiver thread: both servers on one current-thread runtime, until the
/// stop sender is dropped. Dropping the runtime then closes every connection
/// still open.
fn serve(
    grpc: TcpListener,
    http: TcpListener,
    state: Arc<State>,
    stopped: watch::Receiver<()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    // The receiver stands in for another process: what its tonic and hyper
    // log must not reach a global subscriber a test installs.
    let _quiet = tracing::dispatcher::set_default(&tracing::Dispatch::none());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("receiver runtime");
    runtime.block_on(async move {
        let grpc = tokio::net::TcpListener::from_std(grpc).expect("gRPC listener");
        let http = tokio::net::TcpListener::from_std(http).expect("HTTP listener");
        let grpc = tokio::spawn(serve_grpc(
            grpc,
            state.clone(),
            stopped.clone(),
            tls.clone(),
        ));
        let http = tokio::spawn(serve_http(http, state, stopped.clone(), tls));
        wait_for_stop(stopped).await;
        // Both servers stop accepting at once; give in-flight requests a moment.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let _ = grpc.await;
            let _ = http.await;
        })
        .await;
    });
}

/// Resolves when the stop sender is dropped.
async fn wait_for_stop(mut stopped: watch::Receiver<()>) {
    while stopped.changed().await.is_ok() {}
}

async fn serve_grpc(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    stopped: watch::Receiver<()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let gzip = tonic::codec::CompressionEncoding::Gzip;
    let traces = TraceServiceServer::new(GrpcTraceService {
        state: state.clone(),
    })
    .accept_compressed(gzip);
    let logs = logs::grpc_service(state.clone()).accept_compressed(gzip);
    let metrics = metrics::grpc_service(state.clone()).accept_compressed(gzip);
    let server = tonic::transport::Server::builder()
        .add_service(traces)
        .add_service(logs)
        .add_service(metrics);
    let result = match tls {
        None => {
            server
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    wait_for_stop(stopped),
                )
                .await
        }
        Some(tls) => {
            // Handshakes on their own tasks; the ones that succeed go to tonic.
            let (streams, incoming) = tokio::sync::mpsc::channel(16);
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let (tls, state, streams) = (tls.clone(), state.clone(), streams.clone());
                    tokio::spawn(async move {
                        if let Some(stream) = handshake(&tls, &state, tcp).await {
                            let _ = streams.send(Ok::<_, std::io::Error>(TlsIo(stream))).await;
                        }
                    });
                }
            });
            server
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::ReceiverStream::new(incoming),
                    wait_for_stop(stopped),
                )
                .await
        }
    };
    if let Err(error) = result {
        eprintln!("receiver: gRPC server failed: {error}");
    }
}

/// A TLS connection, as tonic takes it.
struct TlsIo(tokio_rustls::server::TlsStream<tokio::net::TcpStream>);

impl tonic::transport::server::Connected for TlsIo {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl tokio::io::AsyncRead for TlsIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The server side of a TLS handshake; a failure is recorded with its reason.
async fn handshake(
    tls: &tokio_rustls::TlsAcceptor,
    state: &State,
    tcp: tokio::net::TcpStream,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    match tls.accept(tcp).await {
        Ok(stream) => Some(stream),
        Err(error) => {
            state
                .tls_failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(error.to_string());
            None
        }
    }
}

struct GrpcTraceService {
    state: Arc<State>,
}

#[tonic::async_trait]
impl TraceService for GrpcTraceService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        take_grpc(
            &self.state,
            Signal::Traces,
            &self.state.inboxes.traces,
            request,
        )?;
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// What every gRPC export does first: fails it if the test asked so, else
/// returns its metadata and whether its body came gzip-compressed.
fn grpc_admit<T>(
    state: &State,
    signal: Signal,
    request: &tonic::Request<T>,
) -> Result<(Vec<(String, String)>, bool), tonic::Status> {
    if state.take_failure(signal) {
        return Err(tonic::Status::unavailable(
            "the test receiver was told to fail",
        ));
    }
    let headers = header_pairs(request.metadata().clone().into_headers());
    let gzip = headers
        .iter()
        .any(|(k, v)| k == "grpc-encoding" && v == "gzip");
    Ok((headers, gzip))
}

async fn serve_http(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    mut stopped: watch::Receiver<()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    eprintln!("receiver: HTTP accept failed: {error}");
                    continue;
                }
            },
            _ = stopped.changed() => return,
        };
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = {
                let state = state.clone();
                hyper::service::service_fn(move |request| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle_http(&state, request).await) }
                })
            };
            let http1 = hyper::server::conn::http1::Builder::new();
            // Errors here are the client going away; nothing to record.
            match tls {
                None => {
                    let _ = http1
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                }
                Some(tls) => {
                    if let Some(stream) = handshake(&tls, &state, stream).await {
                        let _ = http1
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    }
                }
            }
        });
    }
}

/// `POST /v1/traces`, `/v1/logs` or `/v1/metrics` with an
/// `application/x-protobuf` body, gzip or not.
async fn handle_http(
    state: &State,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return reject(state, StatusCode::BAD_REQUEST, format!("body: {error}")),
    };
    let Some(signal) = [Signal::Traces, Signal::Logs, Signal::Metrics]
        .into_iter()
        .find(|signal| signal.http_path() == parts.uri.path())
    else {
        return reject(
            state,
            StatusCode::NOT_FOUND,
            format!("path {}", parts.uri.path()),
        );
    };
    if parts.method != Method::POST {
        return reject(
            state,
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {}", parts.method),
        );
    }
    let headers = header_pairs(parts.headers);
    let value = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if value("content-type") != Some("application/x-protobuf") {
        let problem = format!("content-type {:?}", value("content-type"));
        return reject(state, StatusCode::UNSUPPORTED_MEDIA_TYPE, problem);
    }
    let gzip = match value("content-encoding") {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            let problem = format!("content-encoding {other:?}");
            return reject(state, StatusCode::UNSUPPORTED_MEDIA_TYPE, problem);
        }
    };
    if state.take_failure(signal) {
        return response(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            Bytes::from_static(b"the test receiver was told to fail"),
        );
    }
    let bytes = if gzip {
        let mut bytes = Vec::new();
        match flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut bytes) {
            Ok(_) => Bytes::from(bytes),
            Err(error) => return reject(state, StatusCode::BAD_REQUEST, format!("gzip: {error}")),
        }
    } else {
        body
    };
    let recorded = match signal {
        Signal::Traces => {
            take_http::<_, ExportTraceServiceResponse>(&state.inboxes.traces, headers, gzip, bytes)
        }
        Signal::Logs => {
            take_http::<_, ExportLogsServiceResponse>(&state.inboxes.logs, headers, gzip, bytes)
        }
        Signal::Metrics => take_http::<_, ExportMetricsServiceResponse>(
            &state.inboxes.metrics,
            headers,
            gzip,
            bytes,
        ),
    };
    match recorded {
        Ok(answer) => response(StatusCode::OK, "application/x-protobuf", answer.into()),
        Err(error) => reject(state, StatusCode::BAD_REQUEST, format!("protobuf: {error}")),
    }
}

/// Decodes an HTTP body of `B` into `inbox`; returns the encoded answer, `R`.
fn take_http<B: prost::Message + Default + Clone, R: prost::Message + Default>(
    inbox: &Inbox<Request<B>>,
    headers: Vec<(String, String)>,
    gzip: bool,
    bytes: Bytes,
) -> Result<Vec<u8>, prost::DecodeError> {
    let body = B::decode(bytes)?;
    inbox.push(Request {
        transport: Transport::Http,
        headers,
        gzip,
        body,
    });
    Ok(R::default().encode_to_vec())
}

/// A gRPC export of any signal into `inbox`: failed if the test asked so.
fn take_grpc<B: Clone>(
    state: &State,
    signal: Signal,
    inbox: &Inbox<Request<B>>,
    request: tonic::Request<B>,
) -> Result<(), tonic::Status> {
    let (headers, gzip) = grpc_admit(state, signal, &request)?;
    inbox.push(Request {
        transport: Transport::Grpc,
        headers,
        gzip,
        body: request.into_inner(),
    });
    Ok(())
}

fn reject(state: &State, status: StatusCode, problem: String) -> hyper::Response<Full<Bytes>> {
    state.problem(problem.clone());
    response(status, "text/plain", problem.into())
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body))
        .expect("a valid response")
}

fn header_pairs(headers: HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// A port of 127.0.0.1 that was free a moment ago (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A collector that accepts connections and then never reads nor answers.
#[derive(Debug)]
pub struct BlackHole {
    addr: SocketAddr,
    /// Kept open, unread, until the black hole is dropped.
    connections: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BlackHole {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("black hole listens");
        let addr = listener.local_addr().expect("black hole address");
        let connections = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("black-hole".into())
            .spawn({
                let connections = connections.clone();
                let stop = stop.clone();
                move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        if let Ok(stream) = stream {
                            connections
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(stream);
                        }
                    }
                }
            })
            .expect("black hole thread starts");
        Self {
            addr,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, for either protocol.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections it has swallowed.
    pub fn connections(&self) -> usize {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept with one last connection.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The subscriber tracelink's parts make, as a `Dispatch` to use with
/// `tracing::dispatcher::with_default` or `WithSubscriber::with_subscriber`.
pub fn dispatch(parts: &tracelink::Parts) -> tracing::Dispatch {
    tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.otel_layer()),
    )
}

/// The whole subscriber tracelink's parts make, the log layer (lines and
/// log records) included.
pub fn dispatch_with_logs(parts: &tracelink::Parts) -> tracing::Dispatch {
    tracing::Dispatch::new(tracing_subscriber::registry().with(parts.layer()))
}

/// Runs `f` to completion on a current-thread runtime, with the subscriber
/// `parts` make as this thread's default: a server's tasks run on this
/// thread, inside it, and those still alive (the server, its connections)
/// end inside it too, when the runtime is dropped.
pub fn block_on_traced<F: std::future::Future>(parts: &tracelink::Parts, f: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::dispatcher::with_default(&dispatch(parts), || {
        let output = runtime.block_on(f);
        drop(runtime);
        output
    })
}

/// Serves `app` on a free port of 127.0.0.1 from a task of the current
/// runtime; returns the port.
pub async fn spawn_app(app: axum::Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    port
}

/// tracelink named `service`, exporting spans to `receiver` over OTLP/gRPC
/// (a batch every 100 ms, no log lines, `env` on top), with the global
/// propagator set as `init()` sets it (the same propagator for every caller,
/// so tests running in parallel do not disturb each other).
pub fn build_exporting_to(
    receiver: &Receiver,
    service: &str,
    env: &[(&str, &str)],
) -> tracelink::Parts {
    let endpoint = receiver.grpc_endpoint();
    let base = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("TRACELINK_LOG_FORMAT", "none"),
    ];
    let parts = tracelink::builder()
        .with_env(base.into_iter().chain(env.iter().copied()))
        .with_service_name(service)
        .build()
        .expect("tracelink builds");
    opentelemetry::global::set_text_map_propagator(parts.propagator());
    parts
}

/// A `MakeWriter` that appends every log line to one shared buffer.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(self.0.clone())
    }
}

impl Capture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        String::from_utf8(bytes).expect("lines are UTF-8")
    }
}

/// Set in a child process run by [`rerun`]: the test it is to run.
pub const CHILD_TEST: &str = "TRACELINK_TEST_CHILD";

/// Whether this process is a child run by [`rerun`]: the test then plays
/// the service (globals can be set once per process, and stdout can only be
/// read from outside).
pub fn in_child() -> bool {
    std::env::var_os(CHILD_TEST).is_some()
}

/// Runs test `name` of this test binary again, alone, as a child process
/// with `env` (and without the variables that would change what tracelink
/// logs or exports), and returns what it printed and how it exited.
pub fn rerun(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST, name);
    for var in [
        "RUST_LOG",
        "OTEL_LOG_LEVEL",
        "TRACELINK_SPAN_FILTER",
        "NO_COLOR",
    ] {
        command.env_remove(var);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the child runs")
}

/// The JSON lines a child wrote on stdout. libtest prints `test NAME ... `
/// without a newline before the child's first line.
pub fn json_lines(output: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.find('{').map(|start| &line[start..]))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}
