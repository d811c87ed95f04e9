//! OTLP/HTTP: `POST /v1/traces` and `POST /v1/logs` with a protobuf body,
//! gzip or not, over HTTP/1.1; both on one path, told apart by their
//! [`Kind`] alone.
//!
//! A request's claim on the budget is taken from its `content-length`
//! before its body is read (and as it arrives without one): a request that
//! does not fit is answered 429 at once when it asked to go on
//! (`expect: 100-continue`), else once its body is read and dropped, so
//! the client reads the answer rather than a reset connection.

use std::io::Read;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Incoming};
use hyper::{Method, StatusCode};
use prost::Message;
use tokio::time::Instant;

use super::limits::{self, Claim, Refused, BODY_TIMEOUT, IDLE_TIMEOUT};
use super::signal::Kind;
use super::split::Failed;
use super::{busy_message, busy_status, ExportResponse, RpcStatus, State};

type Response = hyper::Response<Full<Bytes>>;

/// Decompressed a step at a time, each claimed before it is taken.
const GUNZIP_STEP: usize = 256 << 10;

pub(super) async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .max_headers(64);
    loop {
        let stream = limits::accept(&listener, "OTLP/HTTP").await;
        let Some(admitted) = state.connections.admit().await else {
            return;
        };
        let service = admitted.service(&state, handle);
        let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        tokio::spawn(admitted.hold(connection));
    }
}

/// The head of an answer: its status, a protobuf body.
fn head(status: StatusCode) -> hyper::http::response::Builder {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-protobuf")
}

/// `builder` with `body`.
fn finish(builder: hyper::http::response::Builder, body: Vec<u8>) -> Response {
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

/// An error answer: a `google.rpc.Status` with the gRPC code that goes
/// with `status`.
fn error(status: StatusCode, message: String) -> Response {
    let code = match status {
        StatusCode::REQUEST_TIMEOUT => 4,
        StatusCode::PAYLOAD_TOO_LARGE => 11,
        StatusCode::SERVICE_UNAVAILABLE => 14,
        _ => 3,
    };
    let body = RpcStatus {
        code,
        message,
        details: Vec::new(),
    }
    .encode_to_vec();
    let mut builder = head(status);
    if matches!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    ) {
        // What is left of the body is not read.
        builder = builder.header("connection", "close");
    }
    finish(builder, body)
}

/// 429, with `Retry-After` and a `RetryInfo`.
fn busy(state: &State) -> Response {
    let body = busy_status(busy_message(&state.budget)).encode_to_vec();
    let builder = head(StatusCode::TOO_MANY_REQUESTS)
        .header("retry-after", limits::RETRY_AFTER.as_secs().to_string());
    finish(builder, body)
}

fn too_large(state: &State) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the body is larger than {} bytes, the most tracelink receive takes",
            state.max_body()
        ),
    )
}

/// Why a body was not read whole.
enum Unread {
    Refused(Refused),
    TooLarge,
    Timeout,
    Client(String),
}

/// `POST /v1/traces` or `POST /v1/logs` with an `application/x-protobuf`
/// body, gzip or not.
async fn handle(state: Arc<State>, request: hyper::Request<Incoming>) -> Response {
    let state = &state;
    let deadline = Instant::now() + BODY_TIMEOUT;
    let (parts, mut body) = request.into_parts();
    let Some(kind) = Kind::of_http_path(parts.uri.path()) else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "tracelink receive takes traces at POST {} and logs at POST {}, not {}",
                Kind::Traces.http_path(),
                Kind::Logs.http_path(),
                parts.uri.path()
            ),
        );
    };
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
    let gzip = match header("content-encoding").as_deref() {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content-encoding {other:?}: expected gzip or none"),
            )
        }
    };
    let asked_to_go_on = header("expect").as_deref() == Some("100-continue");
    let max = state.max_body();
    let length = body.size_hint().exact();
    if length.is_some_and(|len| len > max as u64) {
        return too_large(state);
    }
    let claim = state.budget.claim();
    let read = match claim.grow(length.unwrap_or(0) as usize) {
        Ok(()) => read(&mut body, &claim, max, length, deadline).await,
        Err(refused) => Err(Unread::Refused(refused)),
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(Unread::Refused(Refused::Busy)) => {
            drop(claim);
            if !asked_to_go_on {
                drain(&mut body, deadline).await;
            }
            return busy(state);
        }
        Err(Unread::Refused(Refused::TooLarge) | Unread::TooLarge) => return too_large(state),
        Err(Unread::Timeout) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            )
        }
        Err(Unread::Client(e)) => return error(StatusCode::BAD_REQUEST, format!("the body: {e}")),
    };
    let store = state.store.clone();
    let done = tokio::task::spawn_blocking(move || {
        let bytes = if gzip {
            let decompressed = gunzip(&bytes, &claim, max)?;
            let compressed = bytes.capacity();
            drop(bytes);
            claim.shrink(compressed);
            decompressed
        } else {
            bytes
        };
        let stored = store
            .append(kind, &bytes, "OTLP/HTTP")
            .map_err(Stored::Failed);
        // Held until the lines are written.
        drop(claim);
        stored
    })
    .await;
    match done {
        Ok(Ok(())) => finish(
            head(StatusCode::OK),
            ExportResponse::default().encode_to_vec(),
        ),
        Ok(Err(Stored::Busy)) => busy(state),
        Ok(Err(Stored::TooLarge)) => too_large(state),
        Ok(Err(Stored::Gzip(e))) => error(StatusCode::BAD_REQUEST, format!("gzip: {e}")),
        Ok(Err(Stored::Failed(Failed::Decode(e)))) => error(
            StatusCode::BAD_REQUEST,
            format!("not an {}: {e}", kind.request_name()),
        ),
        Ok(Err(Stored::Failed(Failed::Write(e)))) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request failed: {e}"),
        ),
    }
}

/// Why a body that was read was not stored.
enum Stored {
    Busy,
    TooLarge,
    Gzip(std::io::Error),
    Failed(Failed),
}

/// The body, at most `max` bytes, by `deadline`, its buffer claimed before
/// it grows (`length` bytes from `content-length` already are).
async fn read(
    body: &mut Incoming,
    claim: &Claim,
    max: usize,
    length: Option<u64>,
    deadline: Instant,
) -> Result<Vec<u8>, Unread> {
    let mut bytes = Vec::with_capacity(length.unwrap_or(0) as usize);
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(Unread::Timeout),
            Ok(None) => return Ok(bytes),
            Ok(Some(Err(e))) => return Err(Unread::Client(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let needed = bytes.len() + data.len();
        if needed > max {
            return Err(Unread::TooLarge);
        }
        if needed > bytes.capacity() {
            let capacity = needed.max(2 * bytes.capacity()).min(max);
            claim.grow_to(capacity).map_err(Unread::Refused)?;
            bytes.reserve_exact(capacity - bytes.len());
        }
        bytes.extend_from_slice(&data);
    }
}

/// Reads what is left of a refused body, keeping none of it, so the client
/// gets the answer; until `deadline`, or [`super::MAX_BODY`] bytes.
async fn drain(body: &mut Incoming, deadline: Instant) {
    let mut left = super::MAX_BODY;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Some(data) = frame.data_ref() {
            left = left.saturating_sub(data.len());
            if left == 0 {
                return;
            }
        }
    }
}

/// `compressed` decompressed, at most `max` bytes, its buffer claimed (on
/// top of `compressed`, claimed already) before it grows.
fn gunzip(compressed: &[u8], claim: &Claim, max: usize) -> Result<Vec<u8>, Stored> {
    let mut decoder = flate2::read::GzDecoder::new(compressed);
    let mut out = Vec::new();
    loop {
        let room = (max + 1).saturating_sub(out.len()).min(GUNZIP_STEP);
        if room == 0 {
            return Err(Stored::TooLarge);
        }
        if out.capacity() - out.len() < room {
            let capacity = (out.len() + room).max(2 * out.capacity()).min(max + 1);
            claim
                .grow_to(compressed.len() + capacity)
                .map_err(|refused| match refused {
                    Refused::Busy => Stored::Busy,
                    Refused::TooLarge => Stored::TooLarge,
                })?;
            out.reserve_exact(capacity - out.len());
        }
        let n = (&mut decoder)
            .take(room as u64)
            .read_to_end(&mut out)
            .map_err(Stored::Gzip)?;
        if out.len() > max {
            return Err(Stored::TooLarge);
        }
        if n < room {
            return Ok(out);
        }
    }
}
