//! `tracelink receive`: an OTLP receiver, gRPC and HTTP/protobuf, that
//! appends every request to the local store, as the `file` exporter does,
//! so services in any language can be looked at with `tracelink show`.
//!
//! A request is answered once its line is in the file: what a client was
//! told was received, is.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tracelink::store::TraceFile;

/// The largest request body, after decompression, as the OTLP specification
/// recommends.
const MAX_BODY: usize = 20 << 20;

/// The pause after a failed `accept`.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

pub(crate) struct Options {
    pub(crate) grpc: Option<SocketAddr>,
    pub(crate) http: Option<SocketAddr>,
    pub(crate) store: PathBuf,
    pub(crate) max_bytes: u64,
    pub(crate) quiet: bool,
}

#[derive(Clone)]
struct Store {
    file: Arc<Mutex<TraceFile>>,
    quiet: bool,
}

impl Store {
    /// Appends the request; a short note on stderr.
    fn append(&self, request: &ExportTraceServiceRequest, transport: &str) -> Result<(), String> {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.append(request)
            .map_err(|e| format!("cannot write to {}: {e}", file.path().display()))?;
        drop(file);
        if !self.quiet {
            let spans: usize = request
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len())
                .sum();
            let mut services: Vec<String> = request
                .resource_spans
                .iter()
                .filter_map(|rs| rs.resource.as_ref())
                .flat_map(|r| &r.attributes)
                .filter(|kv| kv.key == "service.name")
                .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                    opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s) => {
                        // What a client sent, for the terminal.
                        Some(crate::style::escape(s).into_owned())
                    }
                    _ => None,
                })
                .collect();
            services.dedup();
            let _ = writeln!(
                std::io::stderr().lock(),
                "tracelink receive: {spans} span{} from {} over {transport}",
                if spans == 1 { "" } else { "s" },
                if services.is_empty() {
                    "an unnamed service".to_owned()
                } else {
                    services.join(", ")
                }
            );
        }
        Ok(())
    }
}

/// Runs until SIGINT or SIGTERM.
pub(crate) fn run(options: Options) -> Result<(), String> {
    let file = TraceFile::open(&options.store, options.max_bytes).map_err(|e| {
        format!(
            "cannot open the trace store {}: {e}",
            options.store.display()
        )
    })?;
    let store = Store {
        file: Arc::new(Mutex::new(file)),
        quiet: options.quiet,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
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
            "tracelink receive: appending spans to {} (rotated at {} bytes)\n",
            options.store.display(),
            options.max_bytes
        );
        if let Some(listener) = &grpc {
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let _ = writeln!(
                out,
                "  OTLP/gRPC  {addr}  OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr}"
            );
        }
        if let Some(listener) = &http {
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let _ = writeln!(
                out,
                "  OTLP/HTTP  {addr}  OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr}"
            );
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
        drop(stdout);

        let mut tasks = Vec::new();
        if let Some(listener) = grpc {
            tasks.push(tokio::spawn(serve_grpc(listener, store.clone())));
        }
        if let Some(listener) = http {
            tasks.push(tokio::spawn(serve_http(listener, store)));
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

struct Grpc {
    store: Store,
}

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.store
            .append(request.get_ref(), "OTLP/gRPC")
            .map_err(tonic::Status::unavailable)?;
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

async fn serve_grpc(listener: tokio::net::TcpListener, store: Store) {
    let service = TraceServiceServer::new(Grpc { store })
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .max_decoding_message_size(MAX_BODY);
    // tonic skips a failed `accept` and accepts again at once: the same
    // pause as for OTLP/HTTP. (Its `tokio_stream` re-export, so as not to
    // depend on the crate for `then`.)
    use tonic::codegen::tokio_stream::StreamExt as _;
    let incoming =
        tonic::transport::server::TcpIncoming::from(listener).then(|accepted| async move {
            if let Err(error) = &accepted {
                let _ = writeln!(
                    std::io::stderr(),
                    "tracelink receive: accepting an OTLP/gRPC connection failed: {error}"
                );
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
            accepted
        });
    let result = tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming(incoming)
        .await;
    if let Err(error) = result {
        let _ = writeln!(
            std::io::stderr(),
            "tracelink receive: the OTLP/gRPC server stopped: {error}"
        );
    }
}

async fn serve_http(listener: tokio::net::TcpListener, store: Store) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "tracelink receive: accepting an OTLP/HTTP connection failed: {error}"
                );
                // Out of file descriptors (EMFILE), say: accepting again at
                // once would fail again at once, in a busy loop. Wait for
                // connections to close.
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let store = store.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let store = store.clone();
                async move { Ok::<_, Infallible>(handle_http(&store, request).await) }
            });
            // An error here is the client going away.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn response(status: StatusCode, body: Vec<u8>) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

fn error(status: StatusCode, message: String) -> hyper::Response<Full<Bytes>> {
    // gRPC codes: INVALID_ARGUMENT for bad data, UNAVAILABLE otherwise.
    let code = if status.is_client_error() { 3 } else { 14 };
    response(status, RpcStatus { code, message }.encode_to_vec())
}

/// `POST /v1/traces` with an `application/x-protobuf` body, gzip or not.
async fn handle_http(
    store: &Store,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    if parts.uri.path() != "/v1/traces" {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "tracelink receive takes traces at POST /v1/traces, not {}",
                parts.uri.path()
            ),
        );
    }
    if parts.method != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, "use POST".into());
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
    };
    match header("content-type").as_deref() {
        Some("application/x-protobuf" | "application/protobuf") => {}
        Some("application/json") => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "tracelink receive takes OTLP/HTTP with protobuf bodies: set \
                 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf (or grpc)"
                    .into(),
            )
        }
        other => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content-type {other:?}: expected application/x-protobuf"),
            )
        }
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return error(StatusCode::PAYLOAD_TOO_LARGE, format!("the body: {e}")),
    };
    let bytes = match header("content-encoding").as_deref() {
        None | Some("identity") => body.to_vec(),
        Some("gzip") => {
            let mut out = Vec::new();
            let decoder = flate2::read::GzDecoder::new(&body[..]);
            match decoder.take(MAX_BODY as u64 + 1).read_to_end(&mut out) {
                Ok(n) if n > MAX_BODY => {
                    return error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the body is larger than 20 MiB".into(),
                    )
                }
                Ok(_) => out,
                Err(e) => return error(StatusCode::BAD_REQUEST, format!("gzip: {e}")),
            }
        }
        Some(other) => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content-encoding {other:?}: expected gzip or none"),
            )
        }
    };
    let request = match ExportTraceServiceRequest::decode(&bytes[..]) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("not an ExportTraceServiceRequest: {e}"),
            )
        }
    };
    match store.append(&request, "OTLP/HTTP") {
        Ok(()) => response(
            StatusCode::OK,
            ExportTraceServiceResponse::default().encode_to_vec(),
        ),
        Err(message) => error(StatusCode::SERVICE_UNAVAILABLE, message),
    }
}
