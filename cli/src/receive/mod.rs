//! `tracelink receive`: an OTLP receiver, gRPC and HTTP/protobuf, of
//! traces and logs, that appends every request to the local store, as the
//! `file` exporters do, so services in any language can be looked at with
//! `tracelink show`, their log records under their spans. Both signals
//! take one path through the receiver, told apart by their
//! [`signal::Kind`] alone.
//!
//! A request is answered once its lines are in the file: what a client was
//! told was received, is.
//!
//! Plain text on 127.0.0.1 by design: a tool for one machine, with no TLS
//! and no authentication. What keeps it from being held or run out of
//! memory by what it is sent ([`limits`]): a budget of bytes in flight over
//! every request (beyond it, HTTP 429 with `Retry-After`, gRPC
//! `RESOURCE_EXHAUSTED` with `RetryInfo`, as the OTLP specification says a
//! server that is throttling answers), 20 MiB a request, a limit on open
//! connections that closes the one idle longest to make room, an idle
//! timeout per connection, a deadline for each body, a growing pause
//! between failed `accept`s; and a request is stored as lines of about
//! 1 MiB of spans (or log records) each, walked from its protobuf without
//! decoding it whole ([`split`]), so it takes about its own size in memory.

mod grpc;
mod http;
mod limits;
mod signal;
mod split;

use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use prost::Message;
use tracelink::store::TraceFile;

use limits::{Budget, Connections};
use signal::{Kind, Logs, Signal, Traces};
use split::{Failed, Summary};

/// The largest request body, compressed or not, as the OTLP specification
/// recommends.
pub(crate) const MAX_BODY: usize = 20 << 20;

/// `--max-connections`: open connections over both listeners, at most.
pub(crate) const MAX_CONNECTIONS_DEFAULT: usize = 256;

/// `--max-in-flight`: bytes of bodies, as received and decompressed, held
/// by every request together, at most.
pub(crate) const MAX_IN_FLIGHT_DEFAULT: u64 = 64 << 20;

pub(crate) struct Options {
    pub(crate) grpc: Option<SocketAddr>,
    pub(crate) http: Option<SocketAddr>,
    pub(crate) store: PathBuf,
    pub(crate) max_bytes: u64,
    pub(crate) max_connections: usize,
    pub(crate) max_in_flight: u64,
    pub(crate) quiet: bool,
}

/// What every connection shares.
struct State {
    store: Store,
    budget: Budget,
    connections: Arc<Connections>,
}

impl State {
    /// The largest body a request may have: 20 MiB, or less when the budget
    /// is smaller.
    fn max_body(&self) -> usize {
        MAX_BODY.min(self.budget.limit())
    }
}

#[derive(Clone)]
struct Store {
    file: Arc<Mutex<TraceFile>>,
    quiet: bool,
}

impl Store {
    /// Appends the request of signal `kind` in `bytes` as lines of at most
    /// [`split::LINE_ITEMS`] bytes of items; a short note on stderr.
    /// Checked whole first: a request that does not decode writes nothing.
    /// Blocks: run it off the runtime's thread.
    fn append(&self, kind: Kind, bytes: &[u8], transport: &str) -> Result<(), Failed> {
        let summary = match kind {
            Kind::Traces => self.append_signal::<Traces>(bytes)?,
            Kind::Logs => self.append_signal::<Logs>(bytes)?,
        };
        if !self.quiet {
            note(&summary, kind, transport);
        }
        Ok(())
    }

    /// [`append`](Store::append), for the signal `S`.
    fn append_signal<S: Signal>(&self, bytes: &[u8]) -> Result<Summary, Failed> {
        split::split::<S>(bytes, split::LINE_ITEMS, |_| Ok(()))?;
        split::split::<S>(bytes, split::LINE_ITEMS, |request| {
            let mut file = self
                .file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            S::append(&mut file, &request)
                .map_err(|e| format!("cannot write to {}: {e}", file.path().display()))
        })
    }
}

/// `tracelink receive: 3 spans from shop over OTLP/HTTP`, `2 log records
/// from ...`.
fn note(summary: &Summary, kind: Kind, transport: &str) {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut services = summary
        .services
        .iter()
        // What a client sent, for the terminal.
        .map(|s| crate::style::escape(s).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if services.is_empty() {
        services = "an unnamed service".into();
    }
    if summary.more_services > 0 {
        let _ = write!(
            services,
            " and {} more service{}",
            summary.more_services,
            plural(summary.more_services)
        );
    }
    let lines = if summary.lines > 1 {
        format!(" ({} lines)", summary.lines)
    } else {
        String::new()
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "tracelink receive: {} {}{} from {services} over {transport}{lines}",
        summary.items,
        kind.item_name(),
        plural(summary.items),
    );
}

/// Runs until SIGINT or SIGTERM.
pub(crate) fn run(options: Options) -> Result<(), String> {
    let file = TraceFile::open(&options.store, options.max_bytes).map_err(|e| {
        format!(
            "cannot open the trace store {}: {e}",
            options.store.display()
        )
    })?;
    let state = Arc::new(State {
        store: Store {
            file: Arc::new(Mutex::new(file)),
            quiet: options.quiet,
        },
        budget: Budget::new(usize::try_from(options.max_in_flight).unwrap_or(usize::MAX)),
        connections: Connections::new(limits::connection_limit(options.max_connections)),
    });
    // Requests are decoded and written on two threads besides the one
    // that serves the connections, one line at a time under the store's
    // lock.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(2)
        .build()
        .map_err(|e| format!("cannot start the receiver's runtime: {e}"))?;
    runtime.block_on(async move {
        let bind = |addr: SocketAddr, what: &str| {
            let what = what.to_owned();
            async move {
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("cannot listen for {what} on {addr}: {e}"))
            }
        };
        let grpc = match options.grpc {
            Some(addr) => Some(bind(addr, "OTLP/gRPC").await?),
            None => None,
        };
        let http = match options.http {
            Some(addr) => Some(bind(addr, "OTLP/HTTP").await?),
            None => None,
        };
        let mut out = format!(
            "tracelink receive: appending spans and logs to {} (rotated at {} bytes)\n",
            options.store.display(),
            options.max_bytes
        );
        let mut warnings = String::new();
        for (listener, what, protocol) in [
            (&grpc, "OTLP/gRPC", "grpc"),
            (&http, "OTLP/HTTP", "http/protobuf"),
        ] {
            let Some(listener) = listener else { continue };
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let _ = writeln!(
                out,
                "  {what}  {addr}  OTEL_EXPORTER_OTLP_PROTOCOL={protocol} OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr}"
            );
            if !addr.ip().is_loopback() {
                let _ = writeln!(
                    warnings,
                    "tracelink receive: {addr} is not a loopback address: whoever can reach it \
                     can write to the store (plain text, no TLS, no authentication)"
                );
            }
        }
        let _ = writeln!(
            out,
            "  limits: {} connections, {} bytes in flight, {} bytes a request",
            state.connections.limit(),
            state.budget.limit(),
            state.max_body()
        );
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
        drop(stdout);
        let _ = std::io::stderr().write_all(warnings.as_bytes());

        let mut tasks = Vec::new();
        if let Some(listener) = grpc {
            tasks.push(tokio::spawn(grpc::serve(listener, state.clone())));
        }
        if let Some(listener) = http {
            tasks.push(tokio::spawn(http::serve(listener, state)));
        }
        stopped().await;
        for task in tasks {
            task.abort();
        }
        Ok(())
    })
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// An `ExportTraceServiceResponse` or `ExportLogsServiceResponse` with no
/// partial success: the same empty message for every signal.
#[derive(Clone, PartialEq, prost::Message)]
struct ExportResponse {}

/// `google.rpc.Status`: the body of an OTLP/HTTP error response, and the
/// details of a gRPC one.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// gRPC's `RESOURCE_EXHAUSTED`.
const RESOURCE_EXHAUSTED: i32 = 8;

/// The message of a refusal for lack of room.
fn busy_message(budget: &Budget) -> String {
    format!(
        "tracelink receive holds {} bytes of requests at most, and is full: try again in {} s",
        budget.limit(),
        limits::RETRY_AFTER.as_secs()
    )
}

/// `google.rpc.Status` for a refusal for lack of room, with a `RetryInfo`:
/// OTLP clients retry a throttled request after its delay.
fn busy_status(message: String) -> RpcStatus {
    let retry = RetryInfo {
        retry_delay: Some(ProtoDuration {
            seconds: limits::RETRY_AFTER.as_secs() as i64,
            nanos: 0,
        }),
    };
    RpcStatus {
        code: RESOURCE_EXHAUSTED,
        message,
        details: vec![Any {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
            value: retry.encode_to_vec(),
        }],
    }
}
